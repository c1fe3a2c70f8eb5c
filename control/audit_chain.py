"""The audit log's hash chain: each entry carries the hash of the tenant's previous entry.

An entry's hash is SHA-256 over a canonical serialisation (sorted-key JSON, no spaces) of its
id, tenant, actor, action, detail, time and the previous entry's hash; a tenant's first entry
follows GENESIS. Editing, reordering or deleting an entry in the middle of a tenant's log
breaks the chain at that entry, and `verify` reports the first broken one. The chain is
tamper-evident, not tamper-proof: whoever can rewrite the database can also reseal it, and
removing the newest entries leaves a valid (shorter) chain; export the log to keep proof.

Privacy operations that must rewrite old entries' details (redaction, erasure, retention)
call `reseal` inside their own transaction, right after the rewrite, and record an entry of
their own saying so.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

GENESIS = "0" * 64
_COLUMNS = "id, tenant, actor, action, detail, created_at, prev_hash, hash"


def _moment(value: object) -> str:
    """The entry's time as naive-UTC ISO with microseconds, whatever the driver returned."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def entry_hash(
    prev_hash: str, entry_id: int, tenant: str, actor: str, action: str, detail: str,
    created_at: object,
) -> str:  # fmt: skip
    """SHA-256 (hex) of the canonical serialisation of one entry and its predecessor's hash."""
    fields = {
        "id": entry_id, "tenant": tenant, "actor": actor, "action": action, "detail": detail,
        "created_at": _moment(created_at), "prev_hash": prev_hash,
    }  # fmt: skip
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Broken:
    """The first entry whose stored hashes do not match its content or its predecessor."""

    id: int
    action: str
    created_at: str
    reason: str


@dataclass(frozen=True)
class ChainReport:
    tenant: str
    entries: int
    ok: bool
    first_broken: Broken | None

    def as_json(self) -> dict[str, Any]:
        broken = self.first_broken
        return {"tenant": self.tenant, "entries": self.entries, "ok": self.ok,
                "first_broken": None if broken is None else broken.__dict__}  # fmt: skip


def check(tenant: str, rows: list[Any]) -> ChainReport:
    """Walk a tenant's entries (rows of _COLUMNS, in id order) and find the first break."""
    prev = GENESIS
    for row in rows:
        entry_id, _, actor, action, detail, created_at, prev_hash, stored = tuple(row)
        expected = entry_hash(prev, entry_id, tenant, actor, action, detail, created_at)
        reason = None
        if prev_hash != prev:
            reason = "its previous-entry hash does not match the entry before it"
        elif stored != expected:
            reason = "its content does not match its hash (the entry was changed)"
        if reason is not None:
            broken = Broken(int(entry_id), str(action), _moment(created_at), reason)
            return ChainReport(tenant, len(rows), False, broken)
        prev = str(stored)
    return ChainReport(tenant, len(rows), True, None)


def verify(session: Session, tenant: str) -> ChainReport:
    rows = session.execute(
        text(f"SELECT {_COLUMNS} FROM audit_log WHERE tenant = :t ORDER BY id"), {"t": tenant}
    ).all()
    return check(tenant, list(rows))


def seal_new(session: Session, entry_id: int) -> None:
    """Give a just-inserted entry (in the session's open transaction) its place in the chain.
    The insert already holds SQLite's write lock, so no other entry can slip in between."""
    row = session.execute(
        text(f"SELECT {_COLUMNS} FROM audit_log WHERE id = :i"), {"i": entry_id}
    ).one()
    entry_id, tenant, actor, action, detail, created_at, _, _ = tuple(row)
    prev = session.execute(
        text("SELECT hash FROM audit_log WHERE tenant = :t AND id < :i ORDER BY id DESC LIMIT 1"),
        {"t": tenant, "i": entry_id},
    ).scalar()
    prev = prev or GENESIS
    digest = entry_hash(prev, entry_id, tenant, actor, action, detail, created_at)
    session.execute(
        text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :i"),
        {"p": prev, "h": digest, "i": entry_id},
    )


def reseal(db: sqlite3.Connection, tenant: str, from_id: int = 0) -> int:
    """Recompute the tenant's chain from entry `from_id` on, on a plain sqlite3 connection
    (inside the caller's open transaction; this neither begins nor commits). Returns how
    many entries were resealed. For legitimate rewrites of old entries only."""
    before = db.execute(
        "SELECT hash FROM audit_log WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT 1",
        (tenant, from_id),
    ).fetchone()
    prev = before[0] if before and before[0] else GENESIS
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM audit_log WHERE tenant = ? AND id >= ? ORDER BY id",
        (tenant, from_id),
    ).fetchall()
    for entry_id, _, actor, action, detail, created_at, _, _ in rows:
        digest = entry_hash(prev, entry_id, tenant, actor, action, detail, created_at)
        db.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, entry_id)
        )
        prev = digest
    return len(rows)


def reseal_all(db: sqlite3.Connection) -> int:
    """Seal every tenant's chain (the migration that adds the hash columns)."""
    tenants = [r[0] for r in db.execute("SELECT DISTINCT tenant FROM audit_log").fetchall()]
    return sum(reseal(db, tenant) for tenant in tenants)
