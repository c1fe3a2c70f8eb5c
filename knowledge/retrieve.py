"""Retrieval: BM25 and dense search, and two ways of fusing them.

Scores are in [0, 1] and mean, per method:
- `dense`: cosine similarity of query and chunk embeddings, clipped at 0;
- `bm25`: s / (s + 10) for the FTS5 BM25 score s (a saturating map: 0.5 at s = 10);
- `rrf`: reciprocal rank fusion (k = 60) of the two, divided by the best score a result
  could get, so 1.0 means "first in both lists" (the plain reference fusion);
- `hybrid` (the default): a weighted mean of each list's min-max-normalised scores, each
  list weighted by how clearly its best result stands out from the next nine (see
  `combine`), so 1.0 again means "top of both lists". Unlike RRF it keeps how far apart
  the scores are, and a method that cannot separate its results for this query (dense
  search over tables, keyword search on a vague follow-up) counts less. Its dense query
  adds the current turn's own embedding (question + scenario) to the whole
  conversation's, so an earlier, different topic does not pull the results away from
  what is asked now.

A passage whose text is the same as a better-ranked one's (a document that repeats a
section under several headings) is left out, so the passages read are distinct.

docs/benchmarks.md has the measurements behind both choices (ConditionalQA dev, with the
scenario given, moved into the history, and behind an unrelated earlier turn).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np

from knowledge.protocols import Embedder
from knowledge.query import Query, ResolvedQuery, resolve
from knowledge.records import Chunk, ScoredChunk, ScoredId
from knowledge.store import KnowledgeStore
from knowledge.tenancy import validate_tenant

Method = Literal["bm25", "dense", "rrf", "hybrid"]
METHODS: tuple[Method, ...] = ("bm25", "dense", "rrf", "hybrid")
DEFAULT_METHOD: Method = "hybrid"
# Fused methods run their keyword search here while the query is embedded.
_KEYWORD_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="keyword-search")
CURRENT_TURN_WEIGHT = 1.0  # hybrid's dense query: the conversation + this turn alone


@dataclass(frozen=True)
class Filters:
    """Restrict results to some documents, document types or tags (None = no limit)."""

    document_ids: frozenset[str] | None = None
    doc_types: frozenset[str] | None = None
    tags: frozenset[str] | None = None

    def active(self) -> bool:
        return any(v is not None for v in (self.document_ids, self.doc_types, self.tags))


@dataclass(frozen=True)
class ScoredDocument:
    document_id: str
    title: str
    score: float
    best_chunk: ScoredChunk


@dataclass(frozen=True)
class SearchResult:
    chunks: list[ScoredChunk]
    documents: list[ScoredDocument]
    resolved: ResolvedQuery
    method: Method
    elapsed_ms: float


class Retriever:
    """Searches one tenant's knowledge with the method asked for.

    >>> retriever = Retriever(store, embedder)
    >>> retriever.search("northwind", Query("How do I return shoes?"), k=5).documents
    """

    def __init__(
        self, store: KnowledgeStore, embedder: Embedder, depth: int = 100, rrf_k: int = 60
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._depth = depth
        self._rrf_k = rrf_k

    def search(
        self,
        tenant: str,
        query: Query,
        k: int = 10,
        method: Method = DEFAULT_METHOD,
        filters: Filters | None = None,
    ) -> SearchResult:
        started = time.perf_counter()
        validate_tenant(tenant)
        resolved = resolve(query)
        depth = self._depth * (5 if filters and filters.active() else 1)
        keyword: list[ScoredId] = []
        dense: list[ScoredId] = []
        pending: Future[list[ScoredId]] | None = None
        # Keyword lists hold raw FTS5 BM25 scores, dense lists cosines; both best first.
        if method == "bm25":
            keyword = self._store.keyword_search(tenant, resolved.full, depth)
        elif method != "dense":  # SQLite and the embedder release the GIL: search meanwhile
            pending = _KEYWORD_POOL.submit(self._store.keyword_search, tenant, resolved.full, depth)
        if method != "bm25":
            vector = self._query_vector(resolved, turn_weighted=method == "hybrid")
            dense = self._store.vectors.query(tenant, vector, depth)
        if pending is not None:
            keyword = pending.result()
        if method == "hybrid":
            ranked = combine([keyword, dense])
        elif method == "rrf":
            ranked = reciprocal_rank_fusion([keyword, dense], self._rrf_k)
        elif method == "bm25":
            ranked = [ScoredId(h.chunk_id, h.score / (h.score + 10.0)) for h in keyword]
        else:
            ranked = [ScoredId(h.chunk_id, max(0.0, h.score)) for h in dense]
        chunks = self._materialise(tenant, ranked, filters)
        documents = _documents(chunks)
        elapsed = (time.perf_counter() - started) * 1000
        return SearchResult(chunks[:k], documents[:k], resolved, method, elapsed)

    def _query_vector(self, resolved: ResolvedQuery, turn_weighted: bool) -> list[float]:
        """The whole conversation's embedding; turn-weighted, plus CURRENT_TURN_WEIGHT x
        this turn's own (one batch), renormalised. Without history the two are the same."""
        if not turn_weighted or not resolved.has_history:
            return list(self._embedder.embed([resolved.full])[0])
        whole, current = self._embedder.embed([resolved.full, resolved.current])
        mixed = np.asarray(whole, dtype=np.float64) + CURRENT_TURN_WEIGHT * np.asarray(
            current, dtype=np.float64
        )
        norm = float(np.linalg.norm(mixed))
        return [float(x) for x in (mixed / norm if norm else mixed)]

    def _materialise(
        self, tenant: str, ranked: list[ScoredId], filters: Filters | None
    ) -> list[ScoredChunk]:
        found = self._store.chunks(tenant, [h.chunk_id for h in ranked])
        documents: dict[str, tuple[str, list[str]]] = {}  # id -> (type, tags)
        out: list[ScoredChunk] = []
        texts: set[str] = set()
        for hit in ranked:
            chunk = found.get(hit.chunk_id)
            if chunk is None:  # not visible (a write in progress or retired)
                continue
            if filters and filters.active() and not self._admits(tenant, chunk, filters, documents):
                continue
            text = " ".join(chunk.text.split())
            if text in texts:  # the same passage again (a section repeated): no new reading
                continue
            texts.add(text)
            title = str(chunk.metadata.get("title", chunk.document_id))
            out.append(ScoredChunk(chunk=chunk, score=min(1.0, hit.score), title=title))
        return out

    def _admits(
        self,
        tenant: str,
        chunk: Chunk,
        filters: Filters,
        cache: dict[str, tuple[str, list[str]]],
    ) -> bool:
        if filters.document_ids is not None and chunk.document_id not in filters.document_ids:
            return False
        if chunk.document_id not in cache:
            record = self._store.get(tenant, chunk.document_id)
            tags = record.metadata.get("tags", []) if record else []
            cache[chunk.document_id] = (
                record.doc_type if record else "",
                [str(t) for t in tags] if isinstance(tags, list) else [str(tags)],
            )
        doc_type, tags = cache[chunk.document_id]
        if filters.doc_types is not None and doc_type not in filters.doc_types:
            return False
        return filters.tags is None or bool(filters.tags & set(tags))


def reciprocal_rank_fusion(lists: Sequence[list[ScoredId]], k: int = 60) -> list[ScoredId]:
    """Sum of 1 / (k + rank) over the lists, over the best possible sum (1.0 = first in all)."""
    scores: dict[str, float] = {}
    for hits in lists:
        for rank, hit in enumerate(hits):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + 1.0 / (k + rank + 1)
    best = len(lists) / (k + 1)
    return sorted((ScoredId(c, s / best) for c, s in scores.items()), key=lambda h: -h.score)


def combine(lists: Sequence[list[ScoredId]], top: int = 10) -> list[ScoredId]:
    """Confidence-weighted mean of min-max-normalised scores (a list missing a chunk gives 0).

    Each list is normalised over its own results (best 1.0, last 0.0), then weighted by
    how clearly its best result stands out: 1 minus the mean normalised score of its next
    `top - 1`. A method that cannot tell its top results apart (all near 1.0) counts
    little for this query; one with a clear winner counts fully. The sum is divided by the
    weights' sum, so 1.0 means "top of every list that counted".
    """
    normalised: list[tuple[float, dict[str, float]]] = []
    for hits in lists:
        if not hits:
            continue
        high = max(h.score for h in hits)
        low = min(h.score for h in hits)
        span = high - low
        scores = {h.chunk_id: (h.score - low) / span if span > 0 else 1.0 for h in hits}
        runners_up = sorted(scores.values(), reverse=True)[1:top]
        weight = 1.0 - sum(runners_up) / len(runners_up) if runners_up else 1.0
        normalised.append((weight, scores))
    total = sum(weight for weight, _ in normalised)
    if total <= 0:  # every list is flat: count them equally
        normalised = [(1.0, scores) for _, scores in normalised]
        total = float(len(normalised))
    fused: dict[str, float] = {}
    for weight, scores in normalised:
        for chunk_id, value in scores.items():
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight * value / total
    return sorted((ScoredId(c, s) for c, s in fused.items()), key=lambda h: -h.score)


def _documents(chunks: list[ScoredChunk]) -> list[ScoredDocument]:
    """Documents in the order of their best chunk (a document scores as its best chunk)."""
    seen: dict[str, ScoredDocument] = {}
    for scored in chunks:
        doc_id = scored.chunk.document_id
        if doc_id not in seen:
            seen[doc_id] = ScoredDocument(doc_id, scored.title, scored.score, scored)
    return list(seen.values())
