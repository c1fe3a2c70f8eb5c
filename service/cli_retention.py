"""`clearline retention`: a tenant's retention policy.

    clearline retention set --tenant acme --policy FILE.yaml [--json]
    clearline retention show --tenant acme [--json]
    clearline retention run --tenant acme [--now 2027-01-31T00:00:00Z] [--dry-run] [--json]

`run` prints counts by kind and by rule; `--now` stands in for the clock; `--dry-run`
counts and changes nothing. These work on the data directory directly (they take its
lock); while `clearline serve` holds it, use the server's /v1/privacy/retention routes.
The server also applies every tenant's policy on its own (CLEARLINE_RETENTION_INTERVAL_S).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from control.errors import BadRequest
from service.cli_output import emit, runtime
from service.errors import DataDirBusy
from service.lock import DataDirLock
from service.settings import Settings

if TYPE_CHECKING:
    from privacy.retention import RetentionReport


def locked(settings: Settings, owner: str, route: str) -> DataDirLock:
    """The data directory's lock, or DataDirBusy naming the server's route to use."""
    lock = DataDirLock(settings.data_dir, owner)
    try:
        lock.acquire()
    except DataDirBusy as error:
        raise DataDirBusy(
            f"{error}; while the server runs, use {route} with an admin key"
        ) from None
    return lock


def parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            f"--now '{value}' is not an ISO-8601 moment; write e.g. 2027-01-31T12:00:00Z"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _read_policy(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadRequest(f"{path}: no such file; pass the policy's YAML file") from None
    except UnicodeDecodeError:
        raise BadRequest(f"{path}: not UTF-8 text; save the policy as UTF-8") from None


def _shown(data: dict[str, Any]) -> str:
    lines = [f"retention policy of {data['tenant']} (version {data['version']})"]
    for rule in data["policy"]["rules"]:
        where = " ".join(f"{k}={','.join(v)}" for k, v in rule.get("where", {}).items())
        lines.append(f"  {rule['name']:<20} {rule['applies_to']:<14} "
                     f"older than {rule['older_than_days']} days {where}".rstrip())  # fmt: skip
    if not data["policy"]["rules"]:
        lines.append("  no rules: everything is kept")
    return "\n".join(lines)


def cmd_set(args: argparse.Namespace, settings: Settings) -> int:
    from privacy.retention import RetentionPolicies

    text = _read_policy(args.policy)
    lock = locked(settings, "clearline retention set", "PUT /v1/privacy/retention")
    try:
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            stored = RetentionPolicies(rt.sessions).set(args.tenant, text, actor="cli")
        finally:
            rt.close()
    finally:
        lock.release()
    data = stored.as_json()
    emit(args, data, _shown(data))
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from privacy.retention import RetentionPolicies

    lock = locked(settings, "clearline retention show", "GET /v1/privacy/retention")
    try:
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            stored = RetentionPolicies(rt.sessions).get(args.tenant)
        finally:
            rt.close()
    finally:
        lock.release()
    data = (
        stored.as_json()
        if stored is not None
        else {"tenant": args.tenant, "version": None, "policy": {"rules": []}}
    )
    emit(args, data, _shown(data))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from privacy.retention import RetentionRunner
    from service.privacy_wiring import privacy_for

    now = parse_now(args.now)
    lock = locked(settings, "clearline retention run", "POST /v1/privacy/retention/runs")
    try:
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            places = privacy_for(rt).places
            report = RetentionRunner(places).run(args.tenant, now, args.dry_run, actor="cli")
        finally:
            rt.close()
    finally:
        lock.release()
    emit(args, report.as_json(), _human(report))
    return 0


def _human(report: RetentionReport) -> str:
    if report.policy_version is None:
        return f"{report.tenant} has no retention policy: nothing removed"
    verb = "would remove" if report.dry_run else "removed"
    lines = [f"retention as of {report.now}: {verb}"]
    lines += [f"  {kind:<16} {count}" for kind, count in sorted(report.counts.items())]
    if not report.counts:
        lines.append("  nothing")
    lines += [f"  rule {name}: {count}" for name, count in sorted(report.rules.items())]
    return "\n".join(lines)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    p = sub.add_parser("retention", parents=[common], help="retention schedules per tenant")
    actions = p.add_subparsers(dest="action", required=True)
    set_ = actions.add_parser("set", parents=[common], help="set the tenant's policy (YAML)")
    set_.add_argument("--tenant", required=True)
    set_.add_argument("--policy", required=True, help="YAML file: rules: [{name, applies_to, "
                      "where, older_than_days}]")  # fmt: skip
    set_.set_defaults(func=cmd_set)
    show = actions.add_parser("show", parents=[common], help="print the tenant's policy")
    show.add_argument("--tenant", required=True)
    show.set_defaults(func=cmd_show)
    run = actions.add_parser("run", parents=[common], help="apply the policy now")
    run.add_argument("--tenant", required=True)
    run.add_argument("--now", help="ISO-8601 moment standing in for the clock")
    run.add_argument("--dry-run", action="store_true", help="count only; change nothing")
    run.set_defaults(func=cmd_run)
