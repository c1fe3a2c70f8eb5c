"""HTTP calls a procedure makes to company systems, through the tenant's connections.

Every call names a connection (agent.procedures.connections): it may only go to that
connection's origins (scheme, host and port), and carries that connection's secret headers
and, for an approved action, an `Idempotency-Key`. Every failure (unknown connection,
origin not allowed, a host at a link-local / cloud metadata or other forbidden address,
timeout, connection error, non-2xx, non-JSON reply) becomes an
`ActionResult(ok=False, error=...)`; nothing raises into the conversation turn. Secret
values are scrubbed from anything the client returns.

Before each call the host is resolved and the call is refused, without a request, if any
address it resolves to is forbidden (agent.procedures.addresses). The request then goes to
the address that was checked, with the URL's own `Host` header and TLS server name (the
certificate is checked against the name), so a name whose DNS answers change after the
check (DNS rebinding) cannot move the call elsewhere. The lookup is bounded by the call's
timeout. Kept-alive connections are pooled per host name (HttpPool), so a TLS connection
whose certificate was checked for one name never carries a call to another name at the same
address. Redirects are never followed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from agent.procedures import addresses
from agent.procedures.connections import Connection, Origin, secret_values

log = logging.getLogger(__name__)
REDACTED = "<secret>"


@dataclass(frozen=True)
class ActionRequest:
    """One rendered call: what the procedure asks the company system to do."""

    name: str
    method: str
    url: str
    connection: str  # the connection's name; its secrets are looked up when calling
    body: Mapping[str, Any] = field(default_factory=dict)
    timeout_s: float | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class ActionResult:
    """The outcome of a call; `data` is the JSON object the system answered with."""

    ok: bool
    status_code: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    elapsed_ms: float = 0.0

    def as_saved(self) -> dict[str, Any]:
        """What a procedure stores under `save_as`: the data plus `ok`, `error`, `http_status`.

        Those three names are reserved: they replace same-named fields of the reply.
        """
        return {**self.data, "ok": self.ok, "error": self.error, "http_status": self.status_code}


class HttpPool:
    """Pooled httpx clients, one per host name; shared by every tenant's ActionClient.

    A call connects to the address checked for its name, so httpx alone would pool it by
    address: two names at one address could share a kept-alive TLS connection whose
    certificate was checked for the other name. Keeping a client per name keeps each
    connection to the name it was opened (and its certificate checked) for. The names are
    those the tenants' connections call, so the pool stays as small as their set-up.
    Redirects are never followed and proxies from the environment are not used;
    `options` go to every httpx.Client (tests pass `verify`).
    """

    def __init__(self, **options: Any) -> None:
        self._options = {**options, "follow_redirects": False, "trust_env": False}
        self._clients: dict[str, httpx.Client] = {}
        self._lock = threading.Lock()

    def client(self, host: str) -> httpx.Client:
        """The pooled client for calls to `host` (a name or an address, as in the URL)."""
        with self._lock:
            if (found := self._clients.get(host)) is None:
                found = self._clients[host] = httpx.Client(**self._options)
            return found

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


class ActionClient:
    """Calls a tenant's connections with httpx (a shared HttpPool may be passed in).

    >>> client = ActionClient({"orders": Connection("orders", "http://127.0.0.1:8765")})
    >>> client.call(ActionRequest("lookup", "POST", "http://127.0.0.1:8765/x", "orders"))
    """

    def __init__(
        self,
        connections: Mapping[str, Connection],
        timeout_s: float = 5.0,
        http: HttpPool | None = None,
    ) -> None:
        self.connections = dict(connections)
        self.timeout_s = timeout_s
        self._secrets = secret_values(self.connections)
        self._http = http
        self._owned = http is None

    def connection(self, name: str) -> Connection | None:
        return self.connections.get(name)

    def allows(self, connection: str, url: str) -> bool:
        found = self.connections.get(connection)
        return found is not None and found.allows(url)

    def redact(self, value: Any) -> Any:
        """Replace every secret value inside strings, lists and mappings."""
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, Mapping):
            return {self.redact(key): self.redact(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact(item) for item in value]
        return value

    def call(self, request: ActionRequest) -> ActionResult:
        started = time.perf_counter()

        def failed(error: str, status: int | None = None) -> ActionResult:
            elapsed = (time.perf_counter() - started) * 1000
            log.warning("action %s failed: %s", request.name, self.redact(error))
            return ActionResult(False, status, {}, self.redact(error), elapsed)

        connection = self.connections.get(request.connection)
        if connection is None:
            known = ", ".join(sorted(self.connections)) or "none"
            return failed(f"connection '{request.connection}' is not set up (set up: {known})")
        if not connection.allows(request.url):
            origin = Origin.of(request.url)
            return failed(
                f"'{origin or request.url}' is not among the origins of connection "
                f"'{connection.name}' ({', '.join(connection.origins())})"
            )
        timeout = request.timeout_s or connection.timeout_s or self.timeout_s
        target = self._pin(request.url, timeout)
        if isinstance(target, str):
            return failed(target)
        url, name, netloc, extensions = target
        headers = {"Accept": "application/json", **connection.secrets, "Host": netloc}
        if request.idempotency_key is not None:
            headers["Idempotency-Key"] = request.idempotency_key
        body = dict(request.body)
        try:
            http = self._pool().client(name)
            response = http.request(
                request.method,
                url,
                headers=headers,
                extensions=extensions,
                timeout=timeout,
                params=body if request.method == "GET" else None,
                json=None if request.method == "GET" else body,
            )
        except httpx.TimeoutException:
            return failed(f"no answer within {timeout:g} s (timeout)")
        except httpx.HTTPError as error:
            return failed(f"could not reach the system ({type(error).__name__})")
        if not 200 <= response.status_code < 300:
            return failed(f"the system answered HTTP {response.status_code}", response.status_code)
        if response.status_code == 204 or not response.content:
            data: Any = {}
        else:
            try:
                data = response.json()
            except ValueError:
                return failed("the system did not answer with JSON", response.status_code)
        if not isinstance(data, dict):
            data = {"value": data}
        elapsed = (time.perf_counter() - started) * 1000
        return ActionResult(True, response.status_code, self.redact(data), None, elapsed)

    @staticmethod
    def _pin(url: str, timeout_s: float) -> tuple[httpx.URL, str, str, dict[str, str]] | str:
        """Where the request goes: `url` with its host replaced by the checked address, the
        host name, the `Host` header and the TLS server name it keeps; or why no request may
        go there (the host does not resolve within `timeout_s`, or is or resolves to a
        forbidden address)."""
        try:
            parsed = httpx.URL(url)
            host = parsed.raw_host.decode("ascii")
            port = parsed.port or (443 if parsed.scheme == "https" else 80)
        except (httpx.InvalidURL, UnicodeDecodeError):
            return "the URL cannot be called (invalid host)"
        try:
            address = addresses.pinned(host, port, timeout_s)
        except addresses.Unreachable as why:
            return f"refused to call {host} ({why})"
        except TimeoutError:
            slow = f"its host '{host}' did not resolve within {timeout_s:g} s"
            return f"could not reach the system ({slow})"
        except OSError:
            return f"could not reach the system (its host '{host}' does not resolve)"
        extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
        netloc = parsed.netloc.decode("ascii")
        return parsed.copy_with(host=str(address)), host, netloc, extensions

    def _pool(self) -> HttpPool:
        if self._http is None:
            self._http = HttpPool()
        return self._http

    def close(self) -> None:
        if self._owned and self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> ActionClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
