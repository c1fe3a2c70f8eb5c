"""Scores computed from a trace that a privacy operation rewrote meanwhile are dropped: they
may quote the old text, so writing them would put it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from agent.config import AgentConfig
from agent.trace import Trace
from control.db import make_engine, migrate, session_factory
from control.models import TraceRecord
from evaluation.golden import GoldenSets
from evaluation.queue import ReviewQueue
from evaluation.records import Score
from evaluation.worker import ReplyScoring

SECRET = "Harbour pilots in Quillport accept payment in candied ginger."
MARKER = "[removed: source deleted]"


class RewritingScorer:
    """Quotes the question and reply in its score; the first time, rewrites the stored
    trace (as a source deletion running at the same moment would) before returning."""

    def __init__(self, sessions: sessionmaker[Session], trace_id: str) -> None:
        self._sessions, self._trace_id, self.calls = sessions, trace_id, 0
        self.evaluators = {"groundedness": "test"}

    def score(self, question: str, answer: str, *args: Any, **kwargs: Any) -> dict[str, Score]:
        self.calls += 1
        if self.calls == 1:
            with self._sessions.begin() as session:
                row = session.get(TraceRecord, self._trace_id)
                assert row is not None
                row.body = row.body.replace(SECRET, MARKER)
        return {"groundedness": Score("groundedness", 0.5, "test", {"quoted": [question, answer]})}


def _sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'control.db'}")
    migrate(engine)
    return session_factory(engine)


def test_scores_of_a_body_rewritten_meanwhile_are_dropped_and_redone(tmp_path: Path) -> None:
    sessions = _sessions(tmp_path)
    trace = Trace(tenant="acme", question=f"Is it true? {SECRET}", reply=SECRET)
    with sessions.begin() as session:
        session.add(TraceRecord(id=trace.trace_id, tenant="acme", body=trace.model_dump_json()))
    scorer = RewritingScorer(sessions, trace.trace_id)
    golden = GoldenSets(sessions)
    scoring = ReplyScoring(sessions, lambda _: AgentConfig(), scorer,  # type: ignore[arg-type]
                           golden, ReviewQueue(sessions, golden), seed=1)  # fmt: skip

    scoring.score(trace.trace_id)
    with sessions() as session:
        row = session.get(TraceRecord, trace.trace_id)
        assert row is not None
        assert SECRET not in row.body and row.scored_at is None
    assert scoring.pending("acme") == [trace.trace_id]

    scoring.score_pending("acme")
    with sessions() as session:
        row = session.get(TraceRecord, trace.trace_id)
        assert row is not None
        assert SECRET not in row.body and row.scored_at is not None
    assert scorer.calls == 2
