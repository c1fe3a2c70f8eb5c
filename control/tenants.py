"""Tenants (each with a region) and their API keys (tenant, role), stored hashed."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, cast, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from control.errors import ConfigurationError, Conflict, NotFound, Unauthorized
from control.models import ApiKey, Tenant
from knowledge.tenancy import validate_tenant

# Where a tenant's knowledge lives (one store per region, under <data-dir>/regions/<region>).
Region = Literal["us", "eu", "uk", "de", "jp", "au"]
REGIONS: tuple[str, ...] = get_args(Region)
Role = Literal["end_user", "agent", "admin", "qa_lead"]
ROLES: tuple[str, ...] = get_args(Role)
KEY_PREFIX = "cl"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant and role come from the key, never from the request."""

    tenant: str
    role: Role
    key_id: str
    asserts_identity: bool = False  # the company's backend: may name the end user


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Tenants:
    """Creates and finds tenants and keys in the control database."""

    def __init__(
        self, sessions: sessionmaker[Session], on_create: Callable[[Tenant], None] | None = None
    ) -> None:
        self._sessions = sessions
        self._on_create = on_create  # e.g. mirror the row into its region's database

    def create(self, name: str, region: str) -> Tenant:
        validate_tenant(name)
        if region not in REGIONS:
            raise ConfigurationError(
                f"unknown region '{region}'; choose one of {', '.join(REGIONS)}"
            )
        with self._sessions.begin() as session:
            if session.get(Tenant, name) is not None:
                raise Conflict(f"tenant '{name}' already exists")
            tenant = Tenant(name=name, region=region)
            session.add(tenant)
        if self._on_create is not None:
            self._on_create(tenant)
        return tenant

    def get(self, name: str) -> Tenant:
        with self._sessions() as session:
            tenant = session.get(Tenant, name)
        if tenant is None:
            validate_tenant(name)  # a name no tenant can have: the rule, not how to create it
            raise NotFound(
                f"tenant '{name}' does not exist; create it with "
                f"`clearline tenant create {name} --region eu`"
            )
        return tenant

    def find(self, name: str) -> Tenant | None:
        with self._sessions() as session:
            return session.get(Tenant, name)

    def list(self) -> list[Tenant]:
        with self._sessions() as session:
            return list(session.scalars(select(Tenant).order_by(Tenant.name)))

    def create_key(
        self, tenant: str, role: str, label: str = "", asserts_identity: bool = False
    ) -> str:
        """Create a key and return its secret; it is shown once and stored only hashed.
        `asserts_identity` (end_user keys only) is for the company's backend: such a key may
        name the end user (`end_user_id`) a conversation belongs to."""
        if role not in ROLES:
            raise ConfigurationError(f"unknown role '{role}'; choose one of {', '.join(ROLES)}")
        if asserts_identity and role != "end_user":
            raise ConfigurationError(
                "only an end_user key can assert end-user identities; create one with "
                "role end_user for the company's backend"
            )
        self.get(tenant)
        key_id = secrets.token_hex(6)
        secret = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(24)}"
        with self._sessions.begin() as session:
            key = ApiKey(
                id=key_id, tenant=tenant, role=role, key_hash=_hash(secret), label=label,
                asserts_identity=asserts_identity,
            )  # fmt: skip
            session.add(key)
        return secret

    def authenticate(self, secret: str) -> Principal:
        parts = secret.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            raise Unauthorized("malformed API key; send 'Authorization: Bearer cl_...'")
        with self._sessions() as session:
            key = session.get(ApiKey, parts[1])
        if (
            key is None
            or key.revoked_at is not None
            or not hmac.compare_digest(key.key_hash, _hash(secret))
        ):
            raise Unauthorized("invalid or revoked API key")
        return Principal(
            tenant=key.tenant, role=cast(Role, key.role), key_id=key.id,
            asserts_identity=bool(key.asserts_identity),
        )  # fmt: skip
