"""`clearline privacy erase`: erase an end user (GDPR article 17).

    clearline privacy erase --tenant acme --end-user u-42 [--json]

Every conversation of the end user, with its messages, traces, scores, queue items, reviews
and golden cases, leaves the tenant's data; audit entries stay without the values; the
stores are compacted so no byte remains. Prints counts by kind. Works on the data directory
directly (it takes the directory's lock); while `clearline serve` holds it, use
`POST /v1/privacy/erasures`. Re-running after an interruption finishes the job.
"""

from __future__ import annotations

import argparse

from service.cli_output import emit, runtime
from service.cli_retention import locked
from service.settings import Settings


def cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    from privacy.erase import Eraser
    from service.privacy_wiring import privacy_for

    lock = locked(settings, "clearline privacy erase",
                  'POST /v1/privacy/erasures {"end_user_id": "..."}')  # fmt: skip
    try:
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            report = Eraser(privacy_for(rt).places).erase(args.tenant, args.end_user, actor="cli")
        finally:
            rt.close()
    finally:
        lock.release()
    lines = [f"erased the end user's data in {report.tenant} (operation {report.operation})"]
    lines += [f"  {kind:<16} {count}" for kind, count in sorted(report.counts.items())]
    if not report.counts:
        lines.append("  nothing left to remove")
    lines.append(f"  compacted {len(report.compacted)} database(s)")
    emit(args, report.as_json(), "\n".join(lines))
    return 0


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    """Add `erase` under `clearline privacy`."""
    p = actions.add_parser(
        "erase", parents=[common], help="erase an end user's conversations everywhere"
    )
    p.add_argument("--tenant", required=True)
    p.add_argument("--end-user", required=True, help="the end user's id (end_user_id)")
    p.set_defaults(func=cmd_erase)
