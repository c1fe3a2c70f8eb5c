"""A tenant's connections to its company systems: where procedure actions may go, and with
which secret headers.

A connection has a name (what an action step names with `connection: NAME`), a base URL
(what a step's `url: /path` is appended to), the origins it may reach (scheme, host AND
port; the base URL's origin always) and secret headers sent with every call through it.
An action reaches only its own connection's origins: another port on an allowed host is a
different origin and is refused.

>>> orders = Connection("orders", "https://erp.example.com/api",
...                     secrets={"Authorization": "Bearer s3cret"})
>>> orders.resolve("/refunds")
'https://erp.example.com/api/refunds'
>>> orders.allows("https://erp.example.com:8443/refunds")
False
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from agent.procedures.addresses import forbidden, literal

DEFAULT_PORTS = {"http": 80, "https": 443}
CONNECTION_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,39}$"
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
# Headers the client sets itself (or that would change where or how a request goes).
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection",
     "idempotency-key", "accept"}
)  # fmt: skip
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f\\]")
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 0.1, 120.0


class ConnectionSpecError(ValueError):
    """A connection (or a URL given for one) that can never work as given."""


@dataclass(frozen=True, order=True)
class Origin:
    """Scheme, host and port: what decides where a request goes."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """The origin of an absolute http(s) URL; None for anything else, including URLs
        with user information (`http://allowed@evil/`) or characters a client might
        read differently (spaces, backslashes, control characters)."""
        if _UNSAFE.search(url):
            return None
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            return None
        if parts.username is not None or parts.password is not None:
            return None
        return cls(parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme])

    @classmethod
    def parse(cls, text: str) -> Origin:
        """An allowlist entry, `scheme://host[:port]` (no path, query or user information)."""
        origin = cls.of(text.strip())
        parts = urlsplit(text.strip())
        if origin is None or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ConnectionSpecError(
                f"'{text}' is not an origin; write scheme://host:port, e.g. "
                "https://erp.example.com:443"
            )
        return origin

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def check_base_url(url: str) -> str:
    """The base URL without a trailing slash; raises ConnectionSpecError if unusable."""
    parts = urlsplit(url.strip()) if not _UNSAFE.search(url) else None
    if parts is None or Origin.of(url.strip()) is None or parts.query or parts.fragment:
        raise ConnectionSpecError(
            f"base URL '{url}' must be an http(s) URL without user information, query or "
            "fragment, e.g. https://erp.example.com/api"
        )
    return url.strip().rstrip("/")


def check_timeout(timeout_s: float | None) -> float | None:
    """A connection's timeout, if given: finite, from 0.1 to 120 seconds."""
    if timeout_s is not None and not (
        math.isfinite(timeout_s) and MIN_TIMEOUT_S <= timeout_s <= MAX_TIMEOUT_S
    ):
        raise ConnectionSpecError(
            f"timeout_s must be a finite number of seconds from {MIN_TIMEOUT_S:g} to "
            f"{MAX_TIMEOUT_S:g}, got {timeout_s!r}; omit it for the default"
        )
    return timeout_s


def check_reachable(origin: Origin) -> None:
    """Raises ConnectionSpecError when the origin's host is an address no action may reach
    (agent.procedures.addresses), in any spelling the resolver reads literally; host names
    are not looked up here (the action client checks what they resolve to on each call)."""
    address = literal(origin.host)
    if (why := forbidden(address)) is not None:
        raise ConnectionSpecError(
            f"{origin} is the address {address}, and {why}; point the connection at the "
            "company system's own address or host name"
        )


@dataclass(frozen=True)
class Connection:
    """One company system a tenant's procedures may call (secrets never in its repr)."""

    name: str
    base_url: str
    allowed: frozenset[Origin] = frozenset()
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        base = Origin.of(self.base_url)
        if base is None:
            raise ConnectionSpecError(f"connection '{self.name}': bad base URL {self.base_url}")
        object.__setattr__(self, "allowed", frozenset(self.allowed) | {base})

    def origins(self) -> list[str]:
        return sorted(str(origin) for origin in self.allowed)

    def allows(self, url: str) -> bool:
        """True when `url` goes to one of this connection's origins (scheme, host, port)."""
        origin = Origin.of(url)
        return origin is not None and origin in self.allowed

    def resolve(self, url: str) -> str:
        """A step's URL as called: `/path` is appended to the base URL; an absolute URL
        stays as it is (and must be allowed)."""
        return self.base_url + url if url.startswith("/") else url


def secret_values(connections: Mapping[str, Connection]) -> list[str]:
    """Every secret value (and the credential part of `Scheme credential` values), longest
    first, for scrubbing them out of anything shown or stored."""
    values: set[str] = set()
    for connection in connections.values():
        for value in connection.secrets.values():
            if value:
                values.add(value)
                scheme, _, credential = value.partition(" ")
                if credential.strip() and scheme.isalpha():
                    values.add(credential.strip())
    return sorted(values, key=len, reverse=True)
