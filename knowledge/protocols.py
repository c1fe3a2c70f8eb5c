"""The boundaries of the knowledge store, as small Protocols.

Each has one embedded implementation and an in-memory fake (knowledge.testing); both pass
the contract tests in tests/knowledge/test_contracts.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from knowledge.records import Chunk, ScoredId


class Embedder(Protocol):
    """Turns texts into unit-length vectors of a fixed dimension."""

    @property
    def dimension(self) -> int: ...

    @property
    def name(self) -> str: ...

    def warm_up(self) -> None: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def count_tokens(self, text: str) -> int: ...


class VectorStore(Protocol):
    """Per-tenant collections of chunk vectors; a tenant never sees another's vectors."""

    def add(self, tenant: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Insert or overwrite vectors by chunk id (idempotent)."""
        ...

    def delete_version(self, tenant: str, document_id: str, version: int) -> None:
        """Remove every vector of one version of a document (no-op if none)."""
        ...

    def query(self, tenant: str, vector: Sequence[float], k: int) -> list[ScoredId]:
        """The k nearest chunk ids, cosine similarity, best first."""
        ...

    def ids(self, tenant: str) -> set[str]: ...

    def count(self, tenant: str) -> int:
        """How many vectors the tenant has (cheap: `ids` lists them all)."""
        ...

    def drop_tenant(self, tenant: str) -> None: ...

    def tenants(self) -> set[str]:
        """Every tenant that has a collection (possibly empty)."""
        ...

    def rebuild(
        self,
        keep: Callable[[str, str, str, int], bool],
        fresh: Mapping[str, Mapping[str, Sequence[float]]],
    ) -> None:
        """Rewrite every tenant's vectors into fresh storage, keeping those for which
        `keep(tenant, chunk_id, document_id, version)` holds, with `fresh[tenant][chunk_id]`
        replacing a stored vector; nothing of the dropped or replaced vectors remains."""
        ...


class KeywordIndex(Protocol):
    """Per-tenant BM25 keyword index over chunk texts."""

    def add(self, tenant: str, chunks: Sequence[Chunk]) -> None: ...

    def delete(self, tenant: str, chunk_ids: Sequence[str]) -> None: ...

    def search(self, tenant: str, query: str, k: int) -> list[ScoredId]:
        """The k best chunk ids by BM25, best first (higher score is better)."""
        ...

    def ids(self, tenant: str) -> set[str]: ...
