"""The numbers of the QA report: what counts as right, groups, calibration, worst replies.

Pure aggregation over `ScoredReply` rows, no drawing and no HTML; evaluation.report_figures
draws from these and evaluation.report puts them on the page.

    cal = calibration(rows, threshold=0.6)
    cal.ece, cal.judged
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

from evaluation.records import SCORE_NAMES, ScoredReply

MAX_GROUPS = 12  # bars per category plot; the rest is pooled as "(other)"
WORST_SHOWN = 20
CALIBRATION_BINS = 10
RIGHT_VERDICTS = frozenset({"correct", "right", "good", "approved", "acceptable"})
WRONG_VERDICTS = frozenset(
    {
        "incorrect",
        "wrong",
        "bad",
        "rejected",
        "partially_correct",
        "partial",
        "unacceptable",
        "should_have_handed_off",
        "unsafe",
    }
)
_SAFE_SCHEMES = ("", "http", "https")

Group = tuple[str, list[ScoredReply]]  # label, its replies


@dataclass(frozen=True)
class Calibration:
    """Reliability bins (mean confidence, share judged right, count), their expected
    calibration error, and how many replies could be judged at all."""

    bins: list[tuple[float, float, int]]
    ece: float | None
    judged: int


@dataclass(frozen=True)
class WorstRow:
    """One row of the worst-replies table, every value already formatted for the page."""

    href: str | None  # None when the trace link has an unsafe scheme: listed, not linked
    trace_id: str
    when: str
    intent: str
    decision: str
    question: str
    answer: str
    mean: str
    scores: list[str]
    confidence: str
    rating: str
    verdict: str


def judged_right(reply: ScoredReply, threshold: float = 0.6) -> bool | None:
    """Whether a reply counts as right: a QA lead's verdict when it is a known one, else
    groundedness >= threshold and not rated down; None when neither is known."""
    if reply.verdict is not None:
        verdict = reply.verdict.strip().lower().replace("-", "_").replace(" ", "_")
        if verdict in RIGHT_VERDICTS:
            return True
        if verdict in WRONG_VERDICTS:
            return False
    grounded = reply.scores.get("groundedness")
    if grounded is None:
        return None
    return grounded >= threshold and reply.rating != "down"


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the known values; None when there are none."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def median(values: Sequence[float]) -> float | None:
    return float(np.median(values)) if values else None


def score_means(rows: Sequence[ScoredReply]) -> dict[str, float | None]:
    """Mean of each score over the rows, missing scores left out."""
    return {name: mean([r.scores.get(name) for r in rows]) for name in SCORE_NAMES}


def fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def groups(rows: Sequence[ScoredReply], key: Callable[[ScoredReply], str]) -> list[Group]:
    """Rows grouped by `key`, largest first; beyond MAX_GROUPS pooled last as "(other)"."""
    counts = Counter(key(r) for r in rows)
    kept = {name for name, _ in counts.most_common(MAX_GROUPS)}
    grouped: dict[str, list[ScoredReply]] = {}
    for r in rows:
        grouped.setdefault(key(r) if key(r) in kept else "(other)", []).append(r)
    return sorted(grouped.items(), key=lambda item: (item[0] == "(other)", -len(item[1])))


def calibration(rows: Sequence[ScoredReply], threshold: float) -> Calibration:
    """Confidence against the share judged right (judged_right), in CALIBRATION_BINS bins."""
    pairs = [
        (r.confidence, right) for r in rows if (right := judged_right(r, threshold)) is not None
    ]
    bins: list[tuple[float, float, int]] = []
    for i in range(CALIBRATION_BINS):
        low, high = i / CALIBRATION_BINS, (i + 1) / CALIBRATION_BINS
        last = i == CALIBRATION_BINS - 1
        members = [(c, ok) for c, ok in pairs if low <= c and (c <= high if last else c < high)]
        if members:
            conf = sum(c for c, _ in members) / len(members)
            bins.append((conf, sum(ok for _, ok in members) / len(members), len(members)))
    ece = sum(n / len(pairs) * abs(c - s) for c, s, n in bins) if pairs else None
    return Calibration(bins, ece, len(pairs))


def _safe_link(href: str) -> str | None:
    return href if urlsplit(href).scheme.lower() in _SAFE_SCHEMES else None


def _known(reply: ScoredReply) -> list[float]:
    return [v for k in SCORE_NAMES if (v := reply.scores.get(k)) is not None]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def worst(rows: Sequence[ScoredReply], trace_link: Callable[[str], str]) -> list[WorstRow]:
    """The WORST_SHOWN replies with the lowest mean score (ties: lowest single score)."""
    known = [(vs, r) for r in rows if (vs := _known(r))]
    scored = sorted(((sum(vs) / len(vs), min(vs), r) for vs, r in known), key=lambda t: t[:2])
    return [
        WorstRow(
            href=_safe_link(trace_link(r.trace_id)),
            trace_id=r.trace_id,
            when=r.created_at.strftime("%Y-%m-%d %H:%M"),
            intent=r.intent,
            decision=r.decision,
            question=_clip(r.question, 200),
            answer=_clip(r.answer, 300),
            mean=fmt(average),
            scores=[fmt(r.scores.get(name)) for name in SCORE_NAMES],
            confidence=fmt(r.confidence),
            rating=r.rating or "–",
            verdict=r.verdict or "–",
        )
        for average, _, r in scored[:WORST_SHOWN]
    ]


def table(grouped: list[Group]) -> list[list[str]]:
    """One row per group: label, n, then the mean of each score."""
    return [
        [label, str(len(m)), *(fmt(v) for v in score_means(m).values())] for label, m in grouped
    ]


def headline(rows: Sequence[ScoredReply], cal: Calibration) -> list[tuple[str, str, str]]:
    """(key, label, value) of each headline number; rows is not empty."""
    n = len(rows)
    handoffs = sum(r.decision == "handoff" for r in rows)
    answered = sum(r.decision == "answered" for r in rows)
    scored = {k: sum(r.scores.get(k) is not None for r in rows) for k in SCORE_NAMES}
    rated = sum(r.rating is not None for r in rows)
    return [
        ("replies", "Replies", str(n)),
        ("answered_share", "Answered", f"{answered / n:.1%}"),
        *(
            (f"mean_{k}", f"Mean {k.replace('_', ' ')} ({scored[k]} scored)", fmt(v))
            for k, v in score_means(rows).items()
        ),
        ("handoffs", "Handoffs", f"{handoffs} ({handoffs / n:.1%})"),
        ("down_ratings", "Rated down", f"{sum(r.rating == 'down' for r in rows)} of {rated} rated"),
        ("ece", "Calibration error (ECE)", fmt(cal.ece, 3)),
    ]
