"""The audit log: who did what, when, from which key (knowledge, tenants, keys,
configuration and feature switches, approvals, reviews, redactions, erasures, retention
runs, exports). Details name ids and counts, never personal values. Each entry is chained
to the tenant's previous one by hash (control/audit_chain.py)."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session, sessionmaker

from control.audit_chain import seal_new
from control.models import AuditEntry
from control.regional import tenant_region


@tenant_region
def record(
    sessions: sessionmaker[Session], tenant: str, actor: str, action: str, **detail: object
) -> None:
    """Append one entry (`detail` stored as JSON) and seal it into the tenant's chain."""
    with sessions.begin() as session:
        entry = AuditEntry(tenant=tenant, actor=actor, action=action,
                           detail=json.dumps(detail, default=str))  # fmt: skip
        session.add(entry)
        session.flush()
        seal_new(session, entry.id)
