"""Each tenant's connections to its company systems, as its admin set them up.

Secrets are write-only: stored encrypted (control.secrets), decrypted only to build the
tenant's action client, never returned (a view lists the header names), never logged. A
connection may not point at Clearline's own API (`forbidden` origins).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.procedures.connections import (
    CONNECTION_NAME,
    HEADER_NAME,
    RESERVED_HEADERS,
    Connection,
    ConnectionSpecError,
    Origin,
    check_base_url,
    check_reachable,
    check_timeout,
)
from control.errors import BadRequest, NotFound, quoted
from control.models_actions import ActionConnection
from control.regional import tenant_regions
from control.secrets import SecretBox

MAX_SECRET_CHARS = 4096


@dataclass(frozen=True)
class ConnectionSpec:
    """What an admin sends; `secrets=None` keeps the stored ones, `{}` removes them."""

    base_url: str
    allowed_origins: list[str] | None = None
    secrets: dict[str, str] | None = None
    timeout_s: float | None = None


@dataclass(frozen=True)
class ConnectionView:
    """A connection as anyone may see it: secret header names, never values."""

    name: str
    base_url: str
    allowed_origins: list[str]
    secret_headers: list[str]
    timeout_s: float | None
    updated_at: datetime


def _view(row: ActionConnection) -> ConnectionView:
    return ConnectionView(
        row.name, row.base_url, json.loads(row.allowed_origins), json.loads(row.secret_headers),
        row.timeout_s, row.updated_at.replace(tzinfo=row.updated_at.tzinfo or UTC),
    )  # fmt: skip


@tenant_regions
class ActionConnections:
    """Stores, validates and decrypts tenants' action connections."""

    def __init__(
        self, sessions: sessionmaker[Session], box: SecretBox, forbidden: Collection[Origin] = ()
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._forbidden = frozenset(forbidden)

    def build(self, tenant: str, name: str, spec: ConnectionSpec) -> Connection:
        """The connection `spec` describes (stored secrets kept unless replaced); raises
        BadRequest naming what is wrong, e.g. an origin at a link-local / cloud metadata
        address (agent.procedures.addresses) or a timeout outside 0.1 to 120 s."""
        if not re.match(CONNECTION_NAME, name):
            raise BadRequest(
                f"connection name '{name}' must be a letter or _ then letters, digits or _ "
                "(at most 40)"
            )
        try:
            base_url = check_base_url(spec.base_url)
            allowed = {Origin.parse(entry) for entry in spec.allowed_origins or []}
            base = Origin.of(base_url)
            for origin in sorted(allowed | ({base} if base else set())):
                check_reachable(origin)
            timeout_s = check_timeout(spec.timeout_s)
        except ConnectionSpecError as error:
            raise BadRequest(f"connection '{name}': {error}") from None
        secrets = self._checked(name, spec.secrets) if spec.secrets is not None else None
        if secrets is None:
            secrets = dict(self.all(tenant).get(name, _EMPTY).secrets)
        connection = Connection(name, base_url, frozenset(allowed), secrets, timeout_s)
        if clash := sorted(str(o) for o in connection.allowed & self._forbidden):
            raise BadRequest(
                f"connection '{name}' would reach {clash[0]}, which is Clearline's own API; "
                "actions may only call the company's systems"
            )
        return connection

    @staticmethod
    def _checked(name: str, secrets: Mapping[str, str]) -> dict[str, str]:
        for header, value in secrets.items():
            if not HEADER_NAME.match(header) or header.lower() in RESERVED_HEADERS:
                reserved = ", ".join(sorted(RESERVED_HEADERS))
                raise BadRequest(
                    f"connection '{name}': '{header}' cannot be a secret header; use a header "
                    f"name such as Authorization or X-Api-Key (not {reserved})"
                )
            if not value or len(value) > MAX_SECRET_CHARS or re.search(r"[\r\n\x00]", value):
                raise BadRequest(
                    f"connection '{name}': the value of secret header '{header}' must be 1 to "
                    f"{MAX_SECRET_CHARS} characters on one line"
                )
        return dict(secrets)

    def save(self, session: Session, tenant: str, connection: Connection) -> None:
        """Store `connection` in the caller's transaction."""
        now = datetime.now(UTC)
        row = session.get(ActionConnection, (tenant, connection.name))
        if row is None:
            row = ActionConnection(tenant=tenant, name=connection.name, created_at=now)
            session.add(row)
        row.base_url = connection.base_url
        row.allowed_origins = json.dumps(connection.origins())
        row.secret_headers = json.dumps(sorted(connection.secrets))
        row.secrets = self._box.seal(connection.secrets) if connection.secrets else ""
        row.timeout_s = connection.timeout_s
        row.updated_at = now

    def _rows(self, tenant: str, session: Session | None = None) -> list[ActionConnection]:
        query = select(ActionConnection).where(ActionConnection.tenant == tenant)
        if session is not None:
            return list(session.scalars(query.order_by(ActionConnection.name)).all())
        with self._sessions() as own:
            return list(own.scalars(query.order_by(ActionConnection.name)).all())

    def all(self, tenant: str, session: Session | None = None) -> dict[str, Connection]:
        """The tenant's connections with their secrets decrypted (for its action client)."""
        return {row.name: self._connection(row) for row in self._rows(tenant, session)}

    def _connection(self, row: ActionConnection) -> Connection:
        allowed = frozenset(Origin.parse(o) for o in json.loads(row.allowed_origins))
        secrets = self._box.open(row.secrets)
        return Connection(row.name, row.base_url, allowed, secrets, row.timeout_s)

    def views(self, tenant: str) -> list[ConnectionView]:
        return [_view(row) for row in self._rows(tenant)]

    def view(self, tenant: str, name: str) -> ConnectionView:
        with self._sessions() as session:
            row = session.get(ActionConnection, (tenant, name))
        if row is None:
            raise NotFound(f"connection {quoted(name)} does not exist")
        return _view(row)

    def delete(self, session: Session, tenant: str, name: str) -> None:
        """Remove the connection in the caller's transaction."""
        row = session.get(ActionConnection, (tenant, name))
        if row is None:
            raise NotFound(f"connection {quoted(name)} does not exist")
        session.delete(row)


_EMPTY = Connection("_", "http://0.0.0.0")


def own_api_origins(host: str, port: int) -> list[Origin]:
    """The origins of Clearline's own API (any loopback name when it listens on loopback or
    on every interface): no connection may reach them."""
    hosts = {host.lower().strip("[]")}
    if hosts & {"0.0.0.0", "::", "127.0.0.1", "localhost", "::1"}:
        hosts |= {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
    return [Origin(scheme, name, port) for name in sorted(hosts) for scheme in ("http", "https")]
