"""Conversations: end users' messages, the agent's replies, drafts, handoffs and ratings.

The rule that matters most: an end user only ever sees messages marked visible. A draft
(copilot mode, or a high-impact procedure action) is stored invisible and becomes visible
only when a human approves it, possibly edited.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.procedures.runner import ProcedureState
from agent.replies import ConversationState, Reply
from agent.trace import Trace
from agent.turn import Agent
from knowledge.query import Turn
from service.agents import TenantAgents
from service.errors import Conflict, NotFound
from service.models import Conversation, Message, TraceRecord

MAX_MESSAGE_CHARS = 4000


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


class SqlTraceStore:
    """TraceStore in the control database (one row per trace, the typed JSON as body)."""

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


@dataclass(frozen=True)
class Posted:
    message: Message  # the agent's message (visible or draft)
    reply: Reply


class Conversations:
    def __init__(self, sessions: sessionmaker[Session], agents: TenantAgents, agent: Agent) -> None:
        self._sessions = sessions
        self._agents = agents
        self._agent = agent
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, conversation_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(conversation_id, threading.Lock())

    def start(self, tenant: str, scenario: str = "", channel: str = "api") -> Conversation:
        conversation = Conversation(
            id=new_id("conv"), tenant=tenant, scenario=scenario.strip(), channel=channel
        )
        with self._sessions.begin() as session:
            session.add(conversation)
        return conversation

    def get(self, tenant: str, conversation_id: str) -> Conversation:
        with self._sessions() as session:
            conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.tenant != tenant:
            raise NotFound(f"conversation '{conversation_id}' does not exist")
        return conversation

    def messages(self, tenant: str, conversation_id: str, visible_only: bool) -> list[Message]:
        self.get(tenant, conversation_id)
        query = select(Message).where(Message.conversation_id == conversation_id)
        if visible_only:
            query = query.where(Message.visible.is_(True))
        with self._sessions() as session:
            return list(session.scalars(query.order_by(Message.created_at, Message.id)).all())

    def _add(
        self, session: Session, conversation: Conversation, role: str, text: str, **fields: object
    ) -> Message:
        message = Message(
            id=new_id("msg"),
            conversation_id=conversation.id,
            tenant=conversation.tenant,
            role=role,
            text=text,
            created_at=datetime.now(UTC),
            **fields,
        )
        session.add(message)
        return message

    def post(self, tenant: str, conversation_id: str, text: str) -> Posted:
        """The end user's message and the agent's reply, stored in order."""
        with self._lock(conversation_id):
            conversation = self.get(tenant, conversation_id)
            if conversation.status == "closed":
                raise Conflict(f"conversation '{conversation_id}' is closed")
            earlier = self.messages(tenant, conversation_id, visible_only=True)
            with self._sessions.begin() as session:
                self._add(session, conversation, "user", text)
            if conversation.status == "handoff":
                return self._waiting_for_human(tenant, conversation)
            last = next((m.decision for m in reversed(earlier) if m.role == "assistant"), None)
            state = ConversationState(
                conversation_id=conversation.id,
                history=tuple(
                    Turn("user" if m.role == "user" else "assistant", m.text) for m in earlier
                ),
                scenario=conversation.scenario,
                procedure_state=conversation.procedure_state,
                last_decision=last,
            )
            reply = self._agent.respond(self._agents.agent(tenant), state, text)
            return self._store_reply(conversation, reply)

    def _waiting_for_human(self, tenant: str, conversation: Conversation) -> Posted:
        """After a handoff the agent stays quiet; the message waits for the human agent."""
        from agent.trace import Decision

        trace = Trace(tenant=tenant, conversation_id=conversation.id, question="")
        rule = "the conversation is with a human agent; the AI does not reply"
        trace.decision = Decision(decision="handoff", proposed="handoff", confidence=1.0, rule=rule)
        for name in ("understand", "route", "retrieve", "compose", "verify", "decide"):
            trace.skip(name, rule)
        text = "Your message has been passed to our team; a person will reply here."
        with self._sessions.begin() as session:
            message = self._add(session, conversation, "assistant", text, decision="handoff",
                                trace_id=trace.trace_id)  # fmt: skip
        trace.message_id = message.id
        self._agent.traces.save(trace)
        reply = Reply(
            text, text, "handoff", "handoff", 1.0, [], trace, conversation.procedure_state,
            conversation.handoff_summary, None,
        )  # fmt: skip
        return Posted(message, reply)

    def _store_reply(self, conversation: Conversation, reply: Reply) -> Posted:
        draft = reply.decision == "draft"
        citations = [c.__dict__ for c in reply.citations]
        with self._sessions.begin() as session:
            row = session.get(Conversation, conversation.id)
            assert row is not None
            row.procedure_state = reply.procedure_state
            row.updated_at = datetime.now(UTC)
            if reply.decision == "handoff":
                row.status = "handoff"
                row.handoff_summary = reply.handoff_summary
            if draft:
                # The end user gets the holding notice; the draft waits, invisible.
                self._add(session, row, "assistant", reply.text, decision="draft",
                          trace_id=reply.trace.trace_id)  # fmt: skip
                message = self._add(
                    session, row, "assistant", reply.draft_text, visible=False,
                    decision="draft", confidence=reply.confidence,
                    citations=json.dumps(citations),
                    trace_id=reply.trace.trace_id, draft_status="pending",
                )  # fmt: skip
            else:
                message = self._add(
                    session, row, "assistant", reply.text, decision=reply.decision,
                    confidence=reply.confidence, citations=json.dumps(citations),
                    trace_id=reply.trace.trace_id,
                )  # fmt: skip
        reply.trace.message_id = message.id
        self._agent.traces.save(reply.trace)
        return Posted(message, reply)

    # -- human agents ----------------------------------------------------------------

    def handoffs(self, tenant: str) -> list[Conversation]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(Conversation)
                    .where(Conversation.tenant == tenant, Conversation.status == "handoff")
                    .order_by(Conversation.updated_at)
                ).all()
            )

    def human_reply(self, tenant: str, conversation_id: str, actor: str, text: str) -> Message:
        conversation = self.get(tenant, conversation_id)
        with self._sessions.begin() as session:
            message = self._add(session, conversation, "human_agent", text, reviewed_by=actor)
        return message

    def resolve(self, tenant: str, conversation_id: str, status: str) -> Conversation:
        self.get(tenant, conversation_id)
        with self._sessions.begin() as session:
            row = session.get(Conversation, conversation_id)
            assert row is not None
            row.status = status
            row.updated_at = datetime.now(UTC)
        return self.get(tenant, conversation_id)

    def drafts(self, tenant: str) -> list[Message]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(Message)
                    .where(Message.tenant == tenant, Message.draft_status == "pending")
                    .order_by(Message.created_at)
                ).all()
            )

    def review(
        self, tenant: str, message_id: str, actor: str, approve: bool, text: str | None
    ) -> Message:
        """Approve (optionally edited) or reject a draft. A pending high-impact procedure
        action runs only on approval; a rejection hands the conversation to a human."""
        with self._sessions() as session:
            draft = session.get(Message, message_id)
        if draft is None or draft.tenant != tenant or draft.draft_status is None:
            raise NotFound(f"draft '{message_id}' does not exist")
        if draft.draft_status != "pending":
            raise Conflict(f"draft '{message_id}' was already {draft.draft_status}")
        conversation = self.get(tenant, draft.conversation_id)
        state = _pending_procedure(conversation.procedure_state)
        final = (text or draft.text).strip()
        new_state = conversation.procedure_state
        if state is not None:
            runner = self._agents.agent(tenant).procedures
            assert runner is not None
            outcome = runner.approve(state, approve, actor)
            final = outcome.text if not text else final
            terminal = outcome.state.status in ("done", "handoff")
            new_state = None if terminal else outcome.state.to_json()
            approve = approve and outcome.decision != "handoff"
        with self._sessions.begin() as session:
            row = session.get(Message, message_id)
            conv = session.get(Conversation, conversation.id)
            assert row is not None and conv is not None
            row.draft_status = "approved" if approve else "rejected"
            row.reviewed_by = actor
            conv.procedure_state = new_state
            if approve:
                row.text = final
                row.visible = True
                row.created_at = datetime.now(UTC)
            else:
                conv.status = "handoff"
                conv.handoff_summary = f"A human rejected the agent's draft: {draft.text[:300]}"
                if state is not None and final:
                    self._add(session, conv, "assistant", final, decision="handoff")
        with self._sessions() as session:
            updated = session.get(Message, message_id)
        assert updated is not None
        return updated

    def rate(self, tenant: str, message_id: str, rating: str, comment: str | None) -> Message:
        with self._sessions.begin() as session:
            row = session.get(Message, message_id)
            if row is None or row.tenant != tenant or not row.visible or row.role != "assistant":
                raise NotFound(f"reply '{message_id}' does not exist")
            row.rating = rating
            row.rating_comment = comment
        with self._sessions() as session:
            updated = session.get(Message, message_id)
        assert updated is not None
        return updated


def _pending_procedure(procedure_state: str | None) -> ProcedureState | None:
    if not procedure_state:
        return None
    state = ProcedureState.from_json(procedure_state)
    return state if state.status == "waiting_approval" else None
