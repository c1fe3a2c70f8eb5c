"""Shared primitives for provable removal: replace a value everywhere, and compact storage so
that no byte of removed text stays behind.

Two kinds of work, used by permanent redaction, delete-source scrubbing, erasure and
retention:

1. **Replace a value everywhere.** `ValueReplacer` finds a value case-insensitively, with any
   run of whitespace where the value has one, in plain text and inside JSON text (it decodes
   the JSON, so `\\u00eb` escapes and quotes cannot hide it, and writes the JSON back).
   `rewrite_tenant_rows` applies any `Rewrite` to every text column of every table of an
   SQLite database, limited to one tenant's rows:

       replacer = ValueReplacer("Ana Smith", "[PERSON]")
       with sqlite3.connect(path, isolation_level=None) as db:
           changed = rewrite_tenant_rows(db, "acme", replacer.rewrite_cell)
       # {"messages.text": 2, "traces.body": 5}  (replacements by table.column)

2. **Compact so no bytes remain.** Deleting or updating rows leaves the old bytes in free
   pages, in the write-ahead log and, for FTS5 tables, in index segments.
   `compact_sqlite(path)` merges every FTS5 index (`optimize`), rewrites the file with
   `VACUUM` under `PRAGMA secure_delete=ON` and truncates the WAL
   (`wal_checkpoint(TRUNCATE)`, retried while readers hold old snapshots).
   `compact_tree(data_dir)` does that to every SQLite database under a directory except
   Chroma's (Chroma's files are never compacted in place: `knowledge.vector_chroma` rebuilds
   a collection set into fresh files instead). `privacy.proof.find_bytes` is the proof: a raw
   byte scan of every file under a directory for UTF-8, lower-case and UTF-16 forms.

Every function here is idempotent: running it again after an interruption is safe and
finishes the job. Nothing here logs or returns the values themselves.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Rewrite = Callable[[str], tuple[str, int]]
"""Text in, (new text, number of replacements) out; (text, 0) when nothing matched."""

SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables that hold no tenant data, or whose rows must never change.
SKIPPED_TABLES = frozenset({"alembic_version", "sqlite_sequence"})
_TEXT_TYPES = ("CHAR", "CLOB", "TEXT", "JSON")
# Columns that identify rows or link them: rewriting them would break references.
_KEY_COLUMNS = frozenset({"id", "tenant", "name", "hash"})


class ScrubError(RuntimeError):
    """Storage could not be compacted (for example a reader never let go of the WAL)."""


class ValueReplacer:
    """Replaces every occurrence of `value` (case-insensitive, flexible whitespace)."""

    def __init__(self, value: str, replacement: str) -> None:
        words = value.split()
        if not words:
            raise ValueError("the value to replace is empty; give the exact text to remove")
        self.replacement = replacement
        self.length = len(value)
        self._pattern = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)

    def holds(self, text: str) -> bool:
        """Whether `text` (plain, or JSON with escapes) contains the value."""
        if self._pattern.search(text):
            return True
        return "\\" in text and self._pattern.search(_json_decoded(text)) is not None

    def rewrite(self, text: str) -> tuple[str, int]:
        """Plain text with every occurrence replaced."""
        return self._pattern.subn(self.replacement, text)

    def rewrite_value(self, value: Any) -> tuple[Any, int]:
        """A decoded JSON value with every string (and mapping key) rewritten."""
        return rewrite_json(value, self.rewrite)

    def rewrite_cell(self, text: str) -> tuple[str, int]:
        """A stored cell: JSON documents are decoded, rewritten and encoded again; anything
        else is rewritten as plain text."""
        return rewrite_cell(text, self.rewrite)


def rewrite_json(value: Any, rewrite: Rewrite) -> tuple[Any, int]:
    """Apply `rewrite` to every string and mapping key inside a decoded JSON value."""
    if isinstance(value, str):
        return rewrite(value)
    if isinstance(value, list):
        total = 0
        items = []
        for item in value:
            new, n = rewrite_json(item, rewrite)
            items.append(new)
            total += n
        return items, total
    if isinstance(value, dict):
        total = 0
        mapping: dict[str, Any] = {}
        for key, item in value.items():
            new_key, n_key = rewrite(key)
            new, n = rewrite_json(item, rewrite)
            mapping[new_key] = new
            total += n_key + n
        return mapping, total
    return value, 0


def rewrite_cell(text: str, rewrite: Rewrite) -> tuple[str, int]:
    """`rewrite` applied inside a JSON object or array document, else to the plain text."""
    decoded = _json_document(text)
    if decoded is None:
        return rewrite(text)
    new, count = rewrite_json(decoded, rewrite)
    if count == 0:
        return text, 0
    return json.dumps(new, ensure_ascii=False, separators=(",", ":")), count


def _json_document(text: str) -> Any:
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_decoded(text: str) -> str:
    """The strings of a JSON document joined by newlines (escapes resolved), else `text`."""
    decoded = _json_document(text)
    if decoded is None:
        return text
    parts: list[str] = []

    def collect(value: str) -> tuple[str, int]:
        parts.append(value)
        return value, 0

    rewrite_json(decoded, collect)
    return "\n".join(parts)


# -- replacing in SQLite ------------------------------------------------------------------


@dataclass(frozen=True)
class TableScope:
    """How a table's rows are tied to a tenant: a WHERE clause with one `?` for the tenant."""

    table: str
    where: str
    columns: tuple[str, ...]


@dataclass
class RewriteReport:
    """Replacements by `table.column`, and tables that could not be tied to a tenant."""

    replaced: dict[str, int] = field(default_factory=dict)
    unscoped: list[str] = field(default_factory=list)
    rows: dict[str, list[int]] = field(default_factory=dict)  # rewritten rowids by table

    @property
    def total(self) -> int:
        return sum(self.replaced.values())


def table_scopes(db: sqlite3.Connection, skip: Iterable[str] = ()) -> list[TableScope]:
    """Every table with text columns, and how its rows belong to a tenant:

    - a `tenant` column: `tenant = ?`;
    - the `tenants` table: `name = ?`;
    - a `conversation_id` column: the conversation is the tenant's;
    - a `trace_id` column: the trace is the tenant's.

    Tables with none of these are returned with an empty `where` (the caller reports them).
    Key columns (primary keys, `id`, `tenant`, `*_id`, hashes) are never rewritten.
    """
    skipped = SKIPPED_TABLES | set(skip)
    tables = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    names = set(tables)
    scopes: list[TableScope] = []
    for table in tables:
        if table in skipped or _is_fts_shadow(table, names):
            continue
        info = db.execute(f'PRAGMA table_info("{table}")').fetchall()
        column_names = {row[1] for row in info}
        text_columns = tuple(
            row[1]
            for row in info
            if any(t in str(row[2]).upper() for t in _TEXT_TYPES)
            and not row[5]  # primary-key position
            and row[1] not in _KEY_COLUMNS
            and not row[1].endswith(("_id", "_hash"))
        )
        if not text_columns:
            continue
        scopes.append(TableScope(table, _where(table, column_names, names), text_columns))
    return scopes


def _is_fts_shadow(table: str, tables: set[str]) -> bool:
    """FTS5 keeps its data in shadow tables `<name>_data`, `_idx`, `_content`...; they are
    rewritten through the virtual table, never directly."""
    base, _, suffix = table.rpartition("_")
    return base in tables and suffix in {"data", "idx", "content", "docsize", "config"}


def _where(table: str, columns: set[str], tables: set[str]) -> str:
    if "tenant" in columns:
        return "tenant = ?"
    if table == "tenants":
        return "name = ?"
    if "conversation_id" in columns and "conversations" in tables:
        return "conversation_id IN (SELECT id FROM conversations WHERE tenant = ?)"
    if "trace_id" in columns and "traces" in tables:
        return "trace_id IN (SELECT id FROM traces WHERE tenant = ?)"
    return ""


def rewrite_tenant_rows(
    db: sqlite3.Connection,
    tenant: str,
    rewrite: Rewrite,
    holds: Callable[[str], bool] | None = None,
    skip: Iterable[str] = (),
) -> RewriteReport:
    """Apply `rewrite` (via `rewrite_cell`) to every text cell of the tenant's rows, in one
    transaction (BEGIN IMMEDIATE unless the caller has one open). `holds` pre-filters cells
    cheaply (default: every non-empty cell is rewritten and compared). Idempotent."""
    report = RewriteReport()
    own = not db.in_transaction
    db.execute("PRAGMA secure_delete=ON")
    if own:
        db.execute("BEGIN IMMEDIATE")
    try:
        for scope in table_scopes(db, skip):
            if not scope.where:
                report.unscoped.append(scope.table)
                continue
            for column in scope.columns:
                rowids = _rewrite_column(db, scope, column, tenant, rewrite, holds)
                if rowids:
                    report.replaced[f"{scope.table}.{column}"] = sum(rowids.values())
                    changed = report.rows.setdefault(scope.table, [])
                    changed.extend(r for r in rowids if r not in changed)
    except BaseException:
        if own:
            db.execute("ROLLBACK")
        raise
    if own:
        db.execute("COMMIT")
    return report


def _rewrite_column(
    db: sqlite3.Connection,
    scope: TableScope,
    column: str,
    tenant: str,
    rewrite: Rewrite,
    holds: Callable[[str], bool] | None,
) -> dict[int, int]:
    """Replacements by rowid in one column of the tenant's rows."""
    rows = db.execute(
        f'SELECT rowid, "{column}" FROM "{scope.table}" WHERE {scope.where} '
        f"AND typeof(\"{column}\") = 'text'",
        (tenant,),
    ).fetchall()
    changed: dict[int, int] = {}
    for rowid, text in rows:
        if holds is not None and not holds(text):
            continue
        new, count = rewrite_cell(text, rewrite)
        if count:
            db.execute(f'UPDATE "{scope.table}" SET "{column}" = ? WHERE rowid = ?', (new, rowid))
            changed[int(rowid)] = count
    return changed


# -- compacting ---------------------------------------------------------------------------


def fts5_tables(db: sqlite3.Connection) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE '%USING fts5(%'"
        )
    ]


def optimize_fts(db: sqlite3.Connection, tables: Sequence[str] | None = None) -> None:
    """Merge each FTS5 index into one segment: deleted rows' terms leave the index files."""
    for table in fts5_tables(db) if tables is None else tables:
        db.execute(f'INSERT INTO "{table}"("{table}") VALUES (\'optimize\')')


def compact_sqlite(path: Path, timeout_s: float = 60.0) -> None:
    """Rewrite one SQLite database so that no deleted or overwritten bytes remain in it or its
    WAL: FTS5 optimize, VACUUM with secure_delete, then WAL checkpoint(TRUNCATE), retried
    until no reader holds an old snapshot (ScrubError after `timeout_s`). Other connections
    may stay open; they must not hold a transaction for long."""
    if not path.exists():
        return
    db = sqlite3.connect(path, isolation_level=None, timeout=timeout_s)
    try:
        db.execute("PRAGMA secure_delete=ON")
        optimize_fts(db)
        db.execute("VACUUM")
        deadline = time.monotonic() + timeout_s
        while True:
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                break
            if time.monotonic() > deadline:
                raise ScrubError(
                    f"could not truncate the write-ahead log of '{path}': another connection "
                    "kept reading for too long; run the command again when it is idle"
                )
            time.sleep(0.05)
    finally:
        db.close()


def sqlite_databases(root: Path, exclude_dirs: Iterable[str] = ("chroma",)) -> list[Path]:
    """Every SQLite database file under `root` (by its header), outside `exclude_dirs`."""
    excluded = set(exclude_dirs)
    found: list[Path] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or excluded & set(path.relative_to(root).parts[:-1]):
            continue
        if path.name.endswith(("-wal", "-shm", "-journal")):
            continue
        try:
            with path.open("rb") as handle:
                if handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
                    found.append(path)
        except OSError:
            continue
    return found


def compact_tree(root: Path, exclude_dirs: Iterable[str] = ("chroma",)) -> list[Path]:
    """`compact_sqlite` on every SQLite database under `root`; returns them."""
    databases = sqlite_databases(root, exclude_dirs)
    for path in databases:
        compact_sqlite(path)
    return databases
