"""`clearline privacy redact` and `privacy settings`.

    clearline privacy redact --tenant acme --value "Ana Smith" [--value ...] [--type PERSON] --json
    clearline privacy settings --tenant acme [--redact-ingestion on|off] [--entity-types A,B]

`redact`: a value becomes its typed placeholder in all of the tenant's data, and no byte of it
remains in the data directory. `settings`: redaction at ingestion (off by default).

Works on the data directory directly (it takes the directory's lock); while `clearline serve`
holds the directory, use the server's `POST /v1/privacy/redact` instead. Interrupted runs are
finished by the next privacy command; running the same command again completes it.
"""

from __future__ import annotations

import argparse

from privacy.ingestion import PrivacySettingsStore
from privacy.redaction import RedactValue
from service.cli_output import emit, runtime
from service.errors import DataDirBusy
from service.lock import DataDirLock
from service.privacy_wiring import privacy_for
from service.settings import Settings

_SERVER_HINT = (
    "; while the server runs, redact through it: POST /v1/privacy/redact with an admin key "
    'and the body {"values": ["..."]}'
)


def locked(settings: Settings, owner: str) -> DataDirLock:
    """The data directory's lock, or DataDirBusy that names the privacy routes of the server."""
    lock = DataDirLock(settings.data_dir, owner)
    try:
        lock.acquire()
    except DataDirBusy as error:
        raise DataDirBusy(f"{error}{_SERVER_HINT}") from None
    return lock


def cmd_redact(args: argparse.Namespace, settings: Settings) -> int:
    lock = locked(settings, "clearline privacy redact")
    try:
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            items = [RedactValue(value, args.type) for value in args.value]
            report = privacy_for(rt).redactor.redact(args.tenant, items, actor="cli")
        finally:
            rt.close()
    finally:
        lock.release()
    lines = [f"redacted {report.values} value(s) as {', '.join(report.placeholders)}"]
    lines += [f"  {store:<20} {count}" for store, count in sorted(report.stores.items())]
    if not report.stores:
        lines.append("  no store held the value")
    lines.append(f"  compacted {len(report.compacted)} database(s); vectors rebuilt")
    if report.remaining_files:
        lines.append(
            "  still present (other tenants' data?) in: " + ", ".join(report.remaining_files)
        )
    emit(args, report.as_json(), "\n".join(lines))
    return 0


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    lock = locked(settings, "clearline privacy settings")
    try:
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            store = PrivacySettingsStore(rt.sessions)
            switch = None if args.redact_ingestion is None else args.redact_ingestion == "on"
            types = None if args.entity_types is None else [
                t.strip() for t in args.entity_types.split(",") if t.strip()
            ]  # fmt: skip
            if switch is None and types is None:
                current = store.get(args.tenant)
            else:
                current = store.update(args.tenant, switch, types)
                rt.audit(args.tenant, "cli", "privacy.settings",
                         redact_ingestion=current.redact_ingestion,
                         entity_types=list(current.entity_types))  # fmt: skip
        finally:
            rt.close()
    finally:
        lock.release()
    data = {"redact_ingestion": current.redact_ingestion,
            "entity_types": list(current.entity_types)}  # fmt: skip
    types_text = ", ".join(current.entity_types) or "all types"
    human = f"redaction at ingestion: {'on' if current.redact_ingestion else 'off'} ({types_text})"
    emit(args, data, human)
    return 0


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    """Add `redact` and `settings` under `clearline privacy`."""
    p = actions.add_parser(
        "redact", parents=[common], help="replace a value with its placeholder everywhere"
    )
    p.add_argument("--tenant", required=True)
    p.add_argument(
        "--value", required=True, action="append", help="exact text to remove (repeatable)"
    )
    p.add_argument("--type", default=None, help="placeholder type, e.g. PERSON (default: detected)")
    p.set_defaults(func=cmd_redact)

    p = actions.add_parser(
        "settings", parents=[common], help="show or change a tenant's privacy settings"
    )
    p.add_argument("--tenant", required=True)
    p.add_argument("--redact-ingestion", choices=("on", "off"), default=None,
                   help="replace personal data in knowledge before it is stored")  # fmt: skip
    p.add_argument("--entity-types", default=None,
                   help="comma-separated types to redact at ingestion (empty: all)")  # fmt: skip
    p.set_defaults(func=cmd_settings)
