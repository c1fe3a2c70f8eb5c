"""BM25 keyword index on SQLite FTS5: one virtual table per tenant.

The index shares the knowledge database connection so that its writes commit in the same
transaction as the document registry (see knowledge.store). It never commits by itself.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence

from knowledge.records import Chunk, ScoredId
from knowledge.tenancy import partition_name

_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str, max_terms: int = 64) -> str:
    """An FTS5 OR-query of the distinct words of `text`, each quoted (no operators leak)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in seen:
            seen[word] = None
        if len(seen) >= max_terms:
            break
    return " OR ".join(f'"{word}"' for word in seen)


class SqliteKeywordIndex:
    """KeywordIndex over FTS5 tables named after the tenant (`kw_<tenant>`)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def _table(self, tenant: str, create: bool = False) -> str:
        table = "kw_" + partition_name(tenant)
        if create:
            self._db.execute(
                f'CREATE VIRTUAL TABLE IF NOT EXISTS "{table}" USING fts5('
                "chunk_id UNINDEXED, text, tokenize='porter unicode61 remove_diacritics 2')"
            )
        return table

    def _exists(self, table: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)
        ).fetchone()
        return row is not None

    def add(self, tenant: str, chunks: Sequence[Chunk]) -> None:
        table = self._table(tenant, create=True)
        ids = [c.chunk_id for c in chunks]
        self.delete(tenant, ids)
        self._db.executemany(
            f'INSERT INTO "{table}" (chunk_id, text) VALUES (?, ?)',
            [(c.chunk_id, _indexed_text(c)) for c in chunks],
        )

    def delete(self, tenant: str, chunk_ids: Sequence[str]) -> None:
        table = self._table(tenant)
        if not chunk_ids or not self._exists(table):
            return
        self._db.executemany(
            f'DELETE FROM "{table}" WHERE chunk_id = ?', [(cid,) for cid in chunk_ids]
        )

    def search(self, tenant: str, query: str, k: int) -> list[ScoredId]:
        table = self._table(tenant)
        match = fts_query(query)
        if not match or not self._exists(table):
            return []
        rows = self._db.execute(
            f'SELECT chunk_id, bm25("{table}") AS rank FROM "{table}" '
            f'WHERE "{table}" MATCH ? ORDER BY rank LIMIT ?',
            (match, k),
        ).fetchall()
        # FTS5's bm25() is negated so that ORDER BY ascending puts the best first.
        return [ScoredId(chunk_id=row[0], score=-float(row[1])) for row in rows]

    def ids(self, tenant: str) -> set[str]:
        table = self._table(tenant)
        if not self._exists(table):
            return set()
        return {row[0] for row in self._db.execute(f'SELECT chunk_id FROM "{table}"')}

    def drop_tenant(self, tenant: str) -> None:
        self._db.execute(f'DROP TABLE IF EXISTS "{self._table(tenant)}"')


def _indexed_text(chunk: Chunk) -> str:
    """Headings are indexed with the body: a question often names the section."""
    title = str(chunk.metadata.get("title", ""))
    return " \n".join(part for part in (title, chunk.section, chunk.text) if part)
