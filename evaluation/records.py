"""Records the QA loop passes around: scores of one reply, and a scored reply for reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SCORE_NAMES = ("groundedness", "answer_relevance", "context_relevance", "correctness")


@dataclass(frozen=True)
class Score:
    """One quality score in [0, 1] (None when it does not apply, e.g. no reference answer),
    with the evaluator that produced it (e.g. "clearline.verifier",
    "ragas.NonLLMStringSimilarity", "ragas.Faithfulness(judge=openai-compatible:...)")."""

    name: str
    value: float | None
    evaluator: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "value": None if self.value is None else round(self.value, 4),
            "evaluator": self.evaluator,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ScoredReply:
    """What a report needs of one reply (read from its trace and its scores)."""

    trace_id: str
    created_at: datetime
    question: str
    answer: str
    decision: str  # answered | clarify | handoff | draft
    intent: str
    confidence: float
    scores: dict[str, float | None]  # SCORE_NAMES -> value
    rating: str | None = None  # up | down | None
    verdict: str | None = None  # a QA lead's verdict: correct | incorrect | ... | None
