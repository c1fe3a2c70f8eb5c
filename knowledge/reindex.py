"""Rebuilding a region's vector index from its knowledge database (`clearline reindex`).

Every vector is derived: the embedding of a visible chunk's text with its document title and
section (ingest.pipeline.embedding_text), stored in knowledge.db. So a vector index whose
files no longer open (knowledge.errors.DamagedVectorIndex) loses nothing that cannot be made
again:

    report = reindex(region_dir, embedder, embedding_text, on_chunks=bar.update)

The index folder is first renamed `chroma.replaced` (files of a rebuild interrupted before
are kept there, and a half-built `chroma` beside them is discarded), a new index is built
from every visible chunk of every tenant in the knowledge database, and only then is the old
folder removed: it may hold vectors of removed documents, which must not outlive the rebuild
(the same reason as ChromaVectorStore.rebuild).

An index that opens but lacks some vectors (an older backup of it restored beside a newer
knowledge.db, or a batch lost in a crash) needs no rebuild: `fill_missing` embeds only the
chunks without a vector. An index that holds vectors knowledge.db has no chunk for (a backup
of the index restored after a source or a tenant was deleted, or an older knowledge.db
restored beside it) loses them: `drop_orphans` rewrites the index without them, so that
nothing of a deleted source survives in it unseen (retrieval skips such vectors, and no
delete can reach them, as no source names them). The runtime calls both, after `recover()`,
whenever it opens a region's knowledge.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.protocols import Embedder
from knowledge.records import Chunk
from knowledge.store import KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore

EMBED_BATCH = 64
INDEX = "chroma"
REPLACED = "chroma.replaced"


@dataclass(frozen=True)
class ReindexReport:
    """What one region's rebuild wrote."""

    tenants: int
    documents: int
    chunks: int


def reindex(
    region_dir: Path,
    embedder: Embedder,
    text_of: Callable[[str, Chunk], str],
    on_chunks: Callable[[int], None] = lambda _: None,
    on_total: Callable[[int], None] = lambda _: None,
) -> ReindexReport:
    """Rebuild the vector index of `region_dir` from its knowledge.db; `text_of(title,
    chunk)` is the text a chunk was embedded as. `on_total(n)` is told how many chunks
    there are, then `on_chunks(n)` of every batch embedded."""
    index, replaced = region_dir / INDEX, region_dir / REPLACED
    if replaced.exists():  # an interrupted rebuild: its own half-built index goes
        shutil.rmtree(index, ignore_errors=True)
    elif index.exists():
        index.rename(replaced)
    store = KnowledgeStore(region_dir / "knowledge.db", ChromaVectorStore(index))
    try:
        store.recover()  # interrupted writes first: their chunks become visible or go
        tenants = _tenants(store)
        with store.transaction() as db:
            on_total(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
        documents = chunks = 0
        for tenant in tenants:
            for record in store.list_documents(tenant):
                found = store.document_chunks(tenant, record.document_id)
                _add(store, embedder, tenant, [(text_of(record.title, c), c) for c in found],
                     on_chunks)  # fmt: skip
                documents += 1
                chunks += len(found)
        with store.transaction() as db:  # every vector is now made from the chunk's text
            db.execute("DELETE FROM stale_vectors")
    finally:
        store.close()
    shutil.rmtree(replaced, ignore_errors=True)
    return ReindexReport(len(tenants), documents, chunks)


@dataclass(frozen=True)
class Filled:
    """Vectors one tenant lacked and that were made again."""

    tenant: str
    filled: int
    chunks: int


def fill_missing(
    store: KnowledgeStore, embedder: Embedder, text_of: Callable[[str, Chunk], str]
) -> list[Filled]:
    """Embed every chunk of `store` that has no vector; one entry per tenant that lacked
    any. Counting first keeps the usual case (nothing missing) to one count per tenant."""
    filled: list[Filled] = []
    for tenant, chunks in _chunk_counts(store).items():
        if store.vectors.count(tenant) >= chunks:
            continue
        present = store.vectors.ids(tenant)
        missing = [
            (text_of(record.title, chunk), chunk)
            for record in store.list_documents(tenant)
            for chunk in store.document_chunks(tenant, record.document_id)
            if chunk.chunk_id not in present
        ]
        if missing:
            _add(store, embedder, tenant, missing, lambda _: None)
            filled.append(Filled(tenant, len(missing), chunks))
    return filled


@dataclass(frozen=True)
class Dropped:
    """Vectors of one tenant that knowledge.db has no chunk for, removed."""

    tenant: str
    dropped: int


def drop_orphans(store: KnowledgeStore) -> list[Dropped]:
    """Remove every vector of `store` whose chunk knowledge.db does not hold (after
    `recover()`, which finishes interrupted writes, no such vector is in use); one entry per
    tenant that had any. The index is rewritten (VectorStore.rebuild), so no byte of them
    remains. Counting first keeps the usual case (none) to one count per tenant."""
    counts = _chunk_counts(store)
    over = [t for t in sorted(store.vectors.tenants()) if store.vectors.count(t) > counts.get(t, 0)]
    if not over:
        return []
    known: dict[str, set[str]] = {}
    with store.transaction() as db:
        for tenant in over:
            rows = db.execute("SELECT chunk_id FROM chunks WHERE tenant=?", (tenant,))
            known[tenant] = {row[0] for row in rows}
    dropped = [Dropped(tenant, len(store.vectors.ids(tenant) - known[tenant])) for tenant in over]
    store.vectors.rebuild(
        lambda tenant, chunk_id, document_id, version: (
            tenant not in known or chunk_id in known[tenant]
        ),
        {},
    )
    return [d for d in dropped if d.dropped]


def _chunk_counts(store: KnowledgeStore) -> dict[str, int]:
    """Each tenant's number of chunk rows (tenants without any are absent)."""
    with store.transaction() as db:
        return dict(db.execute("SELECT tenant, COUNT(*) FROM chunks GROUP BY tenant").fetchall())


def _tenants(store: KnowledgeStore) -> list[str]:
    with store.transaction() as db:
        return [row[0] for row in db.execute("SELECT DISTINCT tenant FROM documents ORDER BY 1")]


def _add(
    store: KnowledgeStore,
    embedder: Embedder,
    tenant: str,
    texts: Sequence[tuple[str, Chunk]],
    on_chunks: Callable[[int], None],
) -> None:
    for start in range(0, len(texts), EMBED_BATCH):
        part = texts[start : start + EMBED_BATCH]
        vectors = embedder.embed([text for text, _ in part])
        store.vectors.add(tenant, [chunk for _, chunk in part], vectors)
        on_chunks(len(part))
