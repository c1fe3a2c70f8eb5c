"""The QA loop in the service: score every reply, queue some for review, record verdicts,
keep golden sets.

Scoring runs in a background thread of the server (`QaWorker`): it picks up traces not
scored yet, oldest first, within `CLEARLINE_QA_MAX_DELAY_S`. `clearline qa run` does the
same on demand. A reply enters the review queue when one of its scores is under the
tenant's `qa.review_threshold`, when it handed off, when the end user rated it down, or by
random sample (`qa.sample_rate`).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import QaSettings
from agent.trace import Trace
from evaluation.questions import Question, parse_question
from evaluation.records import Score, ScoredReply
from service.agents import TenantAgents
from service.errors import BadRequest, NotFound
from service.models import GoldenCase, Message, QueueItem, Review, TraceRecord

if TYPE_CHECKING:
    from evaluation.scoring import ReplyScorer

logger = logging.getLogger(__name__)

VERDICTS = ("correct", "partially_correct", "incorrect", "should_have_handed_off", "unsafe")


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class QueueEntry:
    item: QueueItem
    trace: Trace


class QaService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        agents: TenantAgents,
        scorer: ReplyScorer,
        seed: int | None = None,
    ) -> None:
        self._sessions = sessions
        self._agents = agents
        self._scorer = scorer
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    @property
    def evaluators(self) -> dict[str, str]:
        """Score name -> the evaluator that produces it with this installation's settings."""
        return self._scorer.evaluators

    # -- scoring -----------------------------------------------------------------------

    def pending(self, tenant: str | None = None, limit: int = 50) -> list[str]:
        query = select(TraceRecord.id).where(TraceRecord.scored_at.is_(None))
        if tenant is not None:
            query = query.where(TraceRecord.tenant == tenant)
        with self._sessions() as session:
            return list(session.scalars(query.order_by(TraceRecord.created_at).limit(limit)))

    def score_pending(self, tenant: str | None = None, limit: int = 50) -> int:
        """Score up to `limit` unscored replies; returns how many were scored."""
        done = 0
        for trace_id in self.pending(tenant, limit):
            self.score(trace_id)
            done += 1
        return done

    def score(self, trace_id: str) -> Trace:
        with self._lock:  # one scorer at a time: the server thread and on-demand calls
            with self._sessions() as session:
                row = session.get(TraceRecord, trace_id)
            if row is None:
                raise NotFound(f"trace '{trace_id}' does not exist")
            trace = Trace.model_validate_json(row.body)
            if row.scored_at is not None:
                return trace
            config = self._agents.config(trace.tenant)
            if config.enabled("quality_scoring"):
                try:
                    scores = self._score(trace)
                    trace.scores = {name: s.as_json() for name, s in scores.items()}
                except Exception as error:  # recorded, so one bad trace never blocks the rest
                    logger.exception("scoring trace %s failed", trace_id)
                    trace.scores = {"error": f"scoring failed: {type(error).__name__}: {error}"}
            else:
                trace.scores = {"skipped": "quality_scoring is off for this tenant"}
            with self._sessions.begin() as session:
                stored = session.get(TraceRecord, trace_id)
                assert stored is not None
                stored.body = trace.model_dump_json()
                stored.scored_at = datetime.now(UTC)
            if config.enabled("quality_scoring"):
                self._maybe_enqueue(trace, config.qa)
            return trace

    def _score(self, trace: Trace) -> dict[str, Any]:
        """Scores from what the trace recorded: the retrieved passages as they were then."""
        chunks = {str(c["chunk_id"]): str(c.get("text", "")) for c in trace.retrieved()}
        verify = trace.ran("verify")
        sentences = (
            [s for s in verify.outputs.get("sentences", []) if s.get("supported")] if verify else []
        )
        contexts = list(chunks.values())
        answered = trace.decision is not None and trace.decision.proposed == "answered"
        citations = []
        if answered:
            for sentence in sentences:
                texts = [chunks[c] for c in sentence.get("chunk_ids", []) if c in chunks]
                citations.append((str(sentence["text"]), "\n".join(texts)))
        reference = self.reference_for(trace.tenant, trace.question)
        if not answered:  # a handoff or clarifying question: nothing to judge as an answer
            scores = self._scorer.score(trace.question, "", contexts, [], None, answered=False)
            for name in ("answer_relevance", "correctness"):
                if name in scores:
                    scores[name] = Score(name, None, scores[name].evaluator,
                                         {"reason": "not an answer"})  # fmt: skip
            return scores
        return self._scorer.score(trace.question, trace.reply, contexts, citations, reference)

    def _maybe_enqueue(self, trace: Trace, qa: QaSettings) -> None:
        reasons: list[str] = []
        for name, score in trace.scores.items():
            value = score.get("value") if isinstance(score, dict) else None
            bar = qa.relevance_threshold if name.endswith("relevance") else qa.review_threshold
            if isinstance(value, (int, float)) and value < bar:
                reasons.append(f"{name} {value:.2f} < {bar}")
        if trace.decision is not None and trace.decision.decision == "handoff":
            reasons.append("handed off")
        if not reasons and self._random.random() < qa.sample_rate:
            reasons.append("random sample")
        if reasons:
            self.enqueue(trace.tenant, trace.trace_id, reasons)

    def enqueue(self, tenant: str, trace_id: str, reasons: Sequence[str]) -> None:
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
                merged = list(dict.fromkeys([*json.loads(existing.reasons), *reasons]))
                existing.reasons = json.dumps(merged)
                existing.status = "open"

    def on_rating(self, message: Message) -> None:
        if message.rating == "down" and message.trace_id:
            comment = f": {message.rating_comment}" if message.rating_comment else ""
            self.enqueue(message.tenant, message.trace_id, [f"rated down by the end user{comment}"])

    # -- the review queue --------------------------------------------------------------

    def queue(self, tenant: str, status: str = "open") -> list[QueueEntry]:
        with self._sessions() as session:
            items = session.scalars(
                select(QueueItem)
                .where(QueueItem.tenant == tenant, QueueItem.status == status)
                .order_by(QueueItem.created_at)
            ).all()
            traces = {
                row.id: row
                for row in session.scalars(
                    select(TraceRecord).where(TraceRecord.id.in_([i.trace_id for i in items]))
                )
            }
        return [
            QueueEntry(item, Trace.model_validate_json(traces[item.trace_id].body))
            for item in items
            if item.trace_id in traces
        ]

    def review(
        self,
        tenant: str,
        trace_id: str,
        reviewer: str,
        verdict: str,
        labels: Sequence[str],
        corrected_answer: str | None,
    ) -> Review:
        if verdict not in VERDICTS:
            raise BadRequest(f"verdict '{verdict}' is not one of: {', '.join(VERDICTS)}")
        trace = self.trace(tenant, trace_id)
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
            self._golden_from_correction(trace, verdict, corrected_answer.strip())
        return review

    def reviews(self, tenant: str) -> list[Review]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(Review).where(Review.tenant == tenant).order_by(Review.created_at)
                )
            )

    def trace(self, tenant: str, trace_id: str) -> Trace:
        with self._sessions() as session:
            row = session.get(TraceRecord, trace_id)
        if row is None or row.tenant != tenant:
            raise NotFound(f"trace '{trace_id}' does not exist")
        return Trace.model_validate_json(row.body)

    # -- golden sets -------------------------------------------------------------------

    def _golden_from_correction(self, trace: Trace, verdict: str, corrected: str) -> None:
        history = self._history(trace)
        unanswerable = verdict == "should_have_handed_off"
        record: dict[str, Any] = {
            "id": f"correction-{trace.trace_id}",
            "question": trace.question,
            "history": history,
            "reference_answer": "" if unanswerable else corrected,
            "answerable": not unanswerable,
            "source_trace_id": trace.trace_id,
        }
        self._put_golden(trace.tenant, record, "correction")

    def _history(self, trace: Trace) -> list[dict[str, str]]:
        if not trace.conversation_id or not trace.message_id:
            return []
        with self._sessions() as session:
            reply = session.get(Message, trace.message_id)
            if reply is None:
                return []
            rows = session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == trace.conversation_id,
                    Message.visible.is_(True),
                    Message.created_at < reply.created_at,
                )
                .order_by(Message.created_at)
            ).all()
        turns = [
            {"role": "user" if m.role == "user" else "assistant", "text": m.text} for m in rows
        ]
        if turns and turns[-1]["role"] == "user" and turns[-1]["text"] == trace.question:
            turns = turns[:-1]  # the question itself
        return turns

    def _put_golden(self, tenant: str, record: dict[str, Any], source: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(GoldenCase, (str(record["id"]), tenant))
            if row is None:
                session.add(GoldenCase(id=str(record["id"]), tenant=tenant, body=json.dumps(record),
                                       source=source))  # fmt: skip
            else:
                row.body = json.dumps(record)
                row.source = source

    def import_golden(self, tenant: str, text: str, where: str = "upload") -> int:
        """Import a questions JSONL; a bad line stops the import and nothing is stored."""
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            parse_question(line, f"{where} line {number}")  # raises a clear error
            records.append(json.loads(line))
        if not records:
            raise BadRequest(f"{where} holds no questions")
        for record in records:
            self._put_golden(tenant, record, "import")
        return len(records)

    def golden(self, tenant: str) -> list[dict[str, Any]]:
        with self._sessions() as session:
            rows = session.scalars(
                select(GoldenCase)
                .where(GoldenCase.tenant == tenant)
                .order_by(GoldenCase.created_at)
            ).all()
        out = []
        for row in rows:
            record = json.loads(row.body)
            record["golden_source"] = row.source
            out.append(record)
        return out

    def golden_questions(self, tenant: str) -> list[Question]:
        return [
            parse_question(json.dumps(r), f"golden case {r['id']}") for r in self.golden(tenant)
        ]

    def reference_for(self, tenant: str, question: str) -> str | None:
        for record in self.golden(tenant):
            if record.get("question", "").strip() == question.strip():
                answer = record.get("reference_answer")
                return str(answer) if answer else None
        return None

    # -- reports -----------------------------------------------------------------------

    def scored_replies(self, tenant: str, limit: int = 5000) -> list[ScoredReply]:
        with self._sessions() as session:
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


class QaWorker:
    """Scores new replies in the background, so each gets its scores within `max_delay_s`."""

    def __init__(self, qa: QaService, interval_s: float = 0.5) -> None:
        self._qa = qa
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qa-scorer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                scored = self._qa.score_pending(limit=20)
            except Exception:  # never let one bad trace stop scoring for everyone
                logger.exception("scoring failed; will retry")
                scored = 0
            if not scored:
                self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
