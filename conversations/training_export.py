"""Training-data export: a tenant's conversations that may be learned from, with personal
data replaced by placeholders. Only when the tenant's `training_use` is allowed, and never a
conversation whose end user opted out (control/training.py). Each line is one conversation:
its visible messages in order and the QA leads' corrected answers to its replies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from control.models import Conversation, Message, Review, TraceRecord
from control.regional import tenant_region, tenant_regions
from control.training import TrainingPolicy, subject_of


@dataclass
@tenant_regions
class TrainingExport:
    tenant: str
    lines: list[dict[str, Any]] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)  # conversations, by reason

    def record(self) -> dict[str, Any]:
        """What was used: conversation ids (no text) and what was left out, by reason."""
        return {"conversations": [line["conversation_id"] for line in self.lines],
                "excluded": dict(self.excluded)}  # fmt: skip


@tenant_region
def export_training(
    sessions: sessionmaker[Session], tenant: str, mask: Callable[[str], str]
) -> TrainingExport:
    """The permitted conversations of `tenant`, every text passed through `mask`."""
    policy = TrainingPolicy(sessions)
    result = TrainingExport(tenant)
    with sessions() as session:
        conversations = session.scalars(
            select(Conversation)
            .where(Conversation.tenant == tenant)
            .order_by(Conversation.created_at, Conversation.id)
        ).all()
        if not policy.tenant_allows(tenant):
            result.excluded["tenant training_use is denied"] = len(conversations)
            return result
        opted_out = policy.opted_out(tenant)
        for conversation in conversations:
            if subject_of(conversation) in opted_out:
                result.excluded["end user opted out"] += 1
                continue
            line = _line(session, conversation, mask)
            if line["messages"]:
                result.lines.append(line)
    return result


def _line(
    session: Session, conversation: Conversation, mask: Callable[[str], str]
) -> dict[str, Any]:
    messages = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.visible.is_(True))
        .order_by(Message.created_at, Message.id)
    ).all()
    traces = select(TraceRecord.id).where(TraceRecord.conversation_id == conversation.id)
    corrections = session.scalars(
        select(Review.corrected_answer).where(
            Review.tenant == conversation.tenant, Review.trace_id.in_(traces),
            Review.corrected_answer.is_not(None),
        ).order_by(Review.created_at)
    ).all()  # fmt: skip
    return {
        "conversation_id": conversation.id,
        "messages": [{"role": m.role, "text": mask(m.text)} for m in messages],
        "corrections": [mask(text) for text in corrections if text],
    }
