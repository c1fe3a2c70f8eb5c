"""QA leads: the review queue, verdicts and corrections, golden sets, the quality report."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from control.tenants import Principal
from evaluation.queue import VERDICTS
from evaluation.scored_replies import scored_replies
from service.deps import RuntimeDep, require
from service.schemas import ErrorResponse

router = APIRouter(tags=["qa"])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 422)
}
QaLeadDep = Annotated[Principal, Depends(require("qa_lead"))]
QaReaderDep = Annotated[Principal, Depends(require("qa_lead", "admin"))]


class QueueEntryPublic(BaseModel):
    queue_id: str
    trace_id: str
    reasons: list[str]
    question: str
    answer: str
    decision: str | None
    confidence: float | None
    scores: dict[str, Any]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trace_id: str
    verdict: Literal[VERDICTS]  # type: ignore[valid-type]
    labels: list[str] = Field(default_factory=list, max_length=20)
    corrected_answer: str | None = Field(None, max_length=4000)


class ReviewPublic(BaseModel):
    id: str
    trace_id: str
    reviewer: str
    verdict: str
    labels: list[str]
    corrected_answer: str | None


class GoldenImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jsonl: str = Field(min_length=1, max_length=5_000_000, description="A questions JSONL.")


class GoldenSet(BaseModel):
    cases: list[dict[str, Any]]


@router.get("/v1/qa/queue", response_model=list[QueueEntryPublic], responses=_ERRORS)
def review_queue(principal: QaLeadDep, runtime: RuntimeDep) -> list[QueueEntryPublic]:
    """Replies waiting for review (low scores, handoffs, down-ratings, replies the end user
    said did not help, random sample)."""
    out = []
    for entry in runtime.review_queue.entries(principal.tenant):
        trace = entry.trace
        out.append(
            QueueEntryPublic(
                queue_id=entry.item.id,
                trace_id=trace.trace_id,
                reasons=entry.reasons,
                question=trace.question,
                answer=trace.reply,
                decision=trace.decision.decision if trace.decision else None,
                confidence=trace.decision.confidence if trace.decision else None,
                scores=trace.scores,
            )
        )
    return out


def _review(review: Any) -> ReviewPublic:
    return ReviewPublic(
        id=review.id,
        trace_id=review.trace_id,
        reviewer=review.reviewer,
        verdict=review.verdict,
        labels=json.loads(review.labels),
        corrected_answer=review.corrected_answer,
    )


@router.post("/v1/qa/reviews", status_code=201, response_model=ReviewPublic, responses=_ERRORS)
def record_review(body: ReviewIn, principal: QaLeadDep, runtime: RuntimeDep) -> ReviewPublic:
    """Record a verdict, labels and an optional corrected answer (which becomes a golden
    case of the tenant)."""
    review = runtime.review_queue.review(
        principal.tenant, body.trace_id, principal.key_id, body.verdict, body.labels,
        body.corrected_answer,
    )  # fmt: skip
    runtime.audit(principal.tenant, principal.key_id, "qa.review", trace=body.trace_id,
                  verdict=body.verdict)  # fmt: skip
    return _review(review)


@router.get("/v1/qa/reviews", response_model=list[ReviewPublic], responses=_ERRORS)
def list_reviews(principal: QaLeadDep, runtime: RuntimeDep) -> list[ReviewPublic]:
    """Every review of the tenant, oldest first."""
    return [_review(r) for r in runtime.review_queue.reviews(principal.tenant)]


@router.get("/v1/qa/golden", response_model=GoldenSet, responses=_ERRORS)
def export_golden(principal: QaReaderDep, runtime: RuntimeDep) -> GoldenSet:
    """The tenant's golden set (questions-JSONL records; `golden_source` says where each
    came from: `import` or `correction`). Each export is audited."""
    cases = runtime.golden.cases(principal.tenant)
    runtime.audit(principal.tenant, principal.key_id, "qa.golden.export", cases=len(cases))
    return GoldenSet(cases=cases)


@router.post("/v1/qa/golden", responses=_ERRORS)
def import_golden(
    body: GoldenImport, principal: QaReaderDep, runtime: RuntimeDep
) -> dict[str, int]:
    """Import a questions JSONL into the golden set; a bad line imports nothing."""
    count = runtime.golden.import_jsonl(principal.tenant, body.jsonl)
    runtime.audit(principal.tenant, principal.key_id, "qa.golden.import", cases=count)
    return {"imported": count}


@router.get("/v1/qa/report", response_class=HTMLResponse, responses=_ERRORS)
def quality_report(principal: QaReaderDep, runtime: RuntimeDep) -> HTMLResponse:
    """The quality report as one self-contained HTML page."""
    from evaluation.report import render_report

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "report.html"
        replies = scored_replies(runtime.sessions, principal.tenant)
        render_report(replies, principal.tenant, out)
        return HTMLResponse(out.read_text(encoding="utf-8"))
