"""Removing conversations with everything derived from them, inside one transaction of the
control database; shared by end-user erasure and retention runs.

    db = connect(control_db)  # the tenant's region's control database
    db.execute("BEGIN IMMEDIATE")
    removed = remove_conversations(db, "acme", ["conv_..."], end_user_id="u-42")
    db.execute("COMMIT")
    removed.counts   # {"conversations": 2, "messages": 9, "traces": 4, "scores": 4, ...}

What goes, found from the schema so that tables added later are covered too: the
conversations; their messages; their traces (by conversation and by the messages' trace
ids; `scores` counts the scored ones, scores live inside traces); every row of any other
table that points at one of them by a `conversation_id`, `message_id` or `trace_id` column
(review queue items, reviews, draft actions...); golden cases made from a correction of one
of their replies; with `end_user_id`, every row of a table with an `end_user_id` column
naming that end user. Audit entries stay, without values: in their details, the end-user id
and the ids of removed rows become `[erased]` (`audit_entries` counts the entries changed).

With `dry_run` the same counts are computed and nothing is changed. Either way the removed
ids stay in the connection's temporary tables `temp.gone_conversations`, `gone_messages`
and `gone_traces` until the next cascade, so later steps can leave them out. Deleted rows leave
bytes in free pages and the write-ahead log until `compact_conversation_stores` runs.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from privacy.scrub import compact_sqlite, rewrite_cell, sqlite_databases

ERASED = "[erased]"
# Kinds reported for the tables the product has; other tables are reported by name.
KINDS = {
    "conversations": "conversations",
    "messages": "messages",
    "traces": "traces",
    "qa_queue": "queue_items",
    "qa_reviews": "reviews",
    "golden_cases": "golden_cases",
    "draft_actions": "draft_actions",
}
# Rows of these tables are never deleted by a cascade (audit entries lose values instead).
KEPT_TABLES = frozenset(
    {"audit_log", "privacy_operations", "alembic_version", "tenants", "api_keys",
     "retention_policies"}
)  # fmt: skip
# Removed tables last, children first (messages are referenced by draft actions).
_LAST = ("golden_cases", "messages", "traces", "conversations")
_ID = re.compile(r"(?<![0-9A-Za-z_])[A-Za-z]+_[0-9a-f]{32}(?![0-9a-f])")
_GONE = ("gone_conversations", "gone_messages", "gone_traces")


@dataclass
class Removed:
    """Counts by kind (`scores` and `audit_entries` included) of one cascade."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int) -> None:
        if count:
            self.counts[kind] = self.counts.get(kind, 0) + count


def connect(path: Path) -> sqlite3.Connection:
    """A connection for cascades: autocommit mode (the caller opens the transaction),
    secure_delete on, foreign keys enforced, temporary tables in memory."""
    db = sqlite3.connect(path, isolation_level=None, timeout=60)
    db.execute("PRAGMA busy_timeout=60000")
    db.execute("PRAGMA secure_delete=ON")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA temp_store=MEMORY")
    return db


def remove_conversations(
    db: sqlite3.Connection,
    tenant: str,
    conversation_ids: list[str],
    end_user_id: str | None = None,
    dry_run: bool = False,
) -> Removed:
    """Delete (or, `dry_run`, count) the tenant's conversations with everything derived from
    them (see the module docstring). Runs inside the caller's transaction."""
    removed = Removed()
    _fill(db, tenant, conversation_ids)
    gone_ids = _gone_ids(db)
    removed.add("scores", _scalar(db, "SELECT COUNT(*) FROM traces WHERE scored_at IS NOT NULL "
                                      "AND id IN (SELECT id FROM temp.gone_traces)"))  # fmt: skip
    params = {"tenant": tenant, "end_user": end_user_id}
    for table, where in _targets(db, end_user_id is not None):
        if table == "golden_cases":
            golden = _golden_cases(db, tenant, gone_ids)
            gone_ids.update(golden)
            if not dry_run:
                db.executemany(
                    "DELETE FROM golden_cases WHERE tenant = ? AND id = ?",
                    [(tenant, g) for g in golden],
                )
            removed.add(KINDS[table], len(golden))
            continue
        if "id" in _columns(db, table):
            gone_ids.update(
                str(r[0]) for r in db.execute(f'SELECT id FROM "{table}" WHERE {where}', params)
            )
        if dry_run:
            count = _scalar(db, f'SELECT COUNT(*) FROM "{table}" WHERE {where}', params)
        else:
            count = db.execute(f'DELETE FROM "{table}" WHERE {where}', params).rowcount
        removed.add(KINDS.get(table, table), count)
    removed.add("audit_entries", _scrub_audit(db, tenant, end_user_id, gone_ids, dry_run))
    return removed


def _fill(db: sqlite3.Connection, tenant: str, conversation_ids: list[str]) -> None:
    for name in _GONE:
        db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (id TEXT PRIMARY KEY)")
        db.execute(f"DELETE FROM temp.{name}")
    db.executemany(
        "INSERT OR IGNORE INTO temp.gone_conversations "
        "SELECT id FROM conversations WHERE id = ? AND tenant = ?",
        [(c, tenant) for c in conversation_ids],
    )
    db.execute(
        "INSERT OR IGNORE INTO temp.gone_messages SELECT id FROM messages "
        "WHERE conversation_id IN (SELECT id FROM temp.gone_conversations)"
    )
    db.execute(
        "INSERT OR IGNORE INTO temp.gone_traces SELECT id FROM traces WHERE tenant = ? AND "
        "(conversation_id IN (SELECT id FROM temp.gone_conversations) OR id IN "
        "(SELECT trace_id FROM messages WHERE id IN (SELECT id FROM temp.gone_messages)))",
        (tenant,),
    )


def _gone_ids(db: sqlite3.Connection) -> set[str]:
    ids: set[str] = set()
    for name in _GONE:
        ids.update(str(r[0]) for r in db.execute(f"SELECT id FROM temp.{name}"))
    return ids


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in db.execute(f'PRAGMA main.table_info("{table}")')}


def _scalar(db: sqlite3.Connection, sql: str, params: object = ()) -> int:
    row = db.execute(sql, params).fetchone()  # type: ignore[arg-type]
    return int(row[0]) if row else 0


def _targets(db: sqlite3.Connection, by_end_user: bool) -> list[tuple[str, str]]:
    """(table, WHERE clause with :tenant / :end_user) for every table rows are removed from,
    in deletion order."""
    tables = [
        str(r[0])
        for r in db.execute(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    links = {
        "conversation_id": "conversation_id IN (SELECT id FROM temp.gone_conversations)",
        "message_id": "message_id IN (SELECT id FROM temp.gone_messages)",
        "trace_id": "trace_id IN (SELECT id FROM temp.gone_traces)",
    }
    found: list[tuple[str, str]] = []
    for table in tables:
        if table in KEPT_TABLES or table in _LAST:
            continue
        columns = _columns(db, table)
        clauses = [clause for column, clause in links.items() if column in columns]
        if by_end_user and "end_user_id" in columns:
            clauses.append("end_user_id = :end_user")
        if not clauses:
            continue
        where = "(" + " OR ".join(clauses) + ")"
        if "tenant" in columns:
            where += " AND tenant = :tenant"
        found.append((table, where))
    last = {
        "golden_cases": "",
        "messages": "id IN (SELECT id FROM temp.gone_messages)",
        "traces": "id IN (SELECT id FROM temp.gone_traces)",
        "conversations": "id IN (SELECT id FROM temp.gone_conversations)",
    }
    return found + [(t, last[t]) for t in _LAST if t in tables]


def _golden_cases(db: sqlite3.Connection, tenant: str, gone: set[str]) -> list[str]:
    """Ids of golden cases made from a correction of a removed reply."""
    found = []
    rows = db.execute(
        "SELECT id, body FROM golden_cases WHERE tenant = ? AND source = 'correction'", (tenant,)
    ).fetchall()
    for case_id, body in rows:
        try:
            source = json.loads(body).get("source_trace_id")
        except (ValueError, AttributeError):
            source = None
        if source in gone or str(case_id).removeprefix("correction-") in gone:
            found.append(str(case_id))
    return found


def _scrub_audit(
    db: sqlite3.Connection, tenant: str, end_user_id: str | None, gone: set[str], dry_run: bool
) -> int:
    """In the tenant's audit details: the end-user id (a whole string) and removed rows' ids
    become `[erased]`. Returns how many entries changed."""

    def rewrite(text: str) -> tuple[str, int]:
        if end_user_id is not None and text.strip() == end_user_id:
            return ERASED, 1
        count = 0

        def erase(match: re.Match[str]) -> str:
            nonlocal count
            if match.group(0) in gone:
                count += 1
                return ERASED
            return match.group(0)

        return _ID.sub(erase, text), count

    changed = 0
    rows = db.execute("SELECT id, detail FROM audit_log WHERE tenant = ?", (tenant,)).fetchall()
    for entry_id, detail in rows:
        new, count = rewrite_cell(str(detail), rewrite)
        if count:
            changed += 1
            if not dry_run:
                db.execute("UPDATE audit_log SET detail = ? WHERE id = ?", (new, entry_id))
    return changed


def compact_conversation_stores(data_dir: Path, control_db: Path) -> list[Path]:
    """Compact every SQLite database that can hold the tenant's conversation data: its
    region's control database and those outside `regions/` (the directory, the console's
    sessions), not the knowledge stores (they never hold conversations): no removed byte
    stays in free pages or the WAL."""
    outside = sqlite_databases(data_dir, exclude_dirs=("chroma", "regions"))
    extra = [control_db] if control_db.is_file() and control_db not in outside else []
    databases = [*outside, *extra]
    for path in databases:
        compact_sqlite(path)
    return databases
