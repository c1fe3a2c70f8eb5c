"""The QA report: one self-contained HTML page of reply quality, with plots, for QA leads.

    summary = render_report(replies, tenant="acme", out=Path("qa-report.html"))

The page needs no other file or network access: plots are PNGs embedded as data URIs and the
style sheet is inline. The page is evaluation/templates/report.html.j2, rendered with
autoescaping on, so every text from end users, documents or traces is escaped by Jinja2.
The numbers come from evaluation.report_numbers, the plots from evaluation.report_figures.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from evaluation.records import SCORE_NAMES, ScoredReply
from evaluation.report_figures import (
    DPI,
    Plot,
    calibration_plot,
    category_plot,
    distribution_plot,
    ratings_plot,
    time_plot,
)
from evaluation.report_numbers import (
    RIGHT_VERDICTS,
    WRONG_VERDICTS,
    calibration,
    groups,
    headline,
    judged_right,
    table,
    worst,
)
from knowledge.errors import ClearlineError

__all__ = ["DPI", "InvalidReportInput", "ReportSummary", "judged_right", "render_report"]
TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"


class InvalidReportInput(ClearlineError, ValueError):
    """The report was asked for with an impossible setting."""


@dataclass(frozen=True)
class ReportSummary:
    """What `render_report` wrote: the page, how many replies, the titles of its plots."""

    path: Path
    n: int
    plots: list[str]
    elapsed_s: float


@functools.cache
def _template() -> jinja2.Template:
    """The page template, read once per process. autoescape=True (not select_autoescape,
    which would not match the .j2 suffix) escapes every value the template prints."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template(TEMPLATE)


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
    plots: list[Plot] = []
    if rows:
        by_intent = groups(rows, lambda r: r.intent)
        by_decision = groups(rows, lambda r: r.decision)
        cal = calibration(rows, threshold)
        plots = [
            time_plot(rows),
            category_plot("Quality by intent", "intent", by_intent),
            category_plot("Quality by decision", "decision", by_decision),
            distribution_plot(rows),
            calibration_plot(cal),
            ratings_plot(by_decision),
        ]
        context["headline"] = headline(rows, cal)
        context["judged"] = cal.judged
        days = [r.created_at.date() for r in rows]  # dates: naive and aware times may mix
        context["period"] = (min(days), max(days))
        context["intent_table"] = table(by_intent)
        context["decision_table"] = table(by_decision)
        context["worst"] = worst(rows, trace_link)
    context["plots"] = plots
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_template().render(context), encoding="utf-8")
    return ReportSummary(out, len(rows), [p.title for p in plots], time.perf_counter() - started)
