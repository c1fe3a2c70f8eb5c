"""Whether a tenant's conversations may be used to learn from: the tenant's `training_use`
(allowed | denied, default denied, control/customer.py) and each end user's opt-out. A
conversation without an end_user_id opts out under `conversation:<id>`.

Everything that learns from conversations (golden cases from corrections, training-data
exports) asks `TrainingPolicy.decide` first. Opting out also removes golden cases already
made from that end user's conversations.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from control.customer import CustomerControls
from control.errors import NotFound, quoted
from control.models import Conversation, GoldenCase, TraceRecord
from control.models_customer import TrainingOptOut
from control.regional import tenant_regions


@dataclass(frozen=True)
class TrainingUse:
    allowed: bool
    reason: str  # "permitted", "tenant training_use is denied", "end user opted out"


def subject_of(conversation: Conversation) -> str:
    """Who opts out for this conversation: its end user, or the conversation itself."""
    return conversation.end_user_id or f"conversation:{conversation.id}"


@tenant_regions
class TrainingPolicy:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def tenant_allows(self, tenant: str) -> bool:
        return CustomerControls(self._sessions).get(tenant).training_use == "allowed"

    def opted_out(self, tenant: str) -> set[str]:
        with self._sessions() as session:
            rows = session.scalars(
                select(TrainingOptOut.end_user_id).where(TrainingOptOut.tenant == tenant)
            ).all()
        return set(rows)

    def decide(self, tenant: str, conversation_id: str | None) -> TrainingUse:
        if not self.tenant_allows(tenant):
            return TrainingUse(False, "tenant training_use is denied")
        if conversation_id is None:
            return TrainingUse(False, "not from a conversation")
        with self._sessions() as session:
            conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.tenant != tenant:
            return TrainingUse(False, "conversation not found")
        if subject_of(conversation) in self.opted_out(tenant):
            return TrainingUse(False, "end user opted out")
        return TrainingUse(True, "permitted")

    def opt_out(self, tenant: str, subject: str, actor: str) -> int:
        """Record the opt-out and remove golden cases made from the subject's conversations;
        returns how many were removed."""
        with self._sessions.begin() as session:
            if session.get(TrainingOptOut, (tenant, subject)) is None:
                session.add(TrainingOptOut(tenant=tenant, end_user_id=subject, actor=actor))
            conversations = [
                c.id
                for c in session.scalars(select(Conversation).where(Conversation.tenant == tenant))
                if subject_of(c) == subject
            ]
            traces = session.scalars(
                select(TraceRecord.id).where(
                    TraceRecord.tenant == tenant, TraceRecord.conversation_id.in_(conversations)
                )
            ).all()
            ids = [f"correction-{trace_id}" for trace_id in traces]
            removed = session.execute(
                delete(GoldenCase).where(GoldenCase.tenant == tenant, GoldenCase.id.in_(ids))
            )
            return int(getattr(removed, "rowcount", 0) or 0)

    def opt_in(self, tenant: str, subject: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(TrainingOptOut, (tenant, subject))
            if row is None:
                raise NotFound(f"{quoted(subject)} has not opted out of training use")
            session.delete(row)
