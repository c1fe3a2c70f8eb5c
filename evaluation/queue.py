"""The review queue: replies waiting for a QA lead, why each entered, and the verdicts that
close them. A verdict with a corrected answer adds a case to the tenant's golden set.

A reply the end user rated down is queued with the reason `rated down by the end user`,
never with a copy of their comment: the comment stays only on the rated message and is
added to the reason when the queue is read (`QueueEntry.reasons`), while the reply is still
rated down. So a comment the end user changes or removes, or that is redacted or erased, is
changed or gone in the queue too. A reply the end user says did not help ("That's not what
I asked") is queued with the reason `the end user said it did not help`, their words again
not copied (`ReviewQueue.on_reply`): when the queue is read, the reason shows the message
they said it in, as the conversation holds it then (redacted or erased with it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.trace import Trace
from control import audit
from control.errors import BadRequest, NotFound, quoted
from control.models import Message, QueueItem, Review, TraceRecord
from control.regional import tenant_regions
from control.training import TrainingPolicy
from evaluation.golden import GoldenSets

VERDICTS = ("correct", "partially_correct", "incorrect", "should_have_handed_off", "unsafe")
RATED_DOWN = "rated down by the end user"
NOT_HELPED = "the end user said it did not help"


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class QueueEntry:
    """A queued reply; `reasons` as the QA lead reads them (a down-rating's with the end
    user's current comment)."""

    item: QueueItem
    trace: Trace
    reasons: list[str]


def _stored(reason: str) -> str:
    """The reason as it is kept: a down-rating without its comment (rows queued before the
    comment was left out held a copy of it)."""
    return RATED_DOWN if reason.startswith(f"{RATED_DOWN}: ") else reason


def _shown(stored: Sequence[str], comment: str | None, complaint: str | None) -> list[str]:
    said = {RATED_DOWN: comment, NOT_HELPED: complaint}
    reasons = [_stored(str(r)) for r in stored]
    shown = [f"{r}: {said[r]}" if said.get(r) else r for r in reasons]
    return list(dict.fromkeys(shown))


def _complains(trace: Trace) -> bool:
    """The end user says the agent's last reply did not help (small talk `not_helped`)."""
    understood = trace.ran("understand")
    said = understood.outputs.get("small_talk", {}) if understood else {}
    return isinstance(said, dict) and said.get("label") == "not_helped"


@tenant_regions
class ReviewQueue:
    def __init__(self, sessions: sessionmaker[Session], golden: GoldenSets) -> None:
        self._sessions = sessions
        self._golden = golden

    def enqueue(self, tenant: str, trace_id: str, reasons: Sequence[str]) -> None:
        """Queue a reply (again, if reviewed before), adding `reasons` to those it has."""
        with self._sessions.begin() as session:
            existing = session.scalars(
                select(QueueItem).where(QueueItem.tenant == tenant, QueueItem.trace_id == trace_id)
            ).first()
            if existing is None:
                session.add(
                    QueueItem(
                        id=_id("qa"), tenant=tenant, trace_id=trace_id, reasons=json.dumps(reasons)
                    )
                )
            else:
                merged = [_stored(r) for r in [*json.loads(existing.reasons), *reasons]]
                merged = list(dict.fromkeys(merged))
                existing.reasons = json.dumps(merged)
                existing.status = "open"

    def on_rating(self, message: Message) -> None:
        """A reply the end user rated down enters the queue (the reason refers to the rating;
        its comment is read from the message when the queue is listed)."""
        if message.rating == "down" and message.trace_id:
            self.enqueue(message.tenant, message.trace_id, [RATED_DOWN])

    def on_reply(self, trace: Trace) -> None:
        """An end user who says the agent's last reply did not help ("That's not what I
        asked": small talk of kind `not_helped`) puts that reply in the queue: the last one
        before theirs that is not a line of the agent's own (small talk routes, such as the
        sorry line or "You're welcome"). Their words are not copied into the reason."""
        if not _complains(trace) or trace.conversation_id is None:
            return
        complained = self._reply_before(trace.tenant, trace.conversation_id, trace.trace_id)
        if complained is not None:
            self.enqueue(trace.tenant, complained, [NOT_HELPED])

    def _reply_before(self, tenant: str, conversation_id: str, trace_id: str) -> str | None:
        """The trace id of the agent's last reply in the conversation before `trace_id`'s
        that went beyond small talk; None if there is none, or if a person from the team
        wrote after it (the complaint is about their words, not the agent's)."""
        with self._sessions() as session:
            earlier = session.execute(
                select(Message.role, Message.trace_id)
                .where(
                    Message.tenant == tenant,
                    Message.conversation_id == conversation_id,
                    Message.role.in_(("assistant", "human_agent")),
                    Message.visible.is_(True),
                )
                .order_by(Message.created_at.desc(), Message.id.desc())
            ).all()
            for role, earlier_id in earlier:
                if role == "human_agent":
                    return None
                mine = earlier_id not in (None, trace_id)
                row = session.get(TraceRecord, earlier_id) if mine else None
                route = Trace.model_validate_json(row.body).ran("route") if row else None
                if route is not None and route.outputs.get("route") != "small_talk":
                    return str(earlier_id)
        return None

    def entries(self, tenant: str, status: str = "open") -> list[QueueEntry]:
        with self._sessions() as session:
            items = session.scalars(
                select(QueueItem)
                .where(QueueItem.tenant == tenant, QueueItem.status == status)
                .order_by(QueueItem.created_at)
            ).all()
            trace_ids = [i.trace_id for i in items]
            traces = {
                row.id: row
                for row in session.scalars(select(TraceRecord).where(TraceRecord.id.in_(trace_ids)))
            }
            comments = {
                str(row.trace_id): row.rating_comment
                for row in session.scalars(
                    select(Message).where(
                        Message.tenant == tenant,
                        Message.trace_id.in_(trace_ids),
                        Message.rating == "down",  # a comment sent with a later up-rating
                        Message.rating_comment.is_not(None),  # is not shown as the reason
                    )
                )
            }
            complaints = {
                item.trace_id: self._complaint(session, traces[item.trace_id])
                for item in items
                if item.trace_id in traces and NOT_HELPED in json.loads(item.reasons)
            }
        return [
            QueueEntry(
                item,
                Trace.model_validate_json(traces[item.trace_id].body),
                _shown(
                    json.loads(item.reasons),
                    comments.get(item.trace_id),
                    complaints.get(item.trace_id),
                ),
            )
            for item in items
            if item.trace_id in traces
        ]

    @staticmethod
    def _complaint(session: Session, reply: TraceRecord) -> str | None:
        """The end user's first message after `reply` that said it did not help, as the
        conversation holds it now; None if there is none (erased, or not visible)."""
        messages = session.execute(
            select(Message.role, Message.text, Message.trace_id)
            .where(
                Message.tenant == reply.tenant,
                Message.conversation_id == reply.conversation_id,
                Message.visible.is_(True),
            )
            .order_by(Message.created_at, Message.id)
        ).all()
        seen = False
        for before, message in pairwise(messages):
            seen = seen or before.trace_id == reply.id
            if not seen or before.role != "user" or message.role != "assistant":
                continue
            row = session.get(TraceRecord, message.trace_id) if message.trace_id else None
            if row is not None and _complains(Trace.model_validate_json(row.body)):
                return str(before.text)
        return None

    def review(
        self,
        tenant: str,
        trace_id: str,
        reviewer: str,
        verdict: str,
        labels: Sequence[str],
        corrected_answer: str | None,
    ) -> Review:
        """Record a verdict on one reply; its queue entries close."""
        if verdict not in VERDICTS:
            raise BadRequest(f"verdict '{verdict}' is not one of: {', '.join(VERDICTS)}")
        trace = self._trace(tenant, trace_id)
        review = Review(
            id=_id("rev"), tenant=tenant, trace_id=trace_id, reviewer=reviewer, verdict=verdict,
            labels=json.dumps(list(labels)), corrected_answer=corrected_answer,
        )  # fmt: skip
        with self._sessions.begin() as session:
            session.add(review)
            for item in session.scalars(
                select(QueueItem).where(QueueItem.tenant == tenant, QueueItem.trace_id == trace_id)
            ):
                item.status = "reviewed"
        if corrected_answer and corrected_answer.strip():
            use = TrainingPolicy(self._sessions).decide(tenant, trace.conversation_id)
            if use.allowed:  # training use: tenant setting and end-user opt-out
                self._golden.add_correction(trace, verdict, corrected_answer.strip())
            audit.record(self._sessions, tenant, reviewer, "training.golden", trace=trace_id,
                         used=use.allowed, reason=use.reason)  # fmt: skip
        return review

    def reviews(self, tenant: str) -> list[Review]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(Review).where(Review.tenant == tenant).order_by(Review.created_at)
                )
            )

    def _trace(self, tenant: str, trace_id: str) -> Trace:
        with self._sessions() as session:
            row = session.get(TraceRecord, trace_id)
        if row is None or row.tenant != tenant:
            raise NotFound(f"trace {quoted(trace_id)} does not exist")
        return Trace.model_validate_json(row.body)
