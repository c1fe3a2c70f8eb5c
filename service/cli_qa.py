"""`clearline qa run|report|golden-import|golden-export`: the QA loop from the command line.

`qa run` scores the tenant's production replies (the traces in the control database) that
are not scored yet; evaluation runs keep their traces elsewhere and are never scored.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from service.cli_output import emit, out, output_path, runtime, write_lines
from service.lock import DataDirLock
from service.settings import Settings


def cmd_qa(args: argparse.Namespace, settings: Settings) -> int:
    """The QA loop from the command line: score, report, golden sets."""
    out_path = output_path(args.out, settings) if getattr(args, "out", None) is not None else None
    with DataDirLock(settings.data_dir, f"clearline qa {args.action}"):
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            if args.action == "run":
                return _qa_run(args, rt)
            if args.action == "report":
                assert out_path is not None
                return _qa_report(args, rt, out_path)
            if args.action == "golden-import":
                text = Path(args.path).read_text(encoding="utf-8")
                count = rt.golden.import_jsonl(args.tenant, text, Path(args.path).name)
                rt.audit(args.tenant, "cli", "qa.golden.import", cases=count)
                emit(args, {"imported": count}, f"imported {count} golden cases")
                return 0
            cases = rt.golden.cases(args.tenant)
            lines = "\n".join(json.dumps(c) for c in cases)
            rt.audit(args.tenant, "cli", "qa.golden.export", cases=len(cases))
            if out_path is not None:
                write_lines(out_path, [lines + "\n"])
                emit(args, {"exported": len(cases), "path": args.out},
                     f"exported {len(cases)} golden cases to {args.out}")  # fmt: skip
            else:
                out(lines)
            return 0
        finally:
            rt.close()


def _qa_run(args: argparse.Namespace, rt: Any) -> int:
    from tqdm import tqdm

    from evaluation.scored_replies import scored_replies

    pending = rt.scoring.pending(args.tenant, limit=1_000_000)
    with tqdm(total=len(pending), unit="reply", desc="qa run", disable=None) as bar:
        for trace_id in pending:
            rt.scoring.score(trace_id)
            bar.update()
    replies = scored_replies(rt.sessions, args.tenant)
    means: dict[str, float | None] = {}
    for name in ("groundedness", "answer_relevance", "context_relevance", "correctness"):
        values = [r.scores[name] for r in replies if r.scores.get(name) is not None]
        means[name] = (
            round(sum(v for v in values if v is not None) / len(values), 4) if values else None
        )
    queue = rt.review_queue.entries(args.tenant)
    data = {
        "scored": len(pending),
        "replies": len(replies),
        "mean_scores": means,
        "evaluators": rt.scoring.evaluators,
        "queue": len(queue),
    }
    human = f"scored {len(pending)} replies; {len(replies)} scored in all; review queue: " + (
        f"{len(queue)}\nmean scores: {means}"
    )
    emit(args, data, human)
    return 0


def _qa_report(args: argparse.Namespace, rt: Any, path: Path) -> int:
    from evaluation.report import render_report
    from evaluation.scored_replies import scored_replies

    base = args.trace_base_url.rstrip("/")
    # Rendered aside, then put in place whole: a report already at `path` stays intact if
    # rendering or writing fails (a full disk, an interrupt).
    with tempfile.TemporaryDirectory(prefix="clearline-report-") as scratch:
        summary = render_report(
            scored_replies(rt.sessions, args.tenant), args.tenant, Path(scratch) / "report.html",
            trace_link=lambda trace_id: f"{base}/v1/traces/{trace_id}",
        )  # fmt: skip
        write_lines(path, [summary.path.read_text(encoding="utf-8")])
    data = {"path": str(path), "replies": summary.n, "plots": summary.plots,
            "elapsed_s": round(summary.elapsed_s, 2)}  # fmt: skip
    emit(args, data, f"wrote {path} ({summary.n} replies, {len(summary.plots)} plots)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    p = sub.add_parser("qa", parents=[common], help="score replies, reports, golden sets")
    qa_sub = p.add_subparsers(dest="action", required=True)
    run = qa_sub.add_parser("run", parents=[common], help="score every reply not scored yet")
    run.add_argument("--tenant", required=True)
    report = qa_sub.add_parser("report", parents=[common], help="write the HTML quality report")
    report.add_argument("--tenant", required=True)
    report.add_argument("--out", required=True)
    report.add_argument(
        "--trace-base-url",
        default="http://127.0.0.1:8000",
        help="where trace links in the report point",
    )
    imp = qa_sub.add_parser("golden-import", parents=[common], help="import a questions JSONL")
    imp.add_argument("path")
    imp.add_argument("--tenant", required=True)
    exp = qa_sub.add_parser("golden-export", parents=[common], help="export the golden set")
    exp.add_argument("--tenant", required=True)
    exp.add_argument("--out", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_qa)
