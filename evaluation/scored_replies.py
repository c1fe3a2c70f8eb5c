"""The scored replies of a tenant, as the quality report reads them: scores, intent,
decision, the end user's rating and the QA lead's verdict."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.trace import Trace
from control.models import Message, Review, TraceRecord
from control.regional import tenant_region
from evaluation.records import ScoredReply


@tenant_region
def scored_replies(
    sessions: sessionmaker[Session], tenant: str, limit: int = 5000
) -> list[ScoredReply]:
    """The newest `limit` scored replies of the tenant (those that reached a decision)."""
    with sessions() as session:
        rows = session.scalars(
            select(TraceRecord)
            .where(TraceRecord.tenant == tenant, TraceRecord.scored_at.is_not(None))
            .order_by(TraceRecord.created_at.desc())
            .limit(limit)
        ).all()
        ratings = {
            m.trace_id: m.rating
            for m in session.scalars(
                select(Message).where(Message.tenant == tenant, Message.rating.is_not(None))
            )
        }
        verdicts = {
            r.trace_id: r.verdict
            for r in session.scalars(select(Review).where(Review.tenant == tenant))
        }
    out = []
    for row in rows:
        trace = Trace.model_validate_json(row.body)
        if trace.decision is None:
            continue
        intent = ""
        for step in trace.steps:
            if step.name == "understand" and step.status == "ran":
                intent = str(step.outputs.get("intent", {}).get("label", ""))
        scores = {
            name: (s.get("value") if isinstance(s, dict) else None)
            for name, s in trace.scores.items()
            if isinstance(s, dict)
        }
        out.append(
            ScoredReply(
                trace_id=trace.trace_id,
                created_at=trace.created_at,
                question=trace.question,
                answer=trace.reply,
                decision=trace.decision.decision,
                intent=intent or "unknown",
                confidence=trace.decision.confidence,
                scores=scores,
                rating=ratings.get(trace.trace_id),
                verdict=verdicts.get(trace.trace_id),
            )
        )
    return out
