"""VectorStore on an embedded Chroma PersistentClient: one collection per tenant.

Chroma's embedded client is not safe for several writing processes; the service's lock file
makes sure one process owns a data directory. Vectors are always passed in, so Chroma never
tries to download its default embedding model.

Chroma's `delete` is not erasure: deleted vectors stay in its HNSW segment files and its
SQLite log. So the store keeps its files in a *generation* directory (`<root>/g<N>/`, named
by `<root>/CURRENT`; a root without CURRENT is generation 0, the files in the root itself)
and `rebuild` copies what must stay into a fresh generation, switches CURRENT atomically and
removes the old generation's files. Opening the store finishes an interrupted rebuild: any
generation other than the current one is leftover and is removed.

Searches run with HNSW's `ef_search` at SEARCH_EF (Chroma's default is 100). A search for k
results keeps up to max(ef, k) candidates, so in a collection of at most SEARCH_EF vectors
it visits every vector the graph reaches (all of them, in every check so far) and returns
the exact nearest, whatever the graph. Narrower searches were not the same in every
process: Chroma saves its HNSW files every 1,000 vectors (`sync_threshold`), the vectors
added since stay in its log (801 of a 1,800-chunk tenant ingested 20 chunks at a time), and
searches of such a collection differed between processes (1 to 5 of 200 at ef 400), as a
graph rebuilt from the log on open would make them (not traced in Chroma's Rust code). The
retriever's 100th dense hit is the dense list's zero in `knowledge.retrieve.combine`, so an
approximate tail moves hybrid scores and the answerability features read from them. Larger
collections are searched approximately, with more candidates than Chroma's default
(docs/benchmarks.md, "Dense search depth"). Collections made before are set to SEARCH_EF
when first opened.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from knowledge.errors import DamagedVectorIndex
from knowledge.records import Chunk, ScoredId
from knowledge.tenancy import partition_name

logger = logging.getLogger(__name__)

# SQLite's words for a file that is not a database, or a malformed one, in Chroma's errors.
_DAMAGED = re.compile(r"database disk image is malformed|file is not a database")
_PAGE = 5000
_POINTER = "CURRENT"
SEARCH_EF = 2000
_CONFIGURATION: dict[str, Any] = {"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}}


class ChromaVectorStore:
    """VectorStore with a Chroma collection `t_<tenant>` per tenant (cosine space).

    Thread-safe: one lock serialises use of the client, so a rebuild never races a write.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._client: Any = None
        self._generation = ""
        self._lock = threading.RLock()

    def warm_up(self) -> None:
        with self._lock:
            if self._client is None:
                self._path.mkdir(parents=True, exist_ok=True)
                self._generation = _current(self._path)
                _remove_other_generations(self._path, self._generation)
                self._client = _open(self._path / self._generation)

    def _collection(self, tenant: str, create: bool = True) -> Any:
        self.warm_up()
        name = "t_" + partition_name(tenant)
        if create:
            collection = self._client.get_or_create_collection(
                name=name, embedding_function=None, configuration=_CONFIGURATION
            )
        else:
            try:
                collection = self._client.get_collection(name=name, embedding_function=None)
            except Exception:  # chroma raises NotFoundError/ValueError depending on version
                return None
        return _searching_wide(collection)

    def add(self, tenant: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        if not chunks:
            return
        with self._lock:
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
        with self._lock:
            collection = self._collection(tenant, create=False)
            if collection is None:
                return
            collection.delete(where={"$and": [{"document_id": document_id}, {"version": version}]})

    def query(self, tenant: str, vector: Sequence[float], k: int) -> list[ScoredId]:
        with self._lock:
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
        with self._lock:
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

    def count(self, tenant: str) -> int:
        with self._lock:
            collection = self._collection(tenant, create=False)
            return 0 if collection is None else int(collection.count())

    def drop_tenant(self, tenant: str) -> None:
        with self._lock:
            if self._collection(tenant, create=False) is not None:
                self._client.delete_collection("t_" + partition_name(tenant))

    def tenants(self) -> set[str]:
        with self._lock:
            self.warm_up()
            return {_tenant(c) for c in self._client.list_collections()}

    def rebuild(
        self,
        keep: Callable[[str, str, str, int], bool],
        fresh: Mapping[str, Mapping[str, Sequence[float]]],
    ) -> None:
        """Copy every tenant's collection into a fresh generation and delete the old files.

        A vector is copied when `keep(tenant, chunk_id, document_id, version)` is true, with
        the vector in `fresh[tenant][chunk_id]` in place of the stored one if there is one.
        Afterwards no byte of a dropped or replaced vector remains under the store's root.
        """
        with self._lock:
            self.warm_up()
            old = self._generation
            new = _next_generation(self._path)
            target = _open(self._path / new)
            for collection in self._client.list_collections():
                name = _name(collection)
                tenant = _tenant(collection)
                _copy(
                    self._client.get_collection(name=name, embedding_function=None),
                    target.get_or_create_collection(
                        name=name, embedding_function=None, configuration=_CONFIGURATION
                    ),
                    functools.partial(keep, tenant),
                    fresh.get(tenant, {}),
                )
            _close(self._client, self._path / old)
            _close(target, self._path / new)
            self._client = None
            _switch(self._path, new)
            _remove_other_generations(self._path, new)
            self._generation = new
            self._client = _open(self._path / new)
            logger.info("rebuilt vector store %s into generation %s", self._path, new)


def _name(collection: Any) -> str:
    """A collection's name (list_collections gives names or collections, by version)."""
    return str(collection.name if hasattr(collection, "name") else collection)


def _tenant(collection: Any) -> str:
    """The tenant of a collection (its name is "t_" + knowledge.tenancy.partition_name)."""
    return _name(collection).removeprefix("t_").replace("_", "-")


def _searching_wide(collection: Any) -> Any:
    """The collection, its `ef_search` set to SEARCH_EF if it was made with another."""
    hnsw = (collection.configuration_json or {}).get("hnsw") or {}
    if hnsw.get("ef_search") != SEARCH_EF:
        collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
    return collection


def _copy(
    source: Any,
    target: Any,
    keep: Callable[[str, str, int], bool],
    fresh: Mapping[str, Sequence[float]],
) -> None:
    offset = 0
    while True:
        page = source.get(include=["embeddings", "metadatas"], limit=_PAGE, offset=offset)
        ids, kept, vectors, metadatas = page["ids"], [], [], []
        for index, chunk_id in enumerate(ids):
            metadata = page["metadatas"][index] or {}
            if keep(
                chunk_id, str(metadata.get("document_id", "")), int(metadata.get("version", 0))
            ):
                kept.append(chunk_id)
                vectors.append(list(fresh.get(chunk_id, page["embeddings"][index])))
                metadatas.append(metadata)
        if kept:
            target.upsert(ids=kept, embeddings=vectors, metadatas=metadatas)
        if len(ids) < _PAGE:
            return
        offset += _PAGE


def _open(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from chromadb.errors import InternalError

    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
    except InternalError as error:
        found = _DAMAGED.search(str(error))
        if found is None:
            raise
        raise DamagedVectorIndex(str(path), found.group(0)) from error


def _close(client: Any, path: Path) -> None:
    """Stop a client's system and forget it, so its files can go and a new client starts
    clean (Chroma caches one system per path)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    try:
        client._system.stop()
    except Exception:  # stopping is best effort: the files are removed either way
        logger.warning("could not stop the Chroma client of %s cleanly", path, exc_info=True)
    SharedSystemClient._identifier_to_system.pop(str(path), None)


def _current(root: Path) -> str:
    pointer = root / _POINTER
    return pointer.read_text(encoding="utf-8").strip() if pointer.exists() else ""


def _generation_name(name: str) -> bool:
    return name.startswith("g") and name[1:].isdigit()


def _next_generation(root: Path) -> str:
    numbers = [int(p.name[1:]) for p in root.iterdir() if p.is_dir() and _generation_name(p.name)]
    return f"g{max(numbers, default=0) + 1}"


def _switch(root: Path, generation: str) -> None:
    """Point CURRENT at `generation` atomically (write, fsync, rename, fsync the folder)."""
    temporary = root / (_POINTER + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(generation)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, root / _POINTER)
    folder = os.open(root, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _remove_other_generations(root: Path, current: str) -> None:
    """Everything in the root but CURRENT and the current generation is a leftover of an
    older generation (or of an interrupted rebuild)."""
    for entry in root.iterdir():
        if entry.name in (_POINTER, current):
            continue
        if not current and not _generation_name(entry.name) and entry.name != _POINTER + ".tmp":
            continue  # generation 0 lives in the root itself: only g<N> folders are leftovers
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
