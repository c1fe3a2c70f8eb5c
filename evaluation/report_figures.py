"""The QA report's plots: each drawn on a bare matplotlib Figure and returned as a base64
PNG with its title, a text alternative (the plotted numbers, for screen readers) and a caption.

    plot = time_plot(rows)
    plot.title, plot.alt, plot.caption, plot.png
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evaluation.records import SCORE_NAMES, ScoredReply
from evaluation.report_numbers import (
    CALIBRATION_BINS,
    MAX_GROUPS,
    Calibration,
    Group,
    fmt,
    median,
    score_means,
)

DPI = 80
_COLOURS = dict(zip(SCORE_NAMES, ("#1b6ca8", "#e07b00", "#3a9a3a", "#b8336a"), strict=True))
_LEGEND: dict[str, Any] = {  # above the axes, so no line or bar hides under it
    "loc": "lower center", "bbox_to_anchor": (0.5, 1.0), "ncol": 4, "fontsize": 8,
    "frameon": False,
}  # fmt: skip


@dataclass(frozen=True)
class Plot:
    """One figure of the page: title, text alternative, caption, base64 PNG."""

    title: str
    alt: str
    caption: str
    png: str


def _png(fig: Figure) -> str:
    FigureCanvasAgg(fig)  # Agg canvas on a bare Figure: no pyplot state, nothing left open
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def time_plot(rows: Sequence[ScoredReply]) -> Plot:
    """Daily mean of each score over the rows' days, with replies per day below."""
    by_day: dict[date, list[ScoredReply]] = {}
    for r in rows:
        by_day.setdefault(r.created_at.date(), []).append(r)
    first, last = min(by_day), max(by_day)
    days = [first + timedelta(d) for d in range((last - first).days + 1)]
    x = np.arange(len(days))
    fig = Figure(figsize=(9, 4.6))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    daily = [score_means(by_day.get(d, [])) for d in days]
    for name in SCORE_NAMES:
        means = [_nan(day[name]) for day in daily]
        if not all(math.isnan(m) for m in means):
            top.plot(x, means, marker="o", markersize=4, color=_COLOURS[name], label=name)
    pad = max(0.0, (7 - len(days)) / 2)  # a single day stays a narrow bar, not the full width
    top.set_xlim(-0.5 - pad, len(days) - 0.5 + pad)
    top.set_ylim(0, 1.02)
    top.set_ylabel("daily mean")
    if top.lines:
        top.legend(**_LEGEND)
    top.grid(alpha=0.3)
    bottom.bar(x, [len(by_day.get(d, [])) for d in days], color="#777")
    bottom.set_ylabel("replies")
    step = max(1, len(days) // 10)
    bottom.set_xticks(x[::step], [d.isoformat() for d in days[::step]], rotation=30, fontsize=8)
    fig.tight_layout()
    span = f"{first.isoformat()} to {last.isoformat()}" if first != last else first.isoformat()
    overall = ", ".join(f"{k} {fmt(v)}" for k, v in score_means(rows).items())
    busiest = max(by_day, key=lambda d: len(by_day[d]))
    return Plot(
        "Quality over time",
        f"Line chart of the daily mean of each score from {span} ({len(days)} days, "
        f"{len(rows)} replies), with a bar chart of replies per day below. Overall means: "
        f"{overall}. Busiest day {busiest.isoformat()} with {len(by_day[busiest])} replies.",
        f"Daily mean of each score (top, missing scores left out) and replies per day "
        f"(bottom), {span}.",
        _png(fig),
    )


def category_plot(title: str, noun: str, groups: list[Group]) -> Plot:
    """Grouped bars: the mean of each score per group."""
    fig = Figure(figsize=(9, 4))
    ax = fig.subplots()
    x = np.arange(len(groups))
    width = 0.8 / len(SCORE_NAMES)
    for i, name in enumerate(SCORE_NAMES):
        means = [_nan(score_means(members)[name]) for _, members in groups]
        ax.bar(x + (i - 1.5) * width, means, width, color=_COLOURS[name], label=name)
    labels = [f"{label}\n(n={len(members)})" for label, members in groups]
    ax.set_xticks(x, labels, rotation=30 if len(groups) > 5 else 0, fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("mean score")
    ax.legend(**_LEGEND)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    described = "; ".join(
        f"{label} (n={len(m)}): groundedness {fmt(score_means(m)['groundedness'])}"
        for label, m in groups
    )
    return Plot(
        title,
        f"Grouped bar chart of the mean of each score by {noun}, {len(groups)} groups. "
        f"{described}.",
        f"Mean of each score by {noun}; n is the number of replies in the group "
        f"(the {MAX_GROUPS} largest groups, the rest pooled as '(other)').",
        _png(fig),
    )


def distribution_plot(rows: Sequence[ScoredReply]) -> Plot:
    """One histogram per score, ten bins from 0 to 1."""
    fig = Figure(figsize=(9, 5))
    axes = fig.subplots(2, 2).ravel()
    parts = []
    for ax, name in zip(axes, SCORE_NAMES, strict=True):
        values = [v for r in rows if (v := r.scores.get(name)) is not None]
        missing = len(rows) - len(values)
        if values:
            ax.hist(values, bins=np.linspace(0, 1, 11), color=_COLOURS[name])
        else:
            ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlim(0, 1)
        ax.set_title(f"{name} (n={len(values)}, missing {missing})", fontsize=9)
        parts.append(f"{name}: {len(values)} values, median {fmt(median(values))}")
    fig.tight_layout()
    return Plot(
        "Score distributions",
        "Four histograms, one per score, in ten bins from 0 to 1. " + "; ".join(parts) + ".",
        "How each score is distributed across replies; missing scores (None) are counted "
        "in each panel's title and left out of the bars.",
        _png(fig),
    )


def calibration_plot(cal: Calibration) -> Plot:
    """Reliability diagram of `cal` against the diagonal of perfect calibration."""
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], linestyle="--", color="#999", label="perfect calibration")
    if cal.bins:
        conf, share, _ = zip(*cal.bins, strict=True)
        ax.plot(conf, share, marker="o", color="#1b6ca8", label="replies")
        for c, s, n in cal.bins:
            shift = (-22 if c > 0.85 else 4, -10)
            ax.annotate(f"n={n}", (c, s), textcoords="offset points", xytext=shift, fontsize=7)
    else:
        ax.text(0.5, 0.5, "no judged replies", ha="center", va="center")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence (bin mean)")
    ax.set_ylabel("share judged right")
    ax.set_title(f"ECE {fmt(cal.ece, 3)} over {cal.judged} judged replies", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    points = "; ".join(f"confidence {c:.2f}: {s:.0%} right (n={n})" for c, s, n in cal.bins)
    return Plot(
        "Calibration",
        f"Reliability diagram: share of replies judged right against confidence in "
        f"{CALIBRATION_BINS} bins, with the diagonal of perfect calibration. {points or 'None'}.",
        f"Confidence against the share judged right, {cal.judged} judged replies; points "
        f"below the diagonal are over-confident. Expected calibration error "
        f"{fmt(cal.ece, 3)}.",
        _png(fig),
    )


def ratings_plot(groups: list[Group]) -> Plot:
    """Stacked horizontal bars of end-user ratings (up, down, none) per group."""
    kinds = (("up", "#3a9a3a"), ("down", "#c0392b"), (None, "#bbb"))
    fig = Figure(figsize=(9, 0.5 * len(groups) + 1.4))
    ax = fig.subplots()
    y = np.arange(len(groups))
    left = np.zeros(len(groups))
    for kind, colour in kinds:
        counts = np.array([sum(r.rating == kind for r in m) for _, m in groups], dtype=float)
        ax.barh(y, counts, left=left, color=colour, label=kind or "not rated")
        left += counts
    ax.set_yticks(y, [f"{label} (n={len(m)})" for label, m in groups], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("replies")
    ax.legend(loc="lower right", fontsize=8, ncol=3)
    fig.tight_layout()
    parts = "; ".join(
        f"{label}: {sum(r.rating == 'up' for r in m)} up, {sum(r.rating == 'down' for r in m)} "
        f"down of {len(m)}"
        for label, m in groups
    )
    return Plot(
        "End-user ratings",
        f"Stacked horizontal bars of end-user ratings by decision. {parts}.",
        "End-user ratings (thumbs up, thumbs down, not rated) by the agent's decision.",
        _png(fig),
    )
