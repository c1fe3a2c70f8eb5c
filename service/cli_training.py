"""`clearline training export`: the conversations a tenant permits to learn from.

    clearline training export --tenant acme --out FILE.jsonl [--json]

Writes one JSON object per permitted conversation (its visible messages and the corrected
answers to its replies), personal data replaced by the privacy detector's placeholders
(`[EMAIL_ADDRESS]`, `[PERSON]`, ...). Nothing is exported unless the tenant's training_use
is `allowed`, and never a conversation whose end user opted out. The audit log records
which conversations were exported (ids only) and how many were left out and why. Works
on the data directory (takes its lock).
"""

from __future__ import annotations

import argparse
import json

from service.cli_output import emit, output_path, runtime, write_lines
from service.cli_retention import locked
from service.settings import Settings


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from conversations.training_export import export_training
    from privacy.redact import redact

    out = output_path(args.out, settings)
    lock = locked(settings, "clearline training export", "the CLI after stopping the server")
    try:
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            detector = rt.pii_detector

            def mask(text: str) -> str:
                return redact(text, detector.detect(text))

            result = export_training(rt.sessions, args.tenant, mask)
            write_lines(out, (json.dumps(line, ensure_ascii=False) + "\n"
                              for line in result.lines))  # fmt: skip
            rt.audit(args.tenant, "cli", "training.export", **result.record())
        finally:
            rt.close()
    finally:
        lock.release()
    data = {"tenant": args.tenant, "out": str(out), "conversations": len(result.lines),
            "excluded": dict(result.excluded)}  # fmt: skip
    left_out = ", ".join(f"{n} ({why})" for why, n in result.excluded.items()) or "none"
    emit(args, data, f"exported {len(result.lines)} conversations of {args.tenant} to {out}; "
                     f"left out: {left_out}")  # fmt: skip
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    p = sub.add_parser("training", parents=[common], help="training-data export (permitted only)")
    actions = p.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", parents=[common], help="write permitted data as JSONL")
    export.add_argument("--tenant", required=True)
    export.add_argument("--out", required=True, help="output file (JSONL)")
    export.set_defaults(func=cmd_export)
