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
from service.lock import DataDirLock
from service.offline import go_offline
from service.settings import REGIONS, Settings
from service.tenants import ROLES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "knowledge"


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _emit(args: argparse.Namespace, data: Any, human: str) -> None:
    _out(json.dumps(data, indent=2, default=str) if args.json else human)


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = Path(args.data_dir)
    for name in ("host", "port"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    return Settings(**overrides)


def _runtime(settings: Settings) -> Any:
    from service.runtime import Runtime

    return Runtime(settings)


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
    """Set up the demo tenant on the sample knowledge base, print keys, then serve."""
    from ingest.sources import expand

    url = f"http://{settings.host}:{settings.port}"
    lock = DataDirLock(settings.data_dir, "clearline serve", url)
    lock.acquire()
    runtime = _runtime(settings)
    try:
        runtime.ensure_tenant("demo")
        with runtime.ingestor("demo") as ingestor:
            results = ingestor.run("demo", list(expand([EXAMPLES])))
        admin = runtime.tenants.create_key("demo", "admin", "make run")
        end_user = runtime.tenants.create_key("demo", "end_user", "make run")
    finally:
        runtime.close()
    counts = Counter(r.status for r in results)
    sys.stderr.write(
        f"\nDemo tenant 'demo': {len(results)} sample documents "
        f"({dict(counts)}), serving on {url}\n"
        f"  admin key:    {admin}\n  end-user key: {end_user}\n\nTry:\n"
        f"  curl {url}/v1/health\n"
        f"  curl -H 'Authorization: Bearer {admin}' {url}/v1/knowledge/sources\n"
        f"  curl -H 'Authorization: Bearer {admin}' -F files=@README.md "
        f"{url}/v1/knowledge/sources\n"
        f"  open {url}/docs for the OpenAPI reference\n\n"
    )
    _serve(settings, lock)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
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

    p = sub.add_parser("eval", parents=[common], help="evaluate retrieval on a questions JSONL")
    eval_sub = p.add_subparsers(dest="action", required=True)
    retrieval = eval_sub.add_parser("retrieval", parents=[common])
    retrieval.add_argument("--tenant", required=True)
    retrieval.add_argument("--questions", required=True)
    p.set_defaults(func=cmd_eval)

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
