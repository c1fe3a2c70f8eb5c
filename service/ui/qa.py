"""The QA lead's console: the review queue with filters, a trace as a timeline, the review
form (verdicts, labels, corrected answers to the golden set through `POST /v1/qa/reviews`),
the golden set and the quality report (`GET /v1/qa/report`).

The /v1 queue route lists entries without their date or intent, which the filters need, so
the queue is read here from the same review queue the API reads.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from evaluation.queue import NOT_HELPED, VERDICTS
from service.runtime import Runtime
from service.ui.auth import session_for
from service.ui.pages import page_access, render
from service.ui.trace_view import view

router = APIRouter(include_in_schema=False)
QA_LEAD = ("qa_lead",)
TRACE_READERS = ("qa_lead", "admin")
LABELS = ("wrong passage", "missing knowledge", "unsupported sentence", "wrong procedure",
          "should not answer", "tone", "personal data")  # fmt: skip
_SCORE_REASON = re.compile(r"^([a-z_]+) [-\d.]+ < [\d.]+$")


@router.get("/ui/qa")
def qa_page(request: Request) -> Response:
    access = page_access(request, QA_LEAD)
    if access.response is not None:
        return access.response
    return render(request, "qa.html", access.context())


@router.get("/ui/qa/traces/{trace_id}")
def trace_page(trace_id: str, request: Request) -> Response:
    access = page_access(request, TRACE_READERS)
    if access.response is not None:
        return access.response
    assert access.principal is not None
    runtime: Runtime = request.app.state.runtime
    trace = runtime.agent.traces.get(access.principal.tenant, trace_id)
    if trace is None:
        context = {**access.context(), "trace_id": trace_id}
        return render(request, "not_found.html", context, status_code=404)
    context = {**access.context(), "view": view(trace), "verdicts": VERDICTS, "labels": LABELS}
    return render(request, "trace.html", context)


def reason_kind(reason: str) -> str:
    """The filterable kind of a queue reason ('low groundedness', 'rated down', 'did not
    help', ...)."""
    if match := _SCORE_REASON.match(reason):
        return f"low {match.group(1).replace('_', ' ')}"
    if reason.startswith(NOT_HELPED):
        return "did not help"
    return reason.split(":", 1)[0].replace(" by the end user", "")


class QueueRow(BaseModel):
    queue_id: str
    trace_id: str
    queued_at: datetime
    question: str
    answer: str
    decision: str | None
    confidence: float | None
    intent: str
    reasons: list[str]
    kinds: list[str]
    scores: dict[str, float | None]


class QueuePage(BaseModel):
    entries: list[QueueRow]
    total: int
    kinds: list[str]
    intents: list[str]
    scores: list[str]


def _row(entry: Any) -> QueueRow:
    trace = entry.trace
    understand = trace.ran("understand")
    intent = str(understand.outputs.get("intent", {}).get("label", "")) if understand else ""
    reasons = list(entry.reasons)
    queued = entry.item.created_at
    scores: dict[str, float | None] = {}
    for name, score in trace.scores.items():
        if isinstance(score, dict):
            value = score.get("value")
            scores[name] = float(value) if isinstance(value, (int, float)) else None
    return QueueRow(
        queue_id=entry.item.id, trace_id=trace.trace_id,
        queued_at=queued if queued.tzinfo else queued.replace(tzinfo=UTC),
        question=trace.question, answer=trace.reply,
        decision=trace.decision.decision if trace.decision else None,
        confidence=trace.decision.confidence if trace.decision else None,
        intent=intent or "unknown", reasons=reasons,
        kinds=sorted({reason_kind(r) for r in reasons}), scores=scores,
    )  # fmt: skip


def _keep(
    row: QueueRow, reason: str, intent: str, score: str, low: float | None,
    high: float | None, since: date | None, until: date | None,
) -> bool:  # fmt: skip
    if reason and reason not in row.kinds:
        return False
    if intent and row.intent != intent:
        return False
    if low is not None or high is not None:
        value = row.confidence if score in ("", "confidence") else row.scores.get(score)
        if value is None or (low is not None and value < low):
            return False
        if high is not None and value > high:
            return False
    day = row.queued_at.date()
    return not ((since and day < since) or (until and day > until))


@router.get("/ui/qa/api/queue")
def queue(
    request: Request, reason: str = "", intent: str = "", score: str = "",
    min: float | None = None, max: float | None = None,
    since: date | None = None, until: date | None = None,
) -> QueuePage:  # fmt: skip
    """The open review queue, filtered by reason, intent, a score's range and queued date."""
    _, principal = session_for(request, QA_LEAD)
    runtime: Runtime = request.app.state.runtime
    rows = [_row(e) for e in runtime.review_queue.entries(principal.tenant)]
    kept = [r for r in rows if _keep(r, reason, intent, score, min, max, since, until)]
    return QueuePage(
        entries=list(reversed(kept)),  # newest first
        total=len(rows),
        kinds=sorted({k for r in rows for k in r.kinds}),
        intents=sorted({r.intent for r in rows}),
        scores=["confidence", *sorted({s for r in rows for s in r.scores})],
    )
