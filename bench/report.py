"""Time `evaluation.report.render_report` against rendering empty figures, in one run.

    .venv/bin/python bench/report.py [--sizes 1000 5000] [--repeat 3]

The baseline is the time to save one empty matplotlib figure of the report's size and DPI
to PNG, times the number of plots the report draws: the floor any PNG-embedding report pays.
The ratio says how much the report's own work (aggregation, drawing, HTML) adds on top.
Rows are synthetic (fixed seed): 30 days, 6 intents, 4 decisions, some scores missing.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()  # before any library reads its settings at import

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from evaluation.records import SCORE_NAMES, ScoredReply  # noqa: E402
from evaluation.report import DPI, render_report  # noqa: E402


def synthetic(n: int, seed: int = 11) -> list[ScoredReply]:
    rng = random.Random(seed)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    intents = ["billing", "refund", "delivery", "account", "returns", "warranty"]
    rows = []
    for i in range(n):
        confidence = rng.random()
        scores: dict[str, float | None] = {
            name: min(1.0, max(0.0, rng.gauss(0.35 + 0.55 * confidence, 0.15)))
            for name in SCORE_NAMES
        }
        if rng.random() < 0.6:
            scores["correctness"] = None
        rows.append(
            ScoredReply(
                trace_id=f"tr-{i:06d}",
                created_at=start + timedelta(minutes=rng.randrange(30 * 24 * 60)),
                question=f"question {i} <about> {rng.choice(intents)}",
                answer=f"answer {i}",
                decision=rng.choice(["answered"] * 6 + ["clarify", "handoff", "draft"]),
                intent=rng.choice(intents),
                confidence=confidence,
                scores=scores,
                rating=rng.choice([None, None, None, "up", "down"]),
                verdict=rng.choice([None] * 8 + ["correct", "incorrect"]),
            )
        )
    return rows


def empty_figure_s() -> float:
    fig = Figure(figsize=(9, 4.6))
    FigureCanvasAgg(fig)
    fig.subplots()
    started = time.perf_counter()
    fig.savefig(io.BytesIO(), format="png", dpi=DPI)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.html"
        warm = render_report(synthetic(50), "bench", out)  # imports, fonts, caches
        per_figure = min(empty_figure_s() for _ in range(args.repeat * 3))
        baseline = per_figure * len(warm.plots)
        print(f"baseline: {len(warm.plots)} empty figures to PNG = {baseline:.3f} s")
        for n in args.sizes:
            rows = synthetic(n)
            seconds = min(render_report(rows, "bench", out).elapsed_s for _ in range(args.repeat))
            size_kb = out.stat().st_size / 1024
            print(
                f"render_report n={n}: {seconds:.3f} s (best of {args.repeat}), "
                f"{seconds / baseline:.1f}x baseline, page {size_kb:.0f} KiB"
            )


if __name__ == "__main__":
    main()
