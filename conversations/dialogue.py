"""Conversations: end users' messages, the agent's replies, drafts, handoffs and ratings.

The rule that matters most: an end user only ever sees messages marked visible. A draft
(copilot mode, or a high-impact procedure action) is stored invisible and becomes visible
only when a human approves it, possibly edited. A draft of an action is bound to that action
and its procedure state when it is made; approving it runs exactly that, at most once
(conversations.approvals). While an action waits for approval, the conversation's procedure
state stays where it is: new messages are answered from knowledge (or handed off) and no
other procedure starts until the draft is approved or rejected.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.procedures.runner import ProcedureState
from agent.replies import ConversationState, Reply
from agent.trace import Trace
from agent.turn import Agent
from control.errors import Conflict, NotFound, quoted
from control.models import Conversation, Message
from control.regional import tenant_regions
from conversations.agents import TenantAgents
from conversations.approvals import (
    Approvals,
    BoundAction,
    Reviewed,
    bind_action,
    closed_for_replies,
)
from conversations.consent import ConsentGate
from knowledge.query import Turn

logger = logging.getLogger(__name__)


class Keep(Enum):
    """`Conversations.rate(comment=KEEP)`: the stored comment stays as it is."""

    COMMENT = "keep"


KEEP = Keep.COMMENT


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Posted:
    message: Message  # the agent's message (visible or draft)
    reply: Reply


@tenant_regions
class Conversations:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        agents: TenantAgents,
        agent: Agent,
        on_reply: Callable[[Trace], None] | None = None,
    ) -> None:
        """`on_reply(trace)` is called with each reply's trace once it is stored (the review
        queue takes the replies an end user says did not help)."""
        self._sessions = sessions
        self._agents = agents
        self._agent = agent
        self._on_reply = on_reply
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._approvals = Approvals(sessions, agents, self._lock, self._add)

    def _lock(self, conversation_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(conversation_id, threading.Lock())

    def start(
        self,
        tenant: str,
        scenario: str = "",
        channel: str = "api",
        end_user_id: str | None = None,
        token_hash: str | None = None,
    ) -> Conversation:
        """A new conversation of `end_user_id` (if the company's backend named one), reachable
        by end users with the token whose hash is `token_hash` (conversations/identity.py)."""
        conversation = Conversation(
            id=new_id("conv"), tenant=tenant, scenario=scenario.strip(), channel=channel,
            end_user_id=end_user_id, token_hash=token_hash,
        )  # fmt: skip
        with self._sessions.begin() as session:
            session.add(conversation)
        return conversation

    def get(self, tenant: str, conversation_id: str) -> Conversation:
        with self._sessions() as session:
            conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.tenant != tenant:
            raise NotFound(f"conversation {quoted(conversation_id)} does not exist")
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
                raise Conflict(
                    f"conversation {quoted(conversation_id)} is closed, so it takes no more "
                    "messages; start a new conversation (POST /v1/conversations)"
                )
            consent = ConsentGate(self._sessions, lambda t: self._agents.config(t).privacy_notice)
            consent.check(tenant, conversation.id)  # before anything is stored
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
            tenant_agent = self._agents.agent(tenant)
            paused = _waiting_approval(conversation.procedure_state)
            if paused:  # no procedure starts while an action waits for approval
                tenant_agent = replace(tenant_agent, procedure_intents={})
            reply = self._agent.respond(tenant_agent, state, text)
            if paused:
                route = reply.trace.step("route")
                route.reason += (
                    "; an action of this conversation waits for a human's approval, so no "
                    "procedure starts until it is approved or rejected"
                )
                route.outputs["procedures_paused"] = True
                reply = replace(reply, procedure_state=conversation.procedure_state)
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
                if reply.needs_approval and reply.procedure_state:
                    bind_action(session, message, reply.procedure_state)
            else:
                message = self._add(
                    session, row, "assistant", reply.text, decision=reply.decision,
                    confidence=reply.confidence, citations=json.dumps(citations),
                    trace_id=reply.trace.trace_id,
                )  # fmt: skip
        reply.trace.message_id = message.id
        self._agent.traces.save(reply.trace)
        if self._on_reply is not None:
            try:  # the reply is stored and goes out even if what follows it fails
                self._on_reply(reply.trace)
            except Exception:
                logger.exception("after the reply %s was stored", reply.trace.trace_id)
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
        """A human agent's reply, shown at once; Conflict if the conversation is closed
        (checked under the conversation's lock, which closing takes too)."""
        self.get(tenant, conversation_id)  # no lock is kept for an id that does not exist
        with self._lock(conversation_id):
            conversation = self.get(tenant, conversation_id)
            if conversation.status == "closed":
                raise Conflict(closed_for_replies(conversation_id))
            with self._sessions.begin() as session:
                message = self._add(session, conversation, "human_agent", text, reviewed_by=actor)
        return message

    def resolve(self, tenant: str, conversation_id: str, status: str) -> Conversation:
        """Set the status; under the conversation's lock, so a reply or an approval that
        checked for `closed` is sent before the conversation closes, or not at all."""
        self.get(tenant, conversation_id)  # no lock is kept for an id that does not exist
        with self._lock(conversation_id), self._sessions.begin() as session:
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
    ) -> Reviewed:
        """Approve (optionally edited) or reject a draft; see conversations.approvals."""
        return self._approvals.review(tenant, message_id, actor, approve, text)

    def release_interrupted_reviews(self) -> list[str]:
        """Drafts a killed process left mid-review become pending again (server start)."""
        return self._approvals.release_interrupted()

    def bound_actions(self, tenant: str, message_ids: list[str]) -> dict[str, BoundAction]:
        """The actions these drafts approve, by draft id (drafts of plain replies absent)."""
        return self._approvals.bound(tenant, message_ids)

    def rate(
        self, tenant: str, message_id: str, rating: str, comment: str | Keep | None = KEEP
    ) -> Message:
        """Rate a visible reply `up` or `down`. `comment` replaces the stored comment; None
        or a blank comment removes it; KEEP (the default) leaves it as it is, so a change of
        rating never loses a comment sent earlier."""
        with self._sessions.begin() as session:
            row = session.get(Message, message_id)
            if row is None or row.tenant != tenant or not row.visible or row.role != "assistant":
                raise NotFound(f"reply {quoted(message_id)} does not exist")
            row.rating = rating
            if comment is not KEEP:
                row.rating_comment = comment if comment and comment.strip() else None
        with self._sessions() as session:
            updated = session.get(Message, message_id)
        assert updated is not None
        return updated


def _waiting_approval(procedure_state: str | None) -> bool:
    if not procedure_state:
        return False
    return ProcedureState.from_json(procedure_state).status == "waiting_approval"
