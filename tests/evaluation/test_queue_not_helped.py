"""A reply the end user says did not help enters the review queue (`ReviewQueue.on_reply`):
the agent's last reply that went beyond small talk, never a line of its own, and never a
reply a person from the team wrote after (the complaint is then about their words). The
reason shows what the end user said, read from the conversation when the queue is listed.
The HTTP behaviour is in tests/agent/test_conversation_http.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from agent.trace import Step, Trace
from control.db import make_engine, migrate, session_factory
from control.models import Conversation, Message, Tenant, TraceRecord
from evaluation.golden import GoldenSets
from evaluation.queue import NOT_HELPED, ReviewQueue

TENANT, CONVERSATION = "acme", "conv_1"


class Chat:
    """A conversation written straight into a real SQLite control database."""

    def __init__(self, tmp_path: Path) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'control.db'}")
        migrate(engine)
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.queue = ReviewQueue(self.sessions, GoldenSets(self.sessions))
        self._at = datetime(2026, 12, 7, tzinfo=UTC)
        for row in (Tenant(name=TENANT, region="us"), Conversation(id=CONVERSATION, tenant=TENANT)):
            with self.sessions.begin() as session:
                session.add(row)

    def _message(self, role: str, text: str, trace_id: str | None = None) -> None:
        self._at += timedelta(seconds=1)
        with self.sessions.begin() as session:
            session.add(Message(id=f"msg_{self._at.timestamp():.0f}", tenant=TENANT,
                                conversation_id=CONVERSATION, role=role, text=text,
                                trace_id=trace_id, created_at=self._at))  # fmt: skip

    def agent(self, question: str, reply: str, route: str, small_talk: str = "none") -> Trace:
        """The end user's `question` and the agent's `reply`, routed to `route`."""
        trace = Trace(tenant=TENANT, conversation_id=CONVERSATION, question=question, reply=reply)
        trace.steps = [
            Step(name="understand", outputs={"small_talk": {"label": small_talk}}),
            Step(name="route", outputs={"route": route}),
        ]
        with self.sessions.begin() as session:
            body = trace.model_dump_json()
            session.add(TraceRecord(id=trace.trace_id, tenant=TENANT,
                                    conversation_id=CONVERSATION, body=body))  # fmt: skip
        self._message("user", question)
        self._message("assistant", reply, trace.trace_id)
        return trace

    def person(self, text: str) -> None:
        self._message("human_agent", text)

    def complain(self, text: str = "That's not what I asked") -> Trace:
        trace = self.agent(text, "I'm sorry that didn't help.", "small_talk", "not_helped")
        self.queue.on_reply(trace)
        return trace

    def reasons(self) -> dict[str, list[str]]:
        return {e.trace.trace_id: e.reasons for e in self.queue.entries(TENANT)}


@pytest.fixture
def chat(tmp_path: Path) -> Chat:
    return Chat(tmp_path)


def test_the_answer_before_the_complaint_is_queued_past_the_agents_own_lines(chat: Chat) -> None:
    earlier = chat.agent("How long does shipping take?", "3 to 5 working days.", "knowledge")
    answer = chat.agent("How much is it?", "Standard shipping is $5.", "knowledge")
    thanks = chat.agent("thanks", "You're welcome.", "small_talk", "thanks")
    sorry = chat.complain()
    said = f"{NOT_HELPED}: That's not what I asked"
    assert chat.reasons() == {answer.trace_id: [said]}
    chat.complain("that doesn't help")  # said again: the same answer, still one reason
    assert chat.reasons() == {answer.trace_id: [said]}
    assert {earlier.trace_id, thanks.trace_id, sorry.trace_id}.isdisjoint(chat.reasons())


def test_a_procedures_question_is_queued_too(chat: Chat) -> None:
    """A procedure's question ("What is your order number?") may have been a wrong route."""
    asked = chat.agent("How long does shipping take?", "What is your order number?", "procedure")
    chat.complain()
    assert chat.reasons() == {asked.trace_id: [f"{NOT_HELPED}: That's not what I asked"]}


def test_nothing_is_queued_after_a_person_wrote_or_with_no_earlier_reply(chat: Chat) -> None:
    chat.complain()  # the first message of the conversation
    assert chat.reasons() == {}
    chat.agent("How much is shipping?", "Standard shipping is $5.", "knowledge")
    chat.person("Hi, I'm Sam from the team: shipping is free this week.")
    chat.complain()
    assert chat.reasons() == {}


def test_other_messages_queue_nothing(chat: Chat) -> None:
    chat.agent("How much is shipping?", "Standard shipping is $5.", "knowledge")
    chat.queue.on_reply(chat.agent("thanks", "You're welcome.", "small_talk", "thanks"))
    chat.queue.on_reply(chat.agent("And returns?", "Within 30 days.", "knowledge"))
    assert chat.reasons() == {}


def test_the_complaint_is_read_from_the_conversation_as_it_is_now(chat: Chat) -> None:
    """The words are not copied into the queue: a redacted message shows redacted, and a
    message no longer there leaves the bare reason (the reply stays queued)."""
    answer = chat.agent("How much is shipping?", "Standard shipping is $5.", "knowledge")
    chat.complain("Not what I asked, I'm Jo Bloggs")
    assert chat.reasons() == {answer.trace_id: [f"{NOT_HELPED}: Not what I asked, I'm Jo Bloggs"]}
    with chat.sessions.begin() as session:
        where = Message.text == "Not what I asked, I'm Jo Bloggs"
        session.execute(update(Message).where(where).values(text="Not what I asked, I'm [NAME]"))
    assert chat.reasons() == {answer.trace_id: [f"{NOT_HELPED}: Not what I asked, I'm [NAME]"]}
    with chat.sessions.begin() as session:
        session.execute(delete(Message).where(Message.text == "Not what I asked, I'm [NAME]"))
    assert chat.reasons() == {answer.trace_id: [NOT_HELPED]}
