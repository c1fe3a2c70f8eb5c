"""Reading a tenant's audit log: pages for the API, everything since a moment for export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from control.audit_chain import _moment
from control.errors import BadRequest
from control.regional import tenant_region


@dataclass(frozen=True)
class AuditLine:
    id: int
    actor: str
    action: str
    detail: dict[str, Any]
    created_at: str
    prev_hash: str | None
    hash: str | None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def parse_since(value: str | None) -> datetime | None:
    """An ISO-8601 moment (naive = UTC), or BadRequest saying how to write one."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"since '{value}' is not an ISO-8601 moment; write e.g. 2026-12-01T00:00:00Z"
        ) from None
    try:
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    except OverflowError:
        raise BadRequest(
            f"since '{value}' is outside the years 1-9999 in UTC; write e.g. 2026-12-01T00:00:00Z"
        ) from None


@tenant_region
def entries(
    sessions: sessionmaker[Session], tenant: str, since: datetime | None = None,
    after_id: int = 0, limit: int | None = None,
) -> list[AuditLine]:  # fmt: skip
    """The tenant's entries in order, after entry `after_id` and at or after `since`."""
    sql = ("SELECT id, actor, action, detail, created_at, prev_hash, hash FROM audit_log "
           "WHERE tenant = :t AND id > :a")  # fmt: skip
    params: dict[str, Any] = {"t": tenant, "a": after_id}
    if since is not None:
        sql += " AND created_at >= :s"
        params["s"] = since.isoformat(sep=" ", timespec="microseconds")
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT :l"
        params["l"] = limit
    with sessions() as session:
        rows = session.execute(text(sql), params).all()
    return [_line(row) for row in rows]


def _line(row: Any) -> AuditLine:
    entry_id, actor, action, detail, created_at, prev_hash, digest = tuple(row)
    try:
        parsed = json.loads(detail)
    except ValueError:
        parsed = {"unparsed": detail}
    if not isinstance(parsed, dict):
        parsed = {"value": parsed}
    return AuditLine(int(entry_id), actor, action, parsed, _moment(created_at), prev_hash, digest)
