"""The QA report: one self-contained HTML page of reply quality, with plots, for QA leads.

    summary = render_report(replies, tenant="acme", out=Path("qa-report.html"))

The page needs no other file or network access: plots are PNGs embedded as data URIs and the
style sheet is inline. Every text from end users or documents is escaped by Jinja2.
"""

from __future__ import annotations

import base64
import io
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evaluation.records import SCORE_NAMES, ScoredReply
from knowledge.errors import ClearlineError

DPI = 80
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
_COLOURS = dict(zip(SCORE_NAMES, ("#1b6ca8", "#e07b00", "#3a9a3a", "#b8336a"), strict=True))
_SAFE_SCHEMES = ("", "http", "https")
_LEGEND: dict[str, Any] = {  # above the axes, so no line or bar hides under it
    "loc": "lower center", "bbox_to_anchor": (0.5, 1.0), "ncol": 4, "fontsize": 8,
    "frameon": False,
}  # fmt: skip


class InvalidReportInput(ClearlineError, ValueError):
    """The report was asked for with an impossible setting."""


@dataclass(frozen=True)
class ReportSummary:
    """What `render_report` wrote: the page, how many replies, the titles of its plots."""

    path: Path
    n: int
    plots: list[str]
    elapsed_s: float


@dataclass(frozen=True)
class _Plot:
    title: str
    alt: str
    caption: str
    png: str  # base64


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


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _score_means(rows: Sequence[ScoredReply]) -> dict[str, float | None]:
    return {name: _mean([r.scores.get(name) for r in rows]) for name in SCORE_NAMES}


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _png(fig: Figure) -> str:
    FigureCanvasAgg(fig)  # Agg canvas on a bare Figure: no pyplot state, nothing left open
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _time_plot(rows: Sequence[ScoredReply]) -> _Plot:
    by_day: dict[date, list[ScoredReply]] = {}
    for r in rows:
        by_day.setdefault(r.created_at.date(), []).append(r)
    first, last = min(by_day), max(by_day)
    days = [first + timedelta(d) for d in range((last - first).days + 1)]
    x = np.arange(len(days))
    fig = Figure(figsize=(9, 4.6))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    daily = [_score_means(by_day.get(d, [])) for d in days]
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
    overall = ", ".join(f"{k} {_fmt(v)}" for k, v in _score_means(rows).items())
    busiest = max(by_day, key=lambda d: len(by_day[d]))
    return _Plot(
        "Quality over time",
        f"Line chart of the daily mean of each score from {span} ({len(days)} days, "
        f"{len(rows)} replies), with a bar chart of replies per day below. Overall means: "
        f"{overall}. Busiest day {busiest.isoformat()} with {len(by_day[busiest])} replies.",
        f"Daily mean of each score (top, missing scores left out) and replies per day "
        f"(bottom), {span}.",
        _png(fig),
    )


def _groups(rows: Sequence[ScoredReply], key: Callable[[ScoredReply], str]) -> list[
    tuple[str, list[ScoredReply]]
]:  # fmt: skip
    counts = Counter(key(r) for r in rows)
    kept = {name for name, _ in counts.most_common(MAX_GROUPS)}
    groups: dict[str, list[ScoredReply]] = {}
    for r in rows:
        groups.setdefault(key(r) if key(r) in kept else "(other)", []).append(r)
    return sorted(groups.items(), key=lambda item: (item[0] == "(other)", -len(item[1])))


def _category_plot(title: str, noun: str, groups: list[tuple[str, list[ScoredReply]]]) -> _Plot:
    fig = Figure(figsize=(9, 4))
    ax = fig.subplots()
    x = np.arange(len(groups))
    width = 0.8 / len(SCORE_NAMES)
    for i, name in enumerate(SCORE_NAMES):
        means = [_nan(_score_means(members)[name]) for _, members in groups]
        ax.bar(x + (i - 1.5) * width, means, width, color=_COLOURS[name], label=name)
    labels = [f"{label}\n(n={len(members)})" for label, members in groups]
    ax.set_xticks(x, labels, rotation=30 if len(groups) > 5 else 0, fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("mean score")
    ax.legend(**_LEGEND)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    described = "; ".join(
        f"{label} (n={len(m)}): groundedness {_fmt(_score_means(m)['groundedness'])}"
        for label, m in groups
    )
    return _Plot(
        title,
        f"Grouped bar chart of the mean of each score by {noun}, {len(groups)} groups. "
        f"{described}.",
        f"Mean of each score by {noun}; n is the number of replies in the group "
        f"(the {MAX_GROUPS} largest groups, the rest pooled as '(other)').",
        _png(fig),
    )


def _distribution_plot(rows: Sequence[ScoredReply]) -> _Plot:
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
        parts.append(f"{name}: {len(values)} values, median {_fmt(_median(values))}")
    fig.tight_layout()
    return _Plot(
        "Score distributions",
        "Four histograms, one per score, in ten bins from 0 to 1. " + "; ".join(parts) + ".",
        "How each score is distributed across replies; missing scores (None) are counted "
        "in each panel's title and left out of the bars.",
        _png(fig),
    )


def _median(values: Sequence[float]) -> float | None:
    return float(np.median(values)) if values else None


@dataclass(frozen=True)
class _Calibration:
    bins: list[tuple[float, float, int]]  # mean confidence, share right, count
    ece: float | None
    judged: int


def _calibration(rows: Sequence[ScoredReply], threshold: float) -> _Calibration:
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
    return _Calibration(bins, ece, len(pairs))


def _calibration_plot(cal: _Calibration) -> _Plot:
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
    ax.set_title(f"ECE {_fmt(cal.ece, 3)} over {cal.judged} judged replies", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    points = "; ".join(f"confidence {c:.2f}: {s:.0%} right (n={n})" for c, s, n in cal.bins)
    return _Plot(
        "Calibration",
        f"Reliability diagram: share of replies judged right against confidence in "
        f"{CALIBRATION_BINS} bins, with the diagonal of perfect calibration. {points or 'None'}.",
        f"Confidence against the share judged right, {cal.judged} judged replies; points "
        f"below the diagonal are over-confident. Expected calibration error "
        f"{_fmt(cal.ece, 3)}.",
        _png(fig),
    )


def _ratings_plot(groups: list[tuple[str, list[ScoredReply]]]) -> _Plot:
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
    return _Plot(
        "End-user ratings",
        f"Stacked horizontal bars of end-user ratings by decision. {parts}.",
        "End-user ratings (thumbs up, thumbs down, not rated) by the agent's decision.",
        _png(fig),
    )


def _safe_link(href: str) -> str | None:
    return href if urlsplit(href).scheme.lower() in _SAFE_SCHEMES else None


def _known(reply: ScoredReply) -> list[float]:
    return [v for k in SCORE_NAMES if (v := reply.scores.get(k)) is not None]


def _worst(
    rows: Sequence[ScoredReply], trace_link: Callable[[str], str]
) -> list[dict[str, object]]:
    known = [(vs, r) for r in rows if (vs := _known(r))]
    scored = sorted(((sum(vs) / len(vs), min(vs), r) for vs, r in known), key=lambda t: t[:2])
    return [
        {
            "href": _safe_link(trace_link(r.trace_id)),
            "trace_id": r.trace_id,
            "when": r.created_at.strftime("%Y-%m-%d %H:%M"),
            "intent": r.intent,
            "decision": r.decision,
            "question": _clip(r.question, 200),
            "answer": _clip(r.answer, 300),
            "mean": _fmt(mean),
            "scores": [_fmt(r.scores.get(name)) for name in SCORE_NAMES],
            "confidence": _fmt(r.confidence),
            "rating": r.rating or "–",
            "verdict": r.verdict or "–",
        }
        for mean, _, r in scored[:WORST_SHOWN]
    ]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(groups: list[tuple[str, list[ScoredReply]]]) -> list[list[str]]:
    return [
        [label, str(len(m)), *(_fmt(v) for v in _score_means(m).values())] for label, m in groups
    ]


def _headline(rows: Sequence[ScoredReply], cal: _Calibration) -> list[tuple[str, str, str]]:
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
            (f"mean_{k}", f"Mean {k.replace('_', ' ')} ({scored[k]} scored)", _fmt(v))
            for k, v in _score_means(rows).items()
        ),
        ("handoffs", "Handoffs", f"{handoffs} ({handoffs / n:.1%})"),
        ("down_ratings", "Rated down", f"{sum(r.rating == 'down' for r in rows)} of {rated} rated"),
        ("ece", "Calibration error (ECE)", _fmt(cal.ece, 3)),
    ]


def render_report(
    replies: Sequence[ScoredReply], tenant: str, out: Path,
    trace_link: Callable[[str], str] = lambda tid: f"/v1/traces/{tid}",
    generated_at: datetime | None = None, threshold: float = 0.6,
) -> ReportSummary:  # fmt: skip
    """Write the QA report for `replies` to `out` (one HTML file) and say what it holds."""
    if not 0.0 <= threshold <= 1.0:
        raise InvalidReportInput(f"threshold {threshold!r} is outside [0, 1]; pass e.g. 0.6")
    started = time.perf_counter()
    rows = list(replies)
    context: dict[str, object] = {
        "tenant": tenant,
        "generated_at": (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M %Z").strip(),
        "n": len(rows),
        "threshold": threshold,
        "score_names": SCORE_NAMES,
        "right_verdicts": ", ".join(sorted(RIGHT_VERDICTS)),
        "wrong_verdicts": ", ".join(sorted(WRONG_VERDICTS)),
    }
    plots: list[_Plot] = []
    if rows:
        by_intent = _groups(rows, lambda r: r.intent)
        by_decision = _groups(rows, lambda r: r.decision)
        cal = _calibration(rows, threshold)
        plots = [
            _time_plot(rows),
            _category_plot("Quality by intent", "intent", by_intent),
            _category_plot("Quality by decision", "decision", by_decision),
            _distribution_plot(rows),
            _calibration_plot(cal),
            _ratings_plot(by_decision),
        ]
        context["headline"] = _headline(rows, cal)
        context["judged"] = cal.judged
        days = [r.created_at.date() for r in rows]  # dates: naive and aware times may mix
        context["period"] = (min(days), max(days))
        context["intent_table"] = _table(by_intent)
        context["decision_table"] = _table(by_decision)
        context["worst"] = _worst(rows, trace_link)
    context["plots"] = plots
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_TEMPLATE.render(context), encoding="utf-8")
    return ReportSummary(out, len(rows), [p.title for p in plots], time.perf_counter() - started)


_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATE = _ENV.from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>QA report: {{ tenant }}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:1rem;color:#222}
h1{margin-bottom:.2rem} .meta{color:#555;margin-top:0}
dl.headline{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:.6rem}
dl.headline div{border:1px solid #ddd;border-radius:6px;padding:.5rem .7rem}
dt{font-size:.8rem;color:#555} dd{margin:0;font-size:1.3rem;font-weight:600}
figure{margin:1.5rem 0} figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9rem;color:#444}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border-bottom:1px solid #e3e3e3;padding:.3rem .4rem;text-align:left;vertical-align:top}
td.num,th.num{text-align:right} .empty{padding:2rem;background:#f6f6f6;border-radius:6px}
</style></head><body>
<h1>QA report: {{ tenant }}</h1>
<p class="meta">Generated {{ generated_at }}{% if n %} · replies from {{ period[0] }} to
{{ period[1] }}{% endif %}</p>
{% if not n %}
<p class="empty" id="no-replies">No replies yet: this tenant has no scored replies to report on.
The report fills in once the agent has answered questions and they have been scored.</p>
{% else %}
<section aria-label="Headline numbers"><dl class="headline">
{% for key, label, value in headline %}<div data-metric="{{ key }}"><dt>{{ label }}</dt>
<dd>{{ value }}</dd></div>
{% endfor %}</dl></section>
<p><strong>What counts as right</strong> (for calibration and ECE): a QA lead's verdict when the
reply has one ({{ right_verdicts }} count as right; {{ wrong_verdicts }} as wrong);
otherwise groundedness &ge; {{ threshold }} and not rated down
by the end user. Replies with neither a verdict nor a groundedness score are left out
({{ n - judged }} of {{ n }}).</p>
{% for plot in plots %}<figure>
<h2>{{ plot.title }}</h2>
<img src="data:image/png;base64,{{ plot.png }}" alt="{{ plot.alt }}">
<figcaption>{{ plot.caption }}</figcaption>
</figure>
{% if plot.title == "Quality by decision" %}
{% for caption, table in (("By intent", intent_table), ("By decision", decision_table)) %}
<table><caption>{{ caption }}: replies and mean scores</caption>
<tr><th>group</th><th class="num">n</th>{% for s in score_names %}<th class="num">{{ s }}</th>
{% endfor %}</tr>
{% for row in table %}<tr><td>{{ row[0] }}</td>{% for v in row[1:] %}<td class="num">{{ v }}</td>
{% endfor %}</tr>
{% endfor %}</table>
{% endfor %}{% endif %}
{% endfor %}
<section><h2>Worst replies</h2>
<p>The {{ worst|length }} replies with the lowest mean score (missing scores left out); open
a trace to see why the agent did what it did.</p>
<table id="worst-replies"><tr><th>trace</th><th>when</th><th>intent</th><th>decision</th>
<th>question</th><th>answer</th><th class="num">mean</th>{% for s in score_names %}
<th class="num">{{ s }}</th>{% endfor %}<th class="num">confidence</th><th>rating</th>
<th>verdict</th></tr>
{% for w in worst %}<tr><td>{% if w.href %}<a href="{{ w.href }}">{{ w.trace_id }}</a>
{% else %}{{ w.trace_id }}{% endif %}</td><td>{{ w.when }}</td><td>{{ w.intent }}</td>
<td>{{ w.decision }}</td><td>{{ w.question }}</td><td>{{ w.answer }}</td>
<td class="num">{{ w.mean }}</td>{% for v in w.scores %}<td class="num">{{ v }}</td>
{% endfor %}<td class="num">{{ w.confidence }}</td><td>{{ w.rating }}</td>
<td>{{ w.verdict }}</td></tr>
{% endfor %}</table></section>
{% endif %}
</body></html>
""")
