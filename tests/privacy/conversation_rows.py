"""Conversations written straight into a real, migrated control database, shaped as the
service writes them (a user message, the reply with its trace, the trace's understand step
and scores, a queue item, a review with a correction that became a golden case, audit
entries naming the ids), with chosen ages; and a dump of every table to compare states."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from agent.trace import Decision, Step, Trace
from control.db import make_engine, migrate, session_factory
from control.models import (
    AuditEntry,
    Conversation,
    GoldenCase,
    Message,
    QueueItem,
    Review,
    Tenant,
    TraceRecord,
)
from knowledge.store import KnowledgeStore
from knowledge.testing import HashEmbedder
from privacy.places import DataPlaces

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def control_db(data_dir: Path, tenants: tuple[str, ...] = ("acme",)) -> sessionmaker[Session]:
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{data_dir / 'clearline.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        for tenant in tenants:
            session.add(Tenant(name=tenant, region="eu"))
    return sessions


def places(data_dir: Path, sessions: sessionmaker[Session]) -> DataPlaces:
    """The privacy operations' view of a data directory with only a control database (the
    cascade never reads knowledge; a knowledge request fails the test)."""

    def no_knowledge(tenant: str) -> KnowledgeStore:
        raise AssertionError("conversation removal must not touch the knowledge store")

    return DataPlaces(
        data_dir=data_dir,
        control_db=lambda tenant: data_dir / "clearline.db",  # one database for every tenant
        sessions=sessions,
        knowledge=no_knowledge,
        embedder=HashEmbedder(),
    )


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Made:
    conversation_id: str
    trace_ids: list[str]


def add_conversation(
    sessions: sessionmaker[Session],
    tenant: str = "acme",
    *,
    question: str = "How long do I have to return an item?",
    age_days: float = 0,
    end_user_id: str | None = None,
    channel: str = "api",
    intent: str = "returns",
    decision: str = "answered",
    labels: tuple[str, ...] = (),
    turns: int = 1,
    now: datetime = NOW,
) -> Made:
    """One conversation whose last activity was `age_days` before `now`, with `turns`
    question/reply pairs, each reply scored, queued and (with `labels`) reviewed."""
    when = now - timedelta(days=age_days)
    conversation_id = _id("conv")
    traces: list[str] = []
    with sessions.begin() as session:
        session.add(
            Conversation(
                id=conversation_id,
                tenant=tenant,
                channel=channel,
                end_user_id=end_user_id,
                status="handoff" if decision == "handoff" else "open",
                created_at=when - timedelta(minutes=turns),
                updated_at=when,
            )
        )
        session.flush()
        for turn in range(turns):
            at = when - timedelta(minutes=turns - turn - 1)
            traces.append(
                _turn(
                    session,
                    tenant,
                    conversation_id,
                    f"{question} ({turn})",
                    at,
                    intent,
                    decision,
                    labels,
                )
            )
        session.add(
            AuditEntry(
                tenant=tenant,
                actor="key_agent",
                action="conversation.reply",
                detail=json.dumps({"conversation": conversation_id}),
                created_at=when,
            )
        )
    return Made(conversation_id, traces)


def _turn(
    session: Session,
    tenant: str,
    conversation_id: str,
    question: str,
    at: datetime,
    intent: str,
    decision: str,
    labels: tuple[str, ...],
) -> str:
    trace = Trace(
        tenant=tenant,
        conversation_id=conversation_id,
        question=question,
        created_at=at,
        reply=f"About '{question}': 30 days.",
    )
    trace.steps.append(
        Step(
            name="understand",
            inputs={"message": question},
            outputs={"intent": {"label": intent, "confidence": 0.9, "detail": {}}},
        )
    )
    trace.decision = Decision.model_validate(
        {"decision": decision, "proposed": "answered", "confidence": 0.8, "rule": "test"}
    )
    trace.scores = {"faithfulness": {"value": 0.9}}
    user = Message(
        id=_id("msg"),
        conversation_id=conversation_id,
        tenant=tenant,
        role="user",
        text=question,
        created_at=at,
    )
    reply = Message(
        id=_id("msg"),
        conversation_id=conversation_id,
        tenant=tenant,
        role="assistant",
        text=trace.reply,
        decision=decision,
        trace_id=trace.trace_id,
        rating="down",
        rating_comment=question,
        created_at=at,
    )
    trace.message_id = reply.id
    session.add_all([user, reply])
    session.add(
        TraceRecord(
            id=trace.trace_id,
            tenant=tenant,
            conversation_id=conversation_id,
            body=trace.model_dump_json(),
            created_at=at,
            scored_at=at,
        )
    )
    session.add(
        QueueItem(
            id=_id("qa"),
            tenant=tenant,
            trace_id=trace.trace_id,
            reasons=json.dumps([f"rated down by the end user: {question}"]),
            created_at=at,
        )
    )
    if labels:
        session.add(
            Review(
                id=_id("rev"),
                tenant=tenant,
                trace_id=trace.trace_id,
                reviewer="key_qa",
                verdict="partially_correct",
                labels=json.dumps(list(labels)),
                corrected_answer=f"For '{question}': 30 days.",
                created_at=at,
            )
        )
        case = {
            "id": f"correction-{trace.trace_id}",
            "question": question,
            "reference_answer": "30 days",
            "answerable": True,
            "source_trace_id": trace.trace_id,
        }
        session.add(
            GoldenCase(
                id=case["id"],
                tenant=tenant,
                body=json.dumps(case),
                source="correction",
                created_at=at,
            )
        )
        session.add(
            AuditEntry(
                tenant=tenant,
                actor="key_qa",
                action="qa.review",
                detail=json.dumps({"trace": trace.trace_id}),
                created_at=at,
            )
        )
    return trace.trace_id


def dump(db_path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted: equal dumps mean equal contents."""
    with sqlite3.connect(db_path) as db:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def count(db_path: Path, sql: str, *params: object) -> int:
    with sqlite3.connect(db_path) as db:
        return int(db.execute(sql, params).fetchone()[0])


ORPHANS = {
    "messages": "SELECT COUNT(*) FROM messages WHERE conversation_id NOT IN "
    "(SELECT id FROM conversations)",
    "traces": "SELECT COUNT(*) FROM traces WHERE conversation_id NOT IN "
    "(SELECT id FROM conversations)",
    "qa_queue": "SELECT COUNT(*) FROM qa_queue WHERE trace_id NOT IN (SELECT id FROM traces)",
    "qa_reviews": "SELECT COUNT(*) FROM qa_reviews WHERE trace_id NOT IN (SELECT id FROM traces)",
    "golden_cases": "SELECT COUNT(*) FROM golden_cases WHERE json_extract(body, "
    "'$.source_trace_id') NOT IN (SELECT id FROM traces)",
}


def assert_consistent(db_path: Path) -> None:
    """The database is intact and no row points at a removed one."""
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        found = {table: db.execute(sql).fetchone()[0] for table, sql in ORPHANS.items()}
    assert found == dict.fromkeys(ORPHANS, 0), found
