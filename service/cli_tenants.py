"""`clearline tenant` and `clearline key`: tenants, their regions and API keys."""

from __future__ import annotations

import argparse
from typing import Any

from control.tenants import REGIONS, ROLES
from service.cli_output import emit, runtime
from service.lock import DataDirLock
from service.settings import Settings


def cmd_tenant(args: argparse.Namespace, settings: Settings) -> int:
    with DataDirLock(settings.data_dir, "clearline tenant"):
        rt = runtime(settings)
        try:
            if args.action == "create":
                tenant = rt.tenants.create(args.name, args.region)
                rt.audit(tenant.name, "cli", "tenant.create", region=tenant.region)
                data: Any = {"name": tenant.name, "region": tenant.region}
                human = f"created tenant {tenant.name} in region {tenant.region}"
            else:
                data = [{"name": t.name, "region": t.region} for t in rt.tenants.list()]
                human = "\n".join(f"{t['name']}  {t['region']}" for t in data) or "no tenants"
        finally:
            rt.close()
    emit(args, data, human)
    return 0


def cmd_key(args: argparse.Namespace, settings: Settings) -> int:
    with DataDirLock(settings.data_dir, "clearline key"):
        rt = runtime(settings)
        try:
            secret = rt.tenants.create_key(
                args.tenant, args.role, args.label or "", asserts_identity=args.asserts_identity
            )
            rt.audit(args.tenant, "cli", "key.create", role=args.role,
                     asserts_identity=args.asserts_identity)  # fmt: skip
        finally:
            rt.close()
    emit(
        args,
        {
            "tenant": args.tenant,
            "role": args.role,
            "key": secret,
            "asserts_identity": args.asserts_identity,
        },
        f"{secret}\n(shown once: store it now; Clearline keeps only its hash)",
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
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
    create.add_argument(
        "--asserts-identity", action="store_true",
        help="(end_user keys) for the company's backend: may name the end user of a "
        "conversation (end_user_id); never put such a key in a browser or app",
    )  # fmt: skip
    p.set_defaults(func=cmd_key)
