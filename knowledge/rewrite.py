"""Rewriting a tenant's knowledge in place (permanent redaction) and rebuilding its vectors.

    changed = rewrite_text(store, "acme", replacer)       # chunk rows, registry, keyword index
    chunks = stale_chunks(store)                          # texts whose vectors are now stale
    rebuild_vectors(store, {"acme": {chunk_id: vector}})  # fresh vector files, stale marks gone

`rewrite_text` changes every text of the tenant's chunk rows (text, section, metadata) and
registry rows (title, source, metadata, flagged sentences), re-indexes the changed chunks for
keyword search and marks them in `stale_vectors`, all in one SQLite transaction: a crash
leaves either the old texts or the new texts with their stale marks. `rebuild_vectors` then
writes the region's whole vector store into fresh files (the re-embedded vectors in place of
the stale ones, and only vectors of visible or pending chunks) and clears the marks it
satisfied. Both are idempotent. Old bytes in the SQLite file are the caller's to compact
(VACUUM) afterwards.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.records import Chunk
from knowledge.store import KnowledgeStore
from knowledge.tenancy import validate_tenant

Rewrite = Callable[[str], tuple[str, int]]


@dataclass(frozen=True)
class KnowledgeRewrite:
    """What `rewrite_text` changed: chunks and registry rows, and replacements in all."""

    chunks: int
    documents: int
    replacements: int


def rewrite_text(store: KnowledgeStore, tenant: str, rewrite: Rewrite) -> KnowledgeRewrite:
    """Apply `rewrite` to every text of the tenant's knowledge (see the module docstring)."""
    validate_tenant(tenant)
    replacements = 0
    changed: list[Chunk] = []
    documents = 0
    with store.transaction() as db:
        db.execute("PRAGMA secure_delete=ON")
        rows = db.execute(
            "SELECT chunk_id, document_id, version, ordinal, text, section, page, metadata "
            "FROM chunks WHERE tenant=?",
            (tenant,),
        ).fetchall()
        for chunk_id, document_id, version, ordinal, text, section, page, metadata in rows:
            new_text, n_text = rewrite(text)
            new_section, n_section = rewrite(section)
            new_metadata, n_metadata = _rewrite_json(metadata, rewrite)
            count = n_text + n_section + n_metadata
            if not count:
                continue
            replacements += count
            db.execute(
                "UPDATE chunks SET text=?, section=?, metadata=? WHERE tenant=? AND chunk_id=?",
                (new_text, new_section, new_metadata, tenant, chunk_id),
            )
            db.execute("INSERT OR IGNORE INTO stale_vectors VALUES (?, ?)", (tenant, chunk_id))
            changed.append(
                Chunk(document_id, version, ordinal, new_text, new_section, page,
                      json.loads(new_metadata))
            )  # fmt: skip
        store.keywords.add(tenant, changed)
        columns = _document_text_columns(db)
        listed = ", ".join(columns)
        for document_id, *texts in db.execute(
            f"SELECT document_id, {listed} FROM documents WHERE tenant=?", (tenant,)
        ).fetchall():
            rewritten = [_rewrite_cell(text, rewrite) for text in texts]
            count = sum(n for _, n in rewritten)
            if count:
                documents += 1
                replacements += count
                assignments = ", ".join(f"{c}=?" for c in columns)
                db.execute(
                    f"UPDATE documents SET {assignments} WHERE tenant=? AND document_id=?",
                    (*(text for text, _ in rewritten), tenant, document_id),
                )
    return KnowledgeRewrite(len(changed), documents, replacements)


# Registry columns that hold no text of the document: ids, hashes, types, times.
_NOT_TEXT = frozenset({"tenant", "document_id", "doc_type", "content_hash", "created_at",
                       "updated_at", "version", "chunk_count"})  # fmt: skip


def _document_text_columns(db: sqlite3.Connection) -> list[str]:
    """Every registry column that can hold document text (title, source, metadata, flagged
    sentences...), read from the table so that columns added later are included."""
    return [
        row[1]
        for row in db.execute("PRAGMA table_info(documents)")
        if row[1] not in _NOT_TEXT and "TEXT" in str(row[2]).upper()
    ]


def _rewrite_cell(text: object, rewrite: Rewrite) -> tuple[object, int]:
    if not isinstance(text, str):
        return text, 0
    if text.lstrip()[:1] in ("[", "{"):
        try:
            return _rewrite_json(text, rewrite)
        except ValueError:
            pass
    return rewrite(text)


def _rewrite_json(text: str, rewrite: Rewrite) -> tuple[str, int]:
    value, count = _walk(json.loads(text), rewrite)
    return (json.dumps(value, ensure_ascii=False), count) if count else (text, 0)


def _walk(value: Any, rewrite: Rewrite) -> tuple[Any, int]:
    if isinstance(value, str):
        return rewrite(value)
    if isinstance(value, list):
        pairs = [_walk(v, rewrite) for v in value]
        return [p[0] for p in pairs], sum(p[1] for p in pairs)
    if isinstance(value, dict):
        total = 0
        mapping = {}
        for key, item in value.items():
            new_key, n_key = rewrite(key)
            new, n = _walk(item, rewrite)
            mapping[new_key] = new
            total += n_key + n
        return mapping, total
    return value, 0


def stale_chunks(store: KnowledgeStore) -> dict[str, list[Chunk]]:
    """Per tenant, the visible chunks marked stale (their vectors predate their text)."""
    with store.transaction() as db:
        rows = db.execute(
            "SELECT s.tenant, c.chunk_id FROM stale_vectors s JOIN chunks c "
            "ON c.tenant = s.tenant AND c.chunk_id = s.chunk_id ORDER BY s.tenant, c.chunk_id"
        ).fetchall()
    ids: dict[str, list[str]] = {}
    for tenant, chunk_id in rows:
        ids.setdefault(tenant, []).append(chunk_id)
    found: dict[str, list[Chunk]] = {}
    for tenant, chunk_ids in ids.items():
        chunks = store.chunks(tenant, chunk_ids)
        found[tenant] = [chunks[i] for i in chunk_ids if i in chunks]
    return found


def rebuild_vectors(
    store: KnowledgeStore, fresh: Mapping[str, Mapping[str, Sequence[float]]]
) -> int:
    """Rewrite the store's vectors into fresh files: each visible chunk's vector (from
    `fresh` where given), vectors of versions still being written (pending), nothing else.
    Clears the stale marks of the chunks in `fresh`; returns how many marks remain."""
    keepers: dict[str, tuple[set[str], set[tuple[str, int]]]] = {}

    def keep(tenant: str, chunk_id: str, document_id: str, version: int) -> bool:
        # Read when the vector store holds its lock, so a concurrent write's pending vectors
        # (written before their chunk rows) are kept.
        if tenant not in keepers:
            keepers[tenant] = _visible_and_pending(store, tenant)
        visible, pending = keepers[tenant]
        return chunk_id in visible or (document_id, version) in pending

    store.vectors.rebuild(keep, fresh)
    with store.transaction() as db:
        for tenant, vectors in fresh.items():
            db.executemany(
                "DELETE FROM stale_vectors WHERE tenant=? AND chunk_id=?",
                [(tenant, chunk_id) for chunk_id in vectors],
            )
        db.execute(
            "DELETE FROM stale_vectors WHERE NOT EXISTS (SELECT 1 FROM chunks c "
            "WHERE c.tenant = stale_vectors.tenant AND c.chunk_id = stale_vectors.chunk_id)"
        )
        left: int = db.execute("SELECT COUNT(*) FROM stale_vectors").fetchone()[0]
    return left


def _visible_and_pending(
    store: KnowledgeStore, tenant: str
) -> tuple[set[str], set[tuple[str, int]]]:
    with store.transaction() as db:
        visible = {
            row[0] for row in db.execute("SELECT chunk_id FROM chunks WHERE tenant=?", (tenant,))
        }
        pending = {
            (row[0], int(row[1]))
            for row in db.execute(
                "SELECT document_id, version FROM cleanup WHERE tenant=? AND reason='pending'",
                (tenant,),
            )
        }
    return visible, pending
