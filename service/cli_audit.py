"""`clearline audit`: a tenant's audit log.

    clearline audit export --tenant acme [--since 2026-12-01T00:00:00Z] --out FILE.jsonl
    clearline audit verify --tenant acme [--json]

`export` writes one JSON object per entry (with its chain hashes) and records the export
in the log; `verify` walks the hash chain and reports the first broken entry (exit 1 when
the chain is broken). Both work on the data directory (they take its lock); while
`clearline serve` holds it, use GET /v1/audit and GET /v1/audit/verify.
"""

from __future__ import annotations

import argparse
import json

from service.cli_output import emit, output_path, runtime, write_lines
from service.cli_retention import locked
from service.settings import Settings


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from control.audit_read import entries, parse_since

    since = parse_since(args.since)
    out = output_path(args.out, settings)
    lock = locked(settings, "clearline audit export", "GET /v1/audit")
    try:
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            lines = entries(rt.sessions, args.tenant, since)
            write_lines(out, (json.dumps(line.as_json(), ensure_ascii=False) + "\n"
                              for line in lines))  # fmt: skip
            rt.audit(args.tenant, "cli", "audit.export", entries=len(lines), since=args.since)
        finally:
            rt.close()
    finally:
        lock.release()
    data = {"tenant": args.tenant, "entries": len(lines), "out": str(out)}
    emit(args, data, f"wrote {len(lines)} audit entries of {args.tenant} to {out}")
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from control.audit_chain import verify

    lock = locked(settings, "clearline audit verify", "GET /v1/audit/verify")
    try:
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            with rt.sessions() as session:
                report = verify(session, args.tenant)
        finally:
            rt.close()
    finally:
        lock.release()
    broken = report.first_broken
    human = (
        f"audit log of {args.tenant}: {report.entries} entries, chain intact"
        if broken is None
        else f"audit log of {args.tenant}: BROKEN at entry {broken.id} ({broken.action}, "
        f"{broken.created_at}): {broken.reason}"
    )
    emit(args, report.as_json(), human)
    return 0 if report.ok else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    p = sub.add_parser("audit", parents=[common], help="a tenant's audit log (export, verify)")
    actions = p.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", parents=[common], help="write the log as JSONL")
    export.add_argument("--tenant", required=True)
    export.add_argument("--since", help="ISO-8601 moment; entries at or after it")
    export.add_argument("--out", required=True, help="output file (JSONL)")
    export.set_defaults(func=cmd_export)
    check = actions.add_parser("verify", parents=[common], help="check the hash chain")
    check.add_argument("--tenant", required=True)
    check.set_defaults(func=cmd_verify)
