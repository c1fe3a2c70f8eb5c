"""The production TraceStore: one row per trace in the control database, the typed JSON as
body. The QA loop scores these rows; evaluation runs keep their traces elsewhere."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from agent.trace import Trace
from control.models import TraceRecord
from control.regional import tenant_regions


@tenant_regions
class SqlTraceStore:
    """TraceStore in the control database (same contract as agent.trace.InMemoryTraceStore)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def save(self, trace: Trace) -> None:
        with self._sessions.begin() as session:
            row = session.get(TraceRecord, trace.trace_id)
            if row is None:
                row = TraceRecord(
                    id=trace.trace_id, tenant=trace.tenant, conversation_id=trace.conversation_id
                )
                session.add(row)
            row.body = trace.model_dump_json()

    def get(self, tenant: str, trace_id: str) -> Trace | None:
        with self._sessions() as session:
            row = session.get(TraceRecord, trace_id)
        if row is None or row.tenant != tenant:
            return None
        return Trace.model_validate_json(row.body)
