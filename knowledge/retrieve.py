"""Hybrid retrieval: BM25 and dense rankings fused by reciprocal rank (RRF).

Scores are in [0, 1] and mean, per method:
- `dense`: cosine similarity of query and chunk embeddings, clipped at 0;
- `bm25`: s / (s + 10) for the FTS5 BM25 score s (a saturating map: 0.5 at s = 10);
- `hybrid`: the fused RRF score divided by the best score a result could get (ranked
  first by every list), so 1.0 means "first everywhere".
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from knowledge.protocols import Embedder
from knowledge.query import Query, ResolvedQuery, resolve
from knowledge.records import Chunk, ScoredChunk, ScoredId
from knowledge.store import KnowledgeStore
from knowledge.tenancy import validate_tenant

Method = Literal["bm25", "dense", "hybrid"]
METHODS: tuple[Method, ...] = ("bm25", "dense", "hybrid")
DEFAULT_METHOD: Method = "hybrid"


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
        lists: list[list[ScoredId]] = []
        if method in ("bm25", "hybrid"):
            lists.append(
                [
                    ScoredId(h.chunk_id, h.score / (h.score + 10.0))
                    for h in self._store.keyword_search(tenant, resolved.full, depth)
                ]
            )
        if method in ("dense", "hybrid"):
            vector = self._embedder.embed([resolved.full])[0]
            lists.append(
                [
                    ScoredId(h.chunk_id, max(0.0, h.score))
                    for h in self._store.vectors.query(tenant, vector, depth)
                ]
            )
        ranked = self._fuse(lists) if method == "hybrid" else lists[0]
        chunks = self._materialise(tenant, ranked, filters)
        documents = _documents(chunks)
        elapsed = (time.perf_counter() - started) * 1000
        return SearchResult(chunks[:k], documents[:k], resolved, method, elapsed)

    def _fuse(self, lists: Sequence[list[ScoredId]]) -> list[ScoredId]:
        scores: dict[str, float] = {}
        for hits in lists:
            for rank, hit in enumerate(hits):
                scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + 1.0 / (
                    self._rrf_k + rank + 1
                )
        best = len(lists) / (self._rrf_k + 1)
        fused = [ScoredId(cid, s / best) for cid, s in scores.items()]
        return sorted(fused, key=lambda h: -h.score)

    def _materialise(
        self, tenant: str, ranked: list[ScoredId], filters: Filters | None
    ) -> list[ScoredChunk]:
        found = self._store.chunks(tenant, [h.chunk_id for h in ranked])
        documents: dict[str, tuple[str, list[str]]] = {}  # id -> (type, tags)
        out: list[ScoredChunk] = []
        for hit in ranked:
            chunk = found.get(hit.chunk_id)
            if chunk is None:  # not visible (a write in progress or retired)
                continue
            if filters and filters.active() and not self._admits(tenant, chunk, filters, documents):
                continue
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


def _documents(chunks: list[ScoredChunk]) -> list[ScoredDocument]:
    """Documents in the order of their best chunk (a document scores as its best chunk)."""
    seen: dict[str, ScoredDocument] = {}
    for scored in chunks:
        doc_id = scored.chunk.document_id
        if doc_id not in seen:
            seen[doc_id] = ScoredDocument(doc_id, scored.title, scored.score, scored)
    return list(seen.values())
