"""The tenant's audit log for admins: pages of entries (each with its chain hashes) and a
check of the hash chain."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from control.audit_chain import verify
from control.audit_read import entries, parse_since
from service.deps import AdminDep, RuntimeDep
from service.schemas import ErrorResponse

router = APIRouter(tags=["audit"])
MAX_ID = 2**63 - 1  # SQLite's largest INTEGER
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 422)
}


class AuditEntryPublic(BaseModel):
    id: int
    actor: str
    action: str
    detail: dict[str, Any]
    created_at: str
    prev_hash: str | None
    hash: str | None


class AuditPage(BaseModel):
    """One page, oldest first; pass `next_after` as `after` for the next page (null: done)."""

    entries: list[AuditEntryPublic]
    next_after: int | None


@router.get("/v1/audit", response_model=AuditPage, responses=_ERRORS)
def list_audit(
    principal: AdminDep, runtime: RuntimeDep,
    since: str | None = Query(None, description="ISO-8601 moment; entries at or after it"),
    after: int = Query(0, ge=0, le=MAX_ID, description="entry id the previous page ended with"),
    limit: int = Query(100, ge=1, le=1000),
) -> AuditPage:  # fmt: skip
    """Who did what, when, from which key, for the caller's tenant."""
    lines = entries(runtime.sessions, principal.tenant, parse_since(since), after, limit + 1)
    more = len(lines) > limit
    page = lines[:limit]
    return AuditPage(
        entries=[AuditEntryPublic(**line.as_json()) for line in page],
        next_after=page[-1].id if more and page else None,
    )


@router.get("/v1/audit/verify", responses=_ERRORS)
def verify_audit(principal: AdminDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Check the tenant's hash chain; `first_broken` names the first entry that fails."""
    with runtime.sessions() as session:
        return verify(session, principal.tenant).as_json()
