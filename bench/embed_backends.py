"""Embedding backends compared in one run: speed and retrieval quality against PyTorch fp32.

    .venv/bin/python bench/embed_backends.py [--corpus C.jsonl --questions Q.jsonl]

Ingests the corpus once (PyTorch backend), then for each backend (torch, onnx-fp32,
onnx-int8) embeds every chunk text (chunks/s) and a set of single queries (ms each), writes
the vectors into a store of their own and runs the retrieval evaluation (nDCG@10 of `dense`
and `hybrid`). A backend may become the default only if its hybrid nDCG@10 is within 1% of
PyTorch's and it is faster; the last line says whether that holds for onnx-int8.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

from evaluation.questions import load_questions  # noqa: E402
from evaluation.retrieval import evaluate, percentile  # noqa: E402
from ingest.pipeline import embedding_text  # noqa: E402
from ingest.sources import expand  # noqa: E402
from knowledge.embed import MiniLMEmbedder  # noqa: E402
from knowledge.embed_onnx import OnnxMiniLMEmbedder  # noqa: E402
from knowledge.protocols import Embedder  # noqa: E402
from knowledge.retrieve import Retriever  # noqa: E402
from knowledge.store import DocumentWrite, KnowledgeStore  # noqa: E402
from knowledge.vector_chroma import ChromaVectorStore  # noqa: E402
from service.lock import DataDirLock  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "conditionalqa"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DATA / "corpus.jsonl")
    parser.add_argument("--questions", type=Path, default=DATA / "questions.dev.jsonl")
    args = parser.parse_args()
    questions = load_questions(args.questions)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        with DataDirLock(settings.data_dir, "bench/embed_backends.py"):
            runtime = Runtime(settings)
            runtime.ensure_tenant("bench")
            with runtime.ingestor("bench") as ingestor:
                ingestor.run("bench", list(expand([args.corpus])))
            source = runtime.store("bench")
            documents = [
                (doc, source.document_chunks("bench", doc.document_id))
                for doc in source.list_documents("bench")
            ]
            runtime.close()
        texts = [embedding_text(doc.title, c) for doc, chunks in documents for c in chunks]
        backends: dict[str, Embedder] = {
            "torch": MiniLMEmbedder(threads=1),
            "onnx-fp32": OnnxMiniLMEmbedder(Path(tmp) / "models", "fp32"),
            "onnx-int8": OnnxMiniLMEmbedder(Path(tmp) / "models", "int8"),
        }
        summary: dict[str, dict[str, float]] = {}
        for name, embedder in backends.items():
            embedder.warm_up()
            started = time.perf_counter()
            vectors = embedder.embed(texts)
            rate = len(texts) / (time.perf_counter() - started)
            single = []
            for question in questions[:50]:
                started = time.perf_counter()
                embedder.embed([question.query.text])
                single.append((time.perf_counter() - started) * 1000)
            store = KnowledgeStore(
                Path(tmp) / name / "k.db", ChromaVectorStore(Path(tmp) / name / "chroma")
            )
            offset = 0
            items = []
            for doc, chunks in documents:
                mine = vectors[offset : offset + len(chunks)]
                offset += len(chunks)
                items.append(
                    (
                        DocumentWrite(
                            doc.document_id, doc.title, doc.source, doc.doc_type, doc.content_hash
                        ),
                        chunks,
                        mine,
                    )
                )
            store.write_many("bench", items)
            report = evaluate(
                Retriever(store, embedder), "bench", questions, methods=("dense", "hybrid")
            )
            methods = report["methods"]
            assert isinstance(methods, dict)
            summary[name] = {
                "chunks_per_s": rate,
                "query_p50_ms": percentile(single, 0.5),
                "dense_ndcg": methods["dense"]["ndcg@10"],
                "hybrid_ndcg": methods["hybrid"]["ndcg@10"],
            }
            store.close()
            s = summary[name]
            print(
                f"{name:<10} {s['chunks_per_s']:7.1f} chunks/s  query p50 "
                f"{s['query_p50_ms']:6.1f} ms  dense nDCG@10 {s['dense_ndcg']:.3f}  "
                f"hybrid nDCG@10 {s['hybrid_ndcg']:.3f}",
                flush=True,
            )
    base, candidate = summary["torch"], summary["onnx-int8"]
    speedup = candidate["chunks_per_s"] / base["chunks_per_s"]
    quality = candidate["hybrid_ndcg"] / base["hybrid_ndcg"]
    print(f"onnx-int8 vs torch: speed x{speedup:.2f}, hybrid nDCG@10 x{quality:.4f}")
    print(f"int8_may_be_default={quality >= 0.99 and speedup > 1.0}")


if __name__ == "__main__":
    main()
