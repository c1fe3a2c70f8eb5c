"""Retrieval latency of the default method at ~10k and ~100k chunks, against the floor.

    .venv/bin/python bench/query.py [--sizes 10000 100000] [--queries 60] [--synthetic]
                                    [--embedder onnx-int8|onnx-fp32|torch]

For each size, fills a fresh store with chunks made of real sentences (drawn at random from
../shared/data/conditionalqa/corpus.jsonl, so keyword posting lists look like real text; with
--synthetic or without that file, Zipf-distributed made-up words) and random unit vectors (so
the vector index does real work without embedding 100k texts), then times, for the same real
questions with their scenarios (or synthetic ones) in the same run:
- the default method (`Retriever.search`, hybrid: embed the query, BM25 + dense, fuse,
  read the chunks back), and
- the floor: embedding the query (question + context) plus a bare vector search (k = 10).
Every other question is asked as a follow-up (the previous question as an earlier user
turn), which makes hybrid embed the conversation and the current turn (one batch of two).
The embedder is the service's default unless --embedder says otherwise. It prints p50/p95
for both and the ratios; the last line is `p95_ratio_at_<largest size>`.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

import numpy as np  # noqa: E402

from knowledge.query import Query, Turn, resolve  # noqa: E402
from knowledge.records import Chunk  # noqa: E402
from knowledge.retrieve import DEFAULT_METHOD, Retriever  # noqa: E402
from knowledge.store import DocumentWrite, KnowledgeStore  # noqa: E402
from knowledge.vector_chroma import ChromaVectorStore  # noqa: E402
from service.runtime import build_embedder  # noqa: E402
from service.settings import Settings  # noqa: E402

CHUNKS_PER_DOC = 10
DATA = ROOT.parent / "shared" / "data" / "conditionalqa"
_TAGS = re.compile(r"<[^>]+>")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _plain(markup: str) -> str:
    return html.unescape(_TAGS.sub(" ", markup))


class Text:
    """Makes chunk texts and queries: real sentences when available, else Zipf words."""

    def __init__(self, rng: random.Random, synthetic: bool) -> None:
        self.rng = rng
        corpus, questions = DATA / "corpus.jsonl", DATA / "questions.dev.jsonl"
        self.real = not synthetic and corpus.exists() and questions.exists()
        if self.real:
            self.sentences = [
                sentence.strip()
                for line in corpus.read_text().splitlines()
                for sentence in _SENTENCE.split(_plain(json.loads(line)["html"]))
                if len(sentence.split()) > 3
            ]
            self.questions = [json.loads(line) for line in questions.read_text().splitlines()]
        else:
            self.words = vocabulary(20_000, rng)
            self.weights = [1 / (rank + 1) for rank in range(len(self.words))]  # Zipf

    def chunk(self) -> str:
        if self.real:
            return " ".join(self.rng.choices(self.sentences, k=6))
        return sentence(self.words, self.weights, self.rng, 120)

    def query(self, index: int) -> Query:
        if self.real:
            row = self.questions[index % len(self.questions)]
            query = Query(row["question"], scenario=row.get("scenario") or "")
        else:
            query = Query(
                sentence(self.words, self.weights, self.rng, 12),
                scenario=sentence(self.words, self.weights, self.rng, 40),
            )
        if index % 2:  # a follow-up: the previous question came first
            earlier = self.query(index - 1).text
            history = (Turn("user", earlier), Turn("assistant", "Here is what I found."))
            query = Query(query.text, history=history, scenario=query.scenario)
        return query


def vocabulary(size: int, rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(size)}
    return sorted(words)


def sentence(words: list[str], weights: list[float], rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(words, weights=weights, k=n))


def fill(
    store: KnowledgeStore, target: int, text: Text, np_rng: np.random.Generator, start: int
) -> int:
    """Add documents until the tenant holds `target` chunks; returns the count added."""
    added = 0
    doc = start
    while start * CHUNKS_PER_DOC + added < target:
        items = []
        for _ in range(100):
            chunks = [Chunk(f"doc-{doc}", 0, i, text.chunk()) for i in range(CHUNKS_PER_DOC)]
            vectors = np_rng.standard_normal((CHUNKS_PER_DOC, 384)).astype("float32")
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            items.append(
                (
                    DocumentWrite(f"doc-{doc}", f"Document {doc}", "bench", "txt", f"h{doc}"),
                    chunks,
                    vectors.tolist(),
                )
            )
            doc += 1
            added += CHUNKS_PER_DOC
        store.write_many("bench", items)
    return added


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--synthetic", action="store_true", help="made-up words, not real text")
    parser.add_argument(
        "--embedder", choices=["onnx-int8", "onnx-fp32", "torch"], default=Settings().embedder
    )
    args = parser.parse_args()
    np_rng = np.random.default_rng(7)
    text = Text(random.Random(7), args.synthetic)
    print(f"text: {'real sentences and questions' if text.real else 'synthetic Zipf words'}")
    queries = [text.query(i) for i in range(args.queries)]
    last_ratio = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        embedder = build_embedder(Settings(data_dir=Path(tmp), embedder=args.embedder))
        embedder.embed(["warm up"])
        print(f"embedder: {args.embedder}")
        store = KnowledgeStore(Path(tmp) / "k.db", ChromaVectorStore(Path(tmp) / "chroma"))
        retriever = Retriever(store, embedder)
        have = 0
        for size in sorted(args.sizes):
            started = time.perf_counter()
            have += fill(store, size, text, np_rng, have // CHUNKS_PER_DOC)
            print(f"filled {have} chunks in {time.perf_counter() - started:.0f} s", flush=True)
            for query in queries[:5]:  # warm caches
                retriever.search("bench", query)
            full, floor = [], []
            for query in queries:
                started = time.perf_counter()
                retriever.search("bench", query, k=10, method=DEFAULT_METHOD)
                full.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                vector = embedder.embed([resolve(query).full])[0]
                store.vectors.query("bench", vector, 10)
                floor.append((time.perf_counter() - started) * 1000)
            last_ratio = pct(full, 95) / pct(floor, 95)
            print(
                f"{have} chunks: {DEFAULT_METHOD} p50 {pct(full, 50):.1f} ms p95 "
                f"{pct(full, 95):.1f} ms | floor p50 {pct(floor, 50):.1f} ms p95 "
                f"{pct(floor, 95):.1f} ms | ratio p50 {pct(full, 50) / pct(floor, 50):.2f} "
                f"p95 {last_ratio:.2f}",
                flush=True,
            )
        store.close()
    print(f"p95_ratio_at_{max(args.sizes)}={last_ratio:.2f}")


if __name__ == "__main__":
    main()
