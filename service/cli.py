"""The `clearline` command line. Every command takes --data-dir and --json.

Commands that touch a data directory take its lock; while `clearline serve` holds it they
refuse with a message that points to the server's HTTP API.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from knowledge.errors import ClearlineError
from service.cli_output import emit as _emit
from service.cli_output import out as _out
from service.cli_output import runtime as _runtime
from service.lock import DataDirLock
from service.offline import go_offline
from service.settings import REGIONS, Settings
from service.tenants import ROLES


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = Path(args.data_dir)
    for name in ("host", "port"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    return Settings(**overrides)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from ingest.sources import expand

    with DataDirLock(settings.data_dir, "clearline ingest"):
        runtime = _runtime(settings)
        try:
            runtime.ensure_tenant(args.tenant)
            items = list(expand([Path(p) for p in args.paths]))
            with (
                tqdm(total=len(items), file=sys.stderr, unit="doc", desc="ingest") as bar,
                runtime.ingestor(args.tenant) as ingestor,
            ):
                results = ingestor.run(args.tenant, items, on_result=lambda _: bar.update(1))
        finally:
            runtime.close()
    counts = Counter(r.status for r in results)
    totals = {s: counts.get(s, 0) for s in ("ingested", "unchanged", "replaced", "failed")}
    totals["documents"] = len(results)
    totals["chunks"] = sum(r.chunks for r in results)
    lines = [
        f"{r.status:<9} {r.chunks:>4}  {r.source}" + (f"\n          {r.error}" if r.error else "")
        for r in results
    ]
    lines.append(", ".join(f"{v} {k}" for k, v in totals.items()))
    _emit(args, {"documents": [asdict(r) for r in results], "totals": totals}, "\n".join(lines))
    return 1 if totals["failed"] else 0


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from service.schemas import SourcePublic

    with DataDirLock(settings.data_dir, "clearline sources"):
        runtime = _runtime(settings)
        try:
            records = runtime.store(args.tenant).list_documents(args.tenant)
        finally:
            runtime.close()
    sources = [SourcePublic.of(r).model_dump(mode="json") for r in records]
    human = (
        "\n".join(
            f"{s['document_id']}  v{s['version']}  {s['chunks']} chunks  {s['type']}"
            for s in sources
        )
        or f"tenant '{args.tenant}' has no sources yet"
    )
    _emit(args, {"sources": sources}, human)
    return 0


def cmd_delete_source(args: argparse.Namespace, settings: Settings) -> int:
    with DataDirLock(settings.data_dir, "clearline delete-source"):
        runtime = _runtime(settings)
        try:
            runtime.store(args.tenant).delete(args.tenant, args.document_id)
            runtime.audit(args.tenant, "cli", "knowledge.delete", document_id=args.document_id)
        finally:
            runtime.close()
    _emit(args, {"deleted": args.document_id}, f"deleted {args.document_id}")
    return 0


def cmd_tenant(args: argparse.Namespace, settings: Settings) -> int:
    with DataDirLock(settings.data_dir, "clearline tenant"):
        runtime = _runtime(settings)
        try:
            if args.action == "create":
                tenant = runtime.tenants.create(args.name, args.region)
                runtime.audit(tenant.name, "cli", "tenant.create", region=tenant.region)
                data: Any = {"name": tenant.name, "region": tenant.region}
                human = f"created tenant {tenant.name} in region {tenant.region}"
            else:
                data = [{"name": t.name, "region": t.region} for t in runtime.tenants.list()]
                human = "\n".join(f"{t['name']}  {t['region']}" for t in data) or "no tenants"
        finally:
            runtime.close()
    _emit(args, data, human)
    return 0


def cmd_key(args: argparse.Namespace, settings: Settings) -> int:
    with DataDirLock(settings.data_dir, "clearline key"):
        runtime = _runtime(settings)
        try:
            secret = runtime.tenants.create_key(args.tenant, args.role, args.label or "")
            runtime.audit(args.tenant, "cli", "key.create", role=args.role)
        finally:
            runtime.close()
    _emit(
        args,
        {"tenant": args.tenant, "role": args.role, "key": secret},
        f"{secret}\n(shown once: store it now; Clearline keeps only its hash)",
    )
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    lock = DataDirLock(
        settings.data_dir, "clearline serve", f"http://{settings.host}:{settings.port}"
    )
    lock.acquire()
    _serve(settings, lock)
    return 0


def _serve(settings: Settings, lock: DataDirLock) -> None:
    import uvicorn

    from service.app import create_app

    try:
        uvicorn.run(
            create_app(settings, lock=lock),
            host=settings.host,
            port=settings.port,
            log_level="info",
        )
    finally:
        lock.release()


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Set up the demo tenant (sample knowledge, procedures, actions service), then serve."""
    from service.demo import set_up, start_actions_service, walkthrough

    url = f"http://{settings.host}:{settings.port}"
    lock = DataDirLock(settings.data_dir, "clearline serve", url)
    lock.acquire()
    runtime = _runtime(settings)
    try:
        demo = set_up(runtime)
    finally:
        runtime.close()
    actions = start_actions_service(settings)
    sys.stderr.write(walkthrough(url, demo))
    try:
        _serve(settings, lock)
    finally:
        actions.stop()
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Ask the tenant's agent one question (optionally in an existing conversation)."""
    with DataDirLock(settings.data_dir, "clearline ask"):
        runtime = _runtime(settings)
        try:
            runtime.tenants.get(args.tenant)
            conversations = runtime.conversations
            conversation_id = args.conversation or conversations.start(args.tenant).id
            posted = conversations.post(args.tenant, conversation_id, args.question)
        finally:
            runtime.close()
    reply = posted.reply
    shown = reply.decision != "draft"
    data = {
        "conversation_id": conversation_id,
        "message_id": posted.message.id,
        "text": reply.text,
        "ai_generated": True,
        "decision": reply.decision,
        "confidence": round(reply.confidence, 4),
        "citations": [asdict(c) for c in reply.citations] if shown else [],
        "trace_id": reply.trace.trace_id,
    }
    cited = "".join(f"\n  [{c['document_id']}] {c['quote'][:100]}" for c in data["citations"])
    human = (
        f"{reply.text}\n(AI-generated; decision: {reply.decision}, confidence "
        f"{reply.confidence:.2f}; trace {reply.trace.trace_id}; conversation {conversation_id})"
        + (f"\nSources:{cited}" if cited else "")
    )
    _emit(args, data, human)
    return 0


def cmd_trace(args: argparse.Namespace, settings: Settings) -> int:
    """Print the reasoning trace of one reply."""
    from service.errors import NotFound

    with DataDirLock(settings.data_dir, "clearline trace"):
        runtime = _runtime(settings)
        try:
            tenants = [args.tenant] if args.tenant else [t.name for t in runtime.tenants.list()]
            trace = next(
                (t for name in tenants if (t := runtime.agent.traces.get(name, args.trace_id))),
                None,
            )
        finally:
            runtime.close()
    if trace is None:
        raise NotFound(f"trace '{args.trace_id}' does not exist")
    data = trace.model_dump(mode="json")
    lines = [f"trace {trace.trace_id} (tenant {trace.tenant}) question: {trace.question}"]
    for step in trace.steps:
        lines.append(
            f"  {step.name:<10} {step.status:<7} {step.elapsed_ms:>8.1f} ms  {step.reason}"
        )
    if trace.decision:
        lines.append(f"  decision: {trace.decision.decision} — {trace.decision.rule}")
    _emit(args, data, "\n".join(lines))
    return 0


def cmd_eval_answers(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from agent.answer.verify import Verifier
    from evaluation.answers import results, run, summarise
    from evaluation.questions import load_questions

    questions = load_questions(Path(args.questions))
    with DataDirLock(settings.data_dir, "clearline eval"):
        runtime = _runtime(settings)
        try:
            runtime.tenants.get(args.tenant)
            tenant_agent = runtime.agents.agent(args.tenant)
            with tqdm(total=len(questions), unit="q", desc="eval answers", disable=None) as bar:
                outcomes = run(runtime.agent, tenant_agent, questions, lambda _: bar.update())
            verifier = Verifier(runtime.embedder, tenant_agent.config.thresholds.support)
            summary = summarise(
                outcomes, runtime.store(args.tenant), args.tenant, runtime.embedder, verifier
            )
        finally:
            runtime.close()
    report = {"n": len(outcomes), "summary": summary, "results": results(outcomes)}
    lines = [
        f"{len(outcomes)} questions",
        f"answered (answerable):        {summary['answered_rate']}",
        f"declined (unanswerable):      {summary['declined_rate']}",
        f"groundedness:                 {summary['groundedness']}",
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
    _emit(args, report, "\n".join(lines))
    return 0


def _qa(args: argparse.Namespace, settings: Settings) -> int:
    from service.cli_qa import cmd_qa

    return cmd_qa(args, settings)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "answers":
        return cmd_eval_answers(args, settings)
    if args.action == "gate":
        from service.cli_qa import cmd_eval_gate

        return cmd_eval_gate(args, settings)
    from evaluation.questions import load_questions
    from evaluation.retrieval import evaluate
    from knowledge.retrieve import Retriever

    questions = load_questions(Path(args.questions))
    with DataDirLock(settings.data_dir, "clearline eval"):
        runtime = _runtime(settings)
        try:
            retriever = Retriever(runtime.store(args.tenant), runtime.embedder)
            report = evaluate(retriever, args.tenant, questions)
        finally:
            runtime.close()
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
    _emit(args, report, "\n".join(lines))
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (default $CLEARLINE_DATA_DIR or ./data)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    parser = argparse.ArgumentParser(prog="clearline", description=__doc__, parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="ingest files, folders or .jsonl corpora")
    p.add_argument("paths", nargs="+")
    p.add_argument("--tenant", required=True)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("sources", parents=[common], help="list a tenant's knowledge sources")
    p.add_argument("--tenant", required=True)
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("delete-source", parents=[common], help="remove a source everywhere")
    p.add_argument("document_id")
    p.add_argument("--tenant", required=True)
    p.set_defaults(func=cmd_delete_source)

    p = sub.add_parser("tenant", parents=[common], help="create or list tenants")
    tenant_sub = p.add_subparsers(dest="action", required=True)
    create = tenant_sub.add_parser("create", parents=[common])
    create.add_argument("name")
    create.add_argument("--region", required=True, choices=REGIONS)
    tenant_sub.add_parser("list", parents=[common])
    p.set_defaults(func=cmd_tenant)

    p = sub.add_parser("key", parents=[common], help="create API keys")
    key_sub = p.add_subparsers(dest="action", required=True)
    create = key_sub.add_parser("create", parents=[common])
    create.add_argument("--tenant", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--label")
    p.set_defaults(func=cmd_key)

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
        help="injection data folder (default ../shared/data/injection if present)",
    )
    gate.add_argument("--no-probes", action="store_true", help="skip the injection probes")
    p.set_defaults(func=cmd_eval)

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
    p.set_defaults(func=_qa)

    p = sub.add_parser("ask", parents=[common], help="ask the agent a question")
    p.add_argument("question")
    p.add_argument("--tenant", required=True)
    p.add_argument("--conversation", help="continue this conversation id")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("trace", parents=[common], help="show the reasoning trace of a reply")
    p.add_argument("trace_id")
    p.add_argument("--tenant", help="the trace's tenant (default: look in every tenant)")
    p.set_defaults(func=cmd_trace)

    for name, func in (("serve", cmd_serve), ("demo", cmd_demo)):
        p = sub.add_parser(
            name, parents=[common], help=(func.__doc__ or "").split("\n")[0] or "run the HTTP API"
        )
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    go_offline()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ValidationError as error:
        problems = "; ".join(
            f"CLEARLINE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()
        )
        sys.stderr.write(f"error: invalid setting ({problems}); fix the environment variable\n")
        return 2
    try:
        code: int = args.func(args, settings)
        return code
    except ClearlineError as error:
        sys.stderr.write(f"error: {error}\n")
        if args.json:
            code_name = getattr(error, "code", "error")
            _out(json.dumps({"error": {"code": code_name, "message": str(error)}}))
        return 1


if __name__ == "__main__":
    sys.exit(main())
