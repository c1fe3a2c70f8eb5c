"""The value-free end of every removal: re-embed rewritten chunks, rebuild the vector store
into fresh files, and compact every SQLite database under the data directory so that no
removed byte stays in free pages, write-ahead logs or index segments.

These steps need no personal value, so an operation interrupted after its rewrites can be
finished by any later run (see privacy.operations).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ingest.pipeline import embedding_text
from knowledge.rewrite import rebuild_vectors, stale_chunks
from privacy.places import DataPlaces
from privacy.scrub import compact_tree

logger = logging.getLogger(__name__)

EMBED_BATCH = 64


@dataclass(frozen=True)
class PurgeReport:
    """Chunks re-embedded, regions whose vector files were rebuilt, databases compacted."""

    reembedded: int
    stale_left: int
    compacted: list[str]


def refresh_vectors(places: DataPlaces, tenant: str) -> tuple[int, int]:
    """Re-embed every stale chunk of the tenant's region and rebuild its vector files.
    Returns (chunks re-embedded, stale marks left)."""
    store = places.knowledge(tenant)
    fresh: dict[str, dict[str, list[float]]] = {}
    total = 0
    for owner, chunks in stale_chunks(store).items():
        texts = [embedding_text(str(c.metadata.get("title", "")), c) for c in chunks]
        vectors: list[list[float]] = []
        for start in range(0, len(texts), EMBED_BATCH):
            vectors.extend(places.embedder.embed(texts[start : start + EMBED_BATCH]))
        fresh[owner] = {c.chunk_id: v for c, v in zip(chunks, vectors, strict=True)}
        total += len(chunks)
    left = rebuild_vectors(store, fresh)
    return total, left


def purge(places: DataPlaces, tenant: str) -> PurgeReport:
    """`refresh_vectors`, then compact every SQLite database under the data directory."""
    reembedded, left = refresh_vectors(places, tenant)
    compacted = [places.relative(p) for p in compact_tree(places.data_dir)]
    logger.info("purged %s: %d chunks re-embedded, %d databases compacted",
                tenant, reembedded, len(compacted))  # fmt: skip
    return PurgeReport(reembedded, left, compacted)
