"""Training and dev examples for the answerability model, found by Clearline's own retrieval.

Each corpus is ingested into a work folder with the production chunking and embedder, so the
model sees the chunks the agent will show it. Training pairs come from
ConditionalQA train only:

- gold: an answerable question with the chunk of its reference page that holds the answer
  (the chunk containing the reference answer, else the one quoting most of its conditions,
  else the page's best-ranked chunk);
- left_out: the same question searched again with its reference page removed from the
  knowledge ("leave the gold out"), its top chunks: on topic, but they cannot answer it;
- same_page: when a chunk of the reference page quotes the reference answer, the page's
  best-ranked chunk that does not: the right page, but not the passage that answers (the
  dev sets' unanswerable questions are often asked of a page that covers their topic and
  not their point);
- unanswerable: the questions labelled unanswerable, their top chunks.

Each question's context comes in one of four forms (seeded): as given, the scenario moved
into an earlier user turn, an unrelated earlier exchange before it, or no scenario; the
question's gold and left-out pairs share the form, so the form says nothing about the label.
Dev turns (ConditionalQA dev, mtrag_dev) keep their top retrieved passages; they are used to
choose the checkpoint, the calibration and the threshold, never to train.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.turn import RETRIEVE_K  # as the agent retrieves
from evaluation.questions import Question, load_questions
from ingest.chunk import ChunkingConfig
from ingest.pipeline import Ingestor
from ingest.sources import expand
from knowledge.embed_onnx import OnnxMiniLMEmbedder
from knowledge.query import Query, Turn
from knowledge.records import ScoredChunk
from knowledge.retrieve import Filters, Retriever
from knowledge.store import KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore

logger = logging.getLogger(__name__)

TENANT = "train"
LEFT_OUT_PER_QUESTION = 2
SAME_PAGE_PER_QUESTION = 1
UNANSWERABLE_PER_QUESTION = 3
DEV_PASSAGES = 4
FORMS = ("given", "scenario_as_turn", "unrelated_before", "no_scenario")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Passage:
    document_id: str
    title: str
    text: str


@dataclass(frozen=True)
class Pair:
    query: Query
    passage: Passage
    label: int  # 1: the passage answers the question
    question_id: str
    kind: str  # gold | left_out | same_page | unanswerable


@dataclass(frozen=True)
class DevTurn:
    dataset: str
    question_id: str
    query: Query
    label: int | None  # 1 answerable, 0 unanswerable, None underspecified (not fitted)
    passages: list[Passage]  # the top retrieved, best first


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Knowledge:
    """One corpus, ingested once into `root` (re-ingested when the corpus changes)."""

    def __init__(self, root: Path, corpus: Path, embedder: OnnxMiniLMEmbedder) -> None:
        self._root = root
        self._corpus = corpus
        self._embedder = embedder
        self._store: KnowledgeStore | None = None
        self.document_ids: frozenset[str] = frozenset()

    def open(self) -> None:
        stamp = self._root / "corpus.sha256"
        wanted = f"{sha256(self._corpus)} {ChunkingConfig().signature} {self._embedder.name}"
        fresh = not stamp.exists() or stamp.read_text() != wanted
        if fresh and self._root.exists():
            raise FileExistsError(
                f"'{self._root}' holds another corpus or an unfinished ingest; remove it or "
                "pass another --work folder"
            )
        self._store = KnowledgeStore(
            self._root / "knowledge.db", ChromaVectorStore(self._root / "chroma")
        )
        if fresh:
            logger.info("ingesting %s", self._corpus)
            with Ingestor(self._store, self._embedder) as ingestor:
                results = ingestor.run(TENANT, list(expand([self._corpus])))
            failed = [r.source for r in results if r.status == "failed"]
            if failed:
                raise RuntimeError(f"ingest failed for {len(failed)} records, e.g. {failed[:3]}")
            stamp.write_text(wanted)
        self.document_ids = frozenset(d.document_id for d in self._store.list_documents(TENANT))

    def search(
        self, query: Query, k: int = RETRIEVE_K, only: frozenset[str] | None = None
    ) -> list[ScoredChunk]:
        assert self._store is not None, "open() first"
        filters = Filters(document_ids=only) if only is not None else None
        retriever = Retriever(self._store, self._embedder)
        return retriever.search(TENANT, query, k=k, filters=filters).chunks

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def passage(chunk: ScoredChunk) -> Passage:
    return Passage(chunk.chunk.document_id, chunk.title, chunk.chunk.text)


def _plain(text: str) -> str:
    return _SPACE.sub(" ", text.replace("’", "'").replace("‘", "'").lower()).strip()


def _quotable(answer: str) -> str:
    """The answer as a chunk would quote it, or "" for yes/no and very short answers, which a
    chunk cannot be seen to hold."""
    wanted = _plain(answer)
    return "" if wanted in ("yes", "no") or len(wanted) < 4 else wanted


def answer_chunk(chunks: Sequence[ScoredChunk], answer: str, conditions: Sequence[str]) -> int:
    """Index of the gold page's chunk that holds the answer (see the module docstring)."""
    wanted = _quotable(answer)
    if wanted:
        for i, chunk in enumerate(chunks):
            if wanted in _plain(chunk.chunk.text):
                return i
    quoted = [_plain(c) for c in conditions if len(c) > 10]
    counts = [sum(q in _plain(c.chunk.text) for q in quoted) for c in chunks]
    if counts and max(counts) > 0:
        return counts.index(max(counts))
    return 0


def same_page_negatives(chunks: Sequence[ScoredChunk], answer: str) -> list[ScoredChunk]:
    """The gold page's best-ranked chunks that do not quote the reference answer, when one of
    its chunks does (none when the answer is not `_quotable`)."""
    wanted = _quotable(answer)
    if not wanted:
        return []
    quoted = [wanted in _plain(c.chunk.text) for c in chunks]
    if not any(quoted):
        return []
    return [c for c, q in zip(chunks, quoted, strict=True) if not q][:SAME_PAGE_PER_QUESTION]


def _form(query: Query, form: str, other: Question, other_reply: str) -> Query:
    if form == "scenario_as_turn" and query.scenario:
        turns = (
            Turn("user", query.scenario),
            Turn("assistant", "Thank you. What is your question?"),
        )
        return Query(query.text, turns, "")
    if form == "unrelated_before":
        turns = (Turn("user", other.query.text), Turn("assistant", other_reply))
        return Query(query.text, turns, query.scenario)
    if form == "no_scenario":
        return Query(query.text, (), "")
    return query


def training_pairs(
    knowledge: Knowledge,
    questions: Sequence[Question],
    conditions: dict[str, list[str]],
    seed: int,
) -> list[Pair]:
    """Gold, left-out and unanswerable pairs (module docstring), forms drawn with `seed`."""
    rng = random.Random(seed)
    pairs: list[Pair] = []
    first_sentence: dict[str, str] = {}
    for number, question in enumerate(questions, 1):
        gold = frozenset(question.reference_doc_ids)
        other = questions[rng.randrange(len(questions))]
        form = FORMS[rng.randrange(len(FORMS))]
        query = _form(question.query, form, other, first_sentence.get(other.id, other.query.text))
        if question.answerable is False:
            for chunk in knowledge.search(query)[:UNANSWERABLE_PER_QUESTION]:
                pairs.append(Pair(query, passage(chunk), 0, question.id, "unanswerable"))
            continue
        if not gold:
            continue
        candidates = knowledge.search(question.query, only=gold)
        if candidates:
            answer = question.reference_answer or ""
            found = answer_chunk(candidates, answer, conditions.get(question.id, []))
            best = candidates[found]
            pairs.append(Pair(query, passage(best), 1, question.id, "gold"))
            first_sentence[question.id] = best.chunk.text.split("\n")[0][:300]
            for chunk in same_page_negatives(candidates, answer):
                pairs.append(Pair(query, passage(chunk), 0, question.id, "same_page"))
        others = knowledge.search(query, only=knowledge.document_ids - gold)
        for chunk in others[:LEFT_OUT_PER_QUESTION]:
            pairs.append(Pair(query, passage(chunk), 0, question.id, "left_out"))
        if number % 200 == 0:
            logger.info("training pairs: %d of %d questions", number, len(questions))
    return pairs


def load_conditions(path: Path) -> dict[str, list[str]]:
    """Question id -> `conditions` of a ConditionalQA questions file (not in Question)."""
    out: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                out[str(record.get("id"))] = [str(c) for c in record.get("conditions") or []]
    return out


def dev_turns(knowledge: Knowledge, dataset: str, path: Path, limit: int = 0) -> list[DevTurn]:
    """Each question of a dev set with its top DEV_PASSAGES passages (`limit`: the first N)."""
    turns = []
    for question in load_questions(path)[: limit or None]:
        chunks = knowledge.search(question.query)[:DEV_PASSAGES]
        label = None if question.underspecified else int(question.answerable is not False)
        turns.append(
            DevTurn(dataset, question.id, question.query, label, [passage(c) for c in chunks])
        )
    return turns


TRAIN_FILES = ("conditionalqa/questions.train.jsonl", "conditionalqa/corpus.jsonl")
DEV_SETS = {
    "conditionalqa_dev": ("conditionalqa/questions.dev.jsonl", "conditionalqa/corpus.jsonl"),
    "mtrag_dev": ("mtrag_dev/questions.jsonl", "mtrag_dev/corpus.jsonl"),
}


def examples_key(
    data: Path, embedder: OnnxMiniLMEmbedder, seed: int, limit: int, dev_limit: int
) -> str:
    """Changes with the data files' checksums and every setting that shapes the examples."""
    files = sorted({*TRAIN_FILES, *(f for fs in DEV_SETS.values() for f in fs)})
    return hashlib.sha256(
        repr(
            ([sha256(data / f) for f in files], seed, limit, dev_limit, LEFT_OUT_PER_QUESTION,
             SAME_PAGE_PER_QUESTION, UNANSWERABLE_PER_QUESTION, DEV_PASSAGES, FORMS, embedder.name)
        ).encode()
    ).hexdigest()[:16]  # fmt: skip


def examples(
    data: Path, work: Path, embedder: OnnxMiniLMEmbedder, seed: int, limit: int, dev_limit: int
) -> tuple[list[Pair], list[DevTurn]]:
    """Training pairs and dev turns, searched once and kept in `work` (keyed by the data
    files' checksums and the settings, so changed data is searched again)."""
    key = examples_key(data, embedder, seed, limit, dev_limit)
    cache = work / f"examples-{key}.pickle"
    if cache.exists():
        with cache.open("rb") as handle:
            found: tuple[list[Pair], list[DevTurn]] = pickle.load(handle)
        return found
    stores = {
        "conditionalqa": Knowledge(work / "conditionalqa", data / TRAIN_FILES[1], embedder),
        "mtrag": Knowledge(work / "mtrag", data / DEV_SETS["mtrag_dev"][1], embedder),
    }
    for store in stores.values():
        store.open()
    try:
        train_path = data / TRAIN_FILES[0]
        questions = load_questions(train_path)[: limit or None]
        pairs = training_pairs(
            stores["conditionalqa"], questions, load_conditions(train_path), seed
        )
        dev = [
            turn
            for name, store in (("conditionalqa_dev", "conditionalqa"), ("mtrag_dev", "mtrag"))
            for turn in dev_turns(stores[store], name, data / DEV_SETS[name][0], dev_limit)
        ]
    finally:
        for store in stores.values():
            store.close()
    with cache.open("wb") as handle:
        pickle.dump((pairs, dev), handle)
    return pairs, dev
