"""Intent rows for privacy operations: written before the first change, updated after each
step, closed at the end. A process killed in between leaves the row `running`; the next
privacy command (or the re-run of the same one) finds it and finishes it.

    log = OperationLog(sessions)
    op = log.start("acme", "redact", actor="cli")
    log.step(op, "control", {"messages.text": 2})
    log.finish(op)

Rows never hold the personal values an operation removes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from control.models import utcnow
from control.models_privacy import PrivacyOperation
from control.regional import tenant_regions


@dataclass
class Operation:
    """A privacy operation in progress: what it is and what each finished step changed."""

    id: str
    tenant: str
    kind: str
    subject: str
    actor: str
    options: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, Any] = field(default_factory=dict)


@tenant_regions
class OperationLog:
    """The `privacy_operations` table of the control database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def start(
        self,
        tenant: str,
        kind: str,
        actor: str,
        subject: str = "",
        options: dict[str, Any] | None = None,
    ) -> Operation:
        operation = Operation(
            f"op_{uuid.uuid4().hex}", tenant, kind, subject, actor, dict(options or {})
        )
        with self._sessions.begin() as session:
            session.add(
                PrivacyOperation(
                    id=operation.id,
                    tenant=tenant,
                    kind=kind,
                    subject=subject,
                    actor=actor,
                    status="running",
                    step="started",
                    options=json.dumps(operation.options),
                    counts="{}",
                )
            )
        return operation

    def step(self, operation: Operation, name: str, counts: Any) -> None:
        """Record that step `name` finished, with what it changed."""
        operation.steps[name] = counts
        self._save(operation, name, "running")

    def finish(self, operation: Operation) -> None:
        self._save(operation, "finished", "done")

    def _save(self, operation: Operation, step: str, status: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(PrivacyOperation, operation.id)
            if row is None:  # a redaction of this very table's text cannot remove it
                return
            row.step = step
            row.status = status
            row.counts = json.dumps(operation.steps, default=str)
            row.updated_at = utcnow()

    def unfinished(self, tenant: str | None = None, kind: str | None = None) -> list[Operation]:
        """Operations a killed process left running, oldest first."""
        query = select(PrivacyOperation).where(PrivacyOperation.status == "running")
        if tenant is not None:
            query = query.where(PrivacyOperation.tenant == tenant)
        if kind is not None:
            query = query.where(PrivacyOperation.kind == kind)
        with self._sessions() as session:
            rows = session.scalars(query.order_by(PrivacyOperation.created_at)).all()
        return [
            Operation(
                row.id,
                row.tenant,
                row.kind,
                row.subject,
                row.actor,
                json.loads(row.options),
                json.loads(row.counts),
            )
            for row in rows
        ]
