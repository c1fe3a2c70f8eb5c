"""`clearline qa ...` and `clearline eval gate`: the QA loop from the command line."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from service.cli_output import emit as _emit
from service.cli_output import out as _out
from service.cli_output import runtime as _runtime
from service.lock import DataDirLock
from service.settings import Settings


def cmd_qa(args: argparse.Namespace, settings: Settings) -> int:
    """The QA loop from the command line: score, report, golden sets."""
    with DataDirLock(settings.data_dir, f"clearline qa {args.action}"):
        runtime = _runtime(settings)
        try:
            runtime.tenants.get(args.tenant)
            if args.action == "run":
                return _qa_run(args, runtime)
            if args.action == "report":
                return _qa_report(args, runtime)
            if args.action == "golden-import":
                text = Path(args.path).read_text(encoding="utf-8")
                count = runtime.qa.import_golden(args.tenant, text, Path(args.path).name)
                runtime.audit(args.tenant, "cli", "qa.golden.import", cases=count)
                _emit(args, {"imported": count}, f"imported {count} golden cases")
                return 0
            cases = runtime.qa.golden(args.tenant)
            lines = "\n".join(json.dumps(c) for c in cases)
            if args.out:
                Path(args.out).write_text(lines + "\n", encoding="utf-8")
                _emit(args, {"exported": len(cases), "path": args.out},
                      f"exported {len(cases)} golden cases to {args.out}")  # fmt: skip
            else:
                _out(lines)
            return 0
        finally:
            runtime.close()


def _qa_run(args: argparse.Namespace, runtime: Any) -> int:
    from tqdm import tqdm

    pending = runtime.qa.pending(args.tenant, limit=1_000_000)
    with tqdm(total=len(pending), unit="reply", desc="qa run", disable=None) as bar:
        for trace_id in pending:
            runtime.qa.score(trace_id)
            bar.update()
    replies = runtime.qa.scored_replies(args.tenant)
    means: dict[str, float | None] = {}
    for name in ("groundedness", "answer_relevance", "context_relevance", "correctness"):
        values = [r.scores[name] for r in replies if r.scores.get(name) is not None]
        means[name] = (
            round(sum(v for v in values if v is not None) / len(values), 4) if values else None
        )
    queue = runtime.qa.queue(args.tenant)
    data = {
        "scored": len(pending),
        "replies": len(replies),
        "mean_scores": means,
        "evaluators": runtime.qa.evaluators,
        "queue": len(queue),
    }
    human = f"scored {len(pending)} replies; {len(replies)} scored in all; review queue: " + (
        f"{len(queue)}\nmean scores: {means}"
    )
    _emit(args, data, human)
    return 0


def _qa_report(args: argparse.Namespace, runtime: Any) -> int:
    from evaluation.report import render_report

    out = Path(args.out)
    base = args.trace_base_url.rstrip("/")
    summary = render_report(
        runtime.qa.scored_replies(args.tenant), args.tenant, out,
        trace_link=lambda trace_id: f"{base}/v1/traces/{trace_id}",
    )  # fmt: skip
    data = {"path": str(out), "replies": summary.n, "plots": summary.plots,
            "elapsed_s": round(summary.elapsed_s, 2)}  # fmt: skip
    _emit(args, data, f"wrote {out} ({summary.n} replies, {len(summary.plots)} plots)")
    return 0


def cmd_eval_gate(args: argparse.Namespace, settings: Settings) -> int:
    import yaml

    from agent.answer.verify import Verifier
    from evaluation.gate import compare, measure
    from service.errors import BadRequest
    from service.gate_probes import probe_runner

    path = Path(args.candidate)
    try:
        changes = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise BadRequest(f"candidate configuration '{path}' cannot be read: {error}") from None
    if not isinstance(changes, dict):
        raise BadRequest(f"candidate configuration '{path}' must be a mapping of settings")
    with DataDirLock(settings.data_dir, "clearline eval gate"):
        runtime = _runtime(settings)
        try:
            runtime.tenants.get(args.tenant)
            current = runtime.agents.agent(args.tenant)
            try:
                candidate_config = current.config.merged(changes)
            except ValidationError as error:
                from service.agents import config_error

                raise config_error(error) from None
            golden = runtime.qa.golden_questions(args.tenant)
            if not golden:
                raise BadRequest(
                    f"tenant '{args.tenant}' has no golden set; import one with "
                    "`clearline qa golden-import QUESTIONS.jsonl --tenant T`"
                )
            candidate = replace(current, config=candidate_config)
            verifier = Verifier(runtime.embedder, current.config.thresholds.support)
            probes = None if args.no_probes else probe_runner(runtime, args.tenant, args.probes)
            before = measure(runtime.agent, current, golden, runtime.embedder, verifier, probes)
            after = measure(runtime.agent, candidate, golden, runtime.embedder, verifier, probes)
            result = compare(before, after)
            report = {
                **result.as_json(),
                "candidate_file": str(path),
                "changes": changes,
                "golden_ids": [q.id for q in golden],
            }
            runtime.audit(args.tenant, "cli", "eval.gate", passed=result.passed,
                          candidate=str(path), reasons=result.reasons)  # fmt: skip
        finally:
            runtime.close()
    verdict = "PASSED" if result.passed else "REJECTED"
    _emit(args, report, f"gate {verdict}\n  " + "\n  ".join(result.reasons))
    return 0 if result.passed else 3
