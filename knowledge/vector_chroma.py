"""VectorStore on an embedded Chroma PersistentClient: one collection per tenant.

Chroma's embedded client is not safe for several writing processes; the service's lock file
makes sure one process owns a data directory. Vectors are always passed in, so Chroma never
tries to download its default embedding model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from knowledge.records import Chunk, ScoredId
from knowledge.tenancy import partition_name

_PAGE = 5000


class ChromaVectorStore:
    """VectorStore with a Chroma collection `t_<tenant>` per tenant (cosine space)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._client: Any = None

    def warm_up(self) -> None:
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            self._path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(
                path=str(self._path),
                settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
            )

    def _collection(self, tenant: str, create: bool = True) -> Any:
        self.warm_up()
        name = "t_" + partition_name(tenant)
        if create:
            return self._client.get_or_create_collection(
                name=name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        try:
            return self._client.get_collection(name=name, embedding_function=None)
        except Exception:  # chroma raises NotFoundError/ValueError depending on version
            return None

    def add(self, tenant: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        if not chunks:
            return
        collection = self._collection(tenant)
        for start in range(0, len(chunks), _PAGE):
            part = chunks[start : start + _PAGE]
            collection.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=[list(v) for v in vectors[start : start + _PAGE]],
                metadatas=[
                    {"document_id": c.document_id, "version": c.version, "ordinal": c.ordinal}
                    for c in part
                ],
            )

    def delete_version(self, tenant: str, document_id: str, version: int) -> None:
        collection = self._collection(tenant, create=False)
        if collection is None:
            return
        collection.delete(where={"$and": [{"document_id": document_id}, {"version": version}]})

    def query(self, tenant: str, vector: Sequence[float], k: int) -> list[ScoredId]:
        collection = self._collection(tenant, create=False)
        if collection is None or k <= 0:
            return []
        result = collection.query(
            query_embeddings=[list(vector)], n_results=k, include=["distances"]
        )
        ids = result["ids"][0]
        distances = result["distances"][0]
        # Cosine distance is 1 - cosine similarity.
        return [
            ScoredId(chunk_id=i, score=1.0 - float(d)) for i, d in zip(ids, distances, strict=True)
        ]

    def ids(self, tenant: str) -> set[str]:
        collection = self._collection(tenant, create=False)
        if collection is None:
            return set()
        found: set[str] = set()
        offset = 0
        while True:
            page = collection.get(include=[], limit=_PAGE, offset=offset)
            found.update(page["ids"])
            if len(page["ids"]) < _PAGE:
                return found
            offset += _PAGE

    def drop_tenant(self, tenant: str) -> None:
        if self._collection(tenant, create=False) is not None:
            self._client.delete_collection("t_" + partition_name(tenant))
