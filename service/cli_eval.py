"""`clearline eval retrieval|answers|gate`: measure the tenant's knowledge and agent.

Evaluation never touches production data: `answers` and `gate` run the tenant's agent on
the tenant's knowledge but keep every trace in memory (Runtime.evaluation_agent), so the QA
loop never scores them and they never enter the review queue or the quality report; the
gate's injection probes plant their documents in a scratch store that is removed when the
gate ends. The gate's verdict is written to the audit log.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from control.errors import BadRequest
from service.cli_output import emit, runtime
from service.lock import DataDirLock
from service.settings import Settings


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "answers":
        return cmd_eval_answers(args, settings)
    if args.action == "gate":
        return cmd_eval_gate(args, settings)
    return cmd_eval_retrieval(args, settings)


def cmd_eval_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    from evaluation.questions import load_questions
    from evaluation.retrieval import evaluate
    from knowledge.retrieve import Retriever

    questions = load_questions(Path(args.questions))
    with DataDirLock(settings.data_dir, "clearline eval"):
        rt = runtime(settings)
        try:
            retriever = Retriever(rt.store(args.tenant), rt.embedder)
            report = evaluate(retriever, args.tenant, questions)
        finally:
            rt.close()
    methods = report["methods"]
    assert isinstance(methods, dict)
    lines = [
        f"{report['n']} questions; default method: {report['default']}",
        "method    nDCG@10    R@5   R@10    MRR  p50 ms  p95 ms",
    ]
    for name, m in methods.items():
        lines.append(
            f"{name:<8} {m['ndcg@10']:>8.3f} {m['recall@5']:>6.3f} {m['recall@10']:>6.3f} "
            f"{m['mrr']:>6.3f} {m['p50_ms']:>7.1f} {m['p95_ms']:>7.1f}"
        )
    emit(args, report, "\n".join(lines))
    return 0


def cmd_eval_answers(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from agent.answer.verify import Verifier
    from evaluation.answers import results, run, summarise
    from evaluation.questions import load_questions

    questions = load_questions(Path(args.questions))
    with DataDirLock(settings.data_dir, "clearline eval"):
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            tenant_agent = rt.agents.agent(args.tenant)
            with tqdm(total=len(questions), unit="q", desc="eval answers", disable=None) as bar:
                outcomes = run(rt.evaluation_agent, tenant_agent, questions,
                               lambda _: bar.update())  # fmt: skip
            verifier = Verifier(rt.embedder, tenant_agent.config.thresholds.support)
            summary = summarise(outcomes, rt.store(args.tenant), args.tenant, rt.embedder,
                                verifier)  # fmt: skip
            summary["reader"] = rt.answerability.reader_name(tenant_agent.config)
        finally:
            rt.close()
    report = {"n": len(outcomes), "summary": summary, "results": results(outcomes)}
    lines = [
        f"{len(outcomes)} questions; P(answerable) from {summary['reader']}",
        f"answered (answerable):        {summary['answered_rate']}",
        f"declined (unanswerable):      {summary['declined_rate']}",
        f"clarify (underspecified):     {summary['clarify_rate_underspecified']}",
        f"groundedness:                 {summary['groundedness']} "
        f"({summary['groundedness_detail']['evaluator']})",
        f"verifier citation support:    {summary['verifier_citation_support']} "
        "(the reply filter's own check: 1.0 by construction)",
        f"citation validity:            {summary['citation_validity']}",
        f"correctness token F1 / cos:   {summary['correctness']['token_f1']} / "
        f"{summary['correctness']['embedding_similarity']}",
        f"calibration ECE:              {summary['calibration']['ece']}",
        f"latency p50 / p95 ms:         {summary['latency_ms']['p50']} / "
        f"{summary['latency_ms']['p95']}",
        "threshold  answered  declined",
    ]
    for row in summary["tradeoff"]:
        lines.append(
            f"{row['threshold']:>9}  {row['answered_rate']!s:>8}  {row['declined_rate']!s:>8}"
        )
    emit(args, report, "\n".join(lines))
    return 0


def _candidate_changes(path: Path) -> dict[str, Any]:
    import yaml

    try:
        changes = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise BadRequest(f"candidate configuration '{path}' cannot be read: {error}") from None
    if not isinstance(changes, dict):
        raise BadRequest(f"candidate configuration '{path}' must be a mapping of settings")
    return changes


def cmd_eval_gate(args: argparse.Namespace, settings: Settings) -> int:
    from contextlib import nullcontext

    from conversations.agents import config_error
    from evaluation.entailment import EntailmentCheck
    from evaluation.gate import ProbeRunner, compare, measure
    from evaluation.gate_probes import probe_runner

    path = Path(args.candidate)
    changes = _candidate_changes(path)
    with DataDirLock(settings.data_dir, "clearline eval gate"):
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            current = rt.agents.agent(args.tenant)
            try:
                candidate_config = current.config.merged(changes)
            except ValidationError as error:
                raise config_error(error) from None
            golden = rt.golden.questions(args.tenant)
            if not golden:
                raise BadRequest(
                    f"tenant '{args.tenant}' has no golden set; import one with "
                    "`clearline qa golden-import QUESTIONS.jsonl --tenant T`"
                )
            candidate = replace(current, config=candidate_config)
            check = EntailmentCheck(rt.embedder)
            agent = rt.evaluation_agent
            probing = (
                nullcontext(None) if args.no_probes
                else probe_runner(agent, current, rt.embedder, rt.chat, args.probes)
            )  # fmt: skip
            with probing as probes:
                runner: ProbeRunner | None = probes
                before = measure(agent, current, golden, rt.embedder, check, runner)
                after = measure(agent, candidate, golden, rt.embedder, check, runner)
            result = compare(before, after)
            report = {
                **result.as_json(),
                "candidate_file": str(path),
                "changes": changes,
                "golden_ids": [q.id for q in golden],
            }
            rt.audit(args.tenant, "cli", "eval.gate", passed=result.passed,
                     candidate=str(path), reasons=result.reasons)  # fmt: skip
        finally:
            rt.close()
    verdict = "PASSED" if result.passed else "REJECTED"
    emit(args, report, f"gate {verdict}\n  " + "\n  ".join(result.reasons))
    return 0 if result.passed else 3


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    p = sub.add_parser("eval", parents=[common], help="evaluate retrieval or answers")
    eval_sub = p.add_subparsers(dest="action", required=True)
    retrieval = eval_sub.add_parser("retrieval", parents=[common])
    retrieval.add_argument("--tenant", required=True)
    retrieval.add_argument("--questions", required=True)
    answers = eval_sub.add_parser("answers", parents=[common])
    answers.add_argument("--tenant", required=True)
    answers.add_argument("--questions", required=True)
    gate = eval_sub.add_parser("gate", parents=[common])
    gate.add_argument("--tenant", required=True)
    gate.add_argument("--candidate", required=True, help="YAML: configuration changes to test")
    gate.add_argument(
        "--probes",
        type=Path,
        default=None,
        help="injection data folder (default: the probes shipped with Clearline, "
        "evaluation/data/probes)",
    )
    gate.add_argument("--no-probes", action="store_true", help="skip the injection probes")
    p.set_defaults(func=cmd_eval)
