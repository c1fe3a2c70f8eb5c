"""Scoring of production replies: every stored trace gets its scores once, and some replies
enter the review queue.

The server runs `QaWorker` in a background thread: it picks up traces not scored yet, oldest
first, every `CLEARLINE_QA_INTERVAL_S`. `clearline qa run` does the same on demand. A reply
enters the review queue when one of its scores is under the tenant's `qa.review_threshold`
(`qa.relevance_threshold` for relevance scores), when it handed off, or by random sample
(`qa.sample_rate`); a reply the end user rates down enters it too (ReviewQueue.on_rating),
and one they say did not help (ReviewQueue.on_reply).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from agent.answer.lists import join_quotes
from agent.config import AgentConfig, QaSettings
from agent.trace import Trace
from control.errors import NotFound
from control.models import TraceRecord
from control.regional import tenant_regions
from evaluation.golden import GoldenSets
from evaluation.queue import ReviewQueue
from evaluation.records import Score

if TYPE_CHECKING:
    from evaluation.scoring import ReplyScorer

logger = logging.getLogger(__name__)


@tenant_regions
class ReplyScoring:
    """Scores the traces stored in the control database and queues some for review."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config_for: Callable[[str], AgentConfig],
        scorer: ReplyScorer,
        golden: GoldenSets,
        queue: ReviewQueue,
        seed: int | None = None,
    ) -> None:
        self._sessions = sessions
        self._config_for = config_for
        self._scorer = scorer
        self._golden = golden
        self._queue = queue
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    @property
    def evaluators(self) -> dict[str, str]:
        """Score name -> the evaluator that produces it with this installation's settings."""
        return self._scorer.evaluators

    def pending(self, tenant: str | None = None, limit: int = 50) -> list[str]:
        """Ids of traces not scored yet, oldest first."""
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
            config = self._config_for(trace.tenant)
            if config.enabled("quality_scoring"):
                try:
                    scores = self._score(trace)
                    scores_json = {name: s.as_json() for name, s in scores.items()}
                except Exception as error:  # recorded, so one bad trace never blocks the rest
                    logger.exception("scoring trace %s failed", trace_id)
                    scores_json = {"error": f"scoring failed: {type(error).__name__}: {error}"}
            else:
                scores_json = {"skipped": "quality_scoring is off for this tenant"}
            # Compare-and-set on the body scored: a redaction or source deletion that rewrote
            # the trace while its scores were computed wins, and the scores (computed from the
            # old text, which they may quote) are dropped; the trace stays pending and is
            # scored again from its current body.
            trace.scores = scores_json
            with self._sessions.begin() as session:
                written = session.execute(
                    update(TraceRecord)
                    .where(TraceRecord.id == trace_id, TraceRecord.body == row.body)
                    .values(body=trace.model_dump_json(), scored_at=datetime.now(UTC))
                    .execution_options(synchronize_session=False)
                )
            assert isinstance(written, CursorResult)
            if written.rowcount != 1:
                logger.info("trace %s changed while it was scored; it will be scored again",
                            trace_id)  # fmt: skip
                return trace
            if config.enabled("quality_scoring"):
                self._maybe_enqueue(trace, config.qa)
            return trace

    def _score(self, trace: Trace) -> dict[str, Any]:
        """Scores from what the trace recorded: the retrieved passages as they were then. The
        answer judged is the sentences the verify step kept, as the reply joined them, without
        the agent's own lines around them: a question answered while a procedure waits ends
        with that procedure's question again ('Back to "Return an item for a refund": ... How
        would you like the $94 refunded ...?'), which is no claim about the passages; judged
        as one, every such reply was queued as low groundedness (0.30)."""
        chunks = {str(c["chunk_id"]): str(c.get("text", "")) for c in trace.retrieved()}
        verify = trace.ran("verify")
        sentences = (
            [s for s in verify.outputs.get("sentences", []) if s.get("supported")] if verify else []
        )
        contexts = list(chunks.values())
        # a line of the agent's own (small talk, a closed procedure) skips retrieval: it is
        # no answer to judge, as a handoff or a clarifying question is none
        answered = (
            trace.decision is not None
            and trace.decision.proposed == "answered"
            and trace.ran("retrieve") is not None
        )
        citations = []
        if answered:
            for sentence in sentences:
                texts = [chunks[c] for c in sentence.get("chunk_ids", []) if c in chunks]
                citations.append((str(sentence["text"]), "\n".join(texts)))
        reference = self._golden.reference_for(trace.tenant, trace.question)
        if not answered:  # a handoff or clarifying question: nothing to judge as an answer
            scores = self._scorer.score(trace.question, "", contexts, [], None, answered=False)
            for name in ("answer_relevance", "correctness"):
                if name in scores:
                    scores[name] = Score(name, None, scores[name].evaluator,
                                         {"reason": "not an answer"})  # fmt: skip
            return scores
        answer = join_quotes([str(s["text"]) for s in sentences]) if sentences else trace.reply
        return self._scorer.score(trace.question, answer, contexts, citations, reference)

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
            self._queue.enqueue(trace.tenant, trace.trace_id, reasons)


class QaWorker:
    """Scores new replies in the background, looking for them every `interval_s`, in each
    region `each_region` enters in turn (each region's traces are in its own database)."""

    def __init__(
        self,
        scoring: ReplyScoring,
        each_region: Callable[[], Iterator[str]],
        interval_s: float = 0.5,
    ) -> None:
        self._scoring = scoring
        self._each_region = each_region
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qa-scorer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                scored = self._score_each_region()
            except Exception:  # listing the regions failed (a busy database, say)
                logger.exception("scoring failed; will retry")
                scored = 0
            if not scored:
                self._stop.wait(self._interval)

    def _score_each_region(self) -> int:
        """Replies scored in this round. A region whose scoring fails (a bad trace, a
        database locked past its timeout) is tried again next round; the others go on. The
        failure is caught inside the region, which is left as usual."""
        scored = 0
        for _region in self._each_region():
            try:
                scored += self._scoring.score_pending(limit=20)
            except Exception:
                logger.exception("scoring failed; will retry")
        return scored

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
