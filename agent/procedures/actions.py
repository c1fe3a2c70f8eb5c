"""HTTP calls a procedure makes to company systems: allowlisted hosts, timeouts, named secrets.

Every failure (host not allowlisted, missing secret, timeout, connection error, non-2xx,
non-JSON reply) becomes an `ActionResult(ok=False, error=...)`; nothing raises into the
conversation turn. Secret values are sent only as a header and scrubbed from anything the
client returns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)
REDACTED = "<secret>"


@dataclass(frozen=True)
class ActionRequest:
    """One rendered call: what the procedure asks the company system to do."""

    name: str
    method: str
    url: str
    body: Mapping[str, Any] = field(default_factory=dict)
    secret: str | None = None  # the name of a secret, never its value
    secret_header: str = "Authorization"
    timeout_s: float | None = None


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


def host_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower()


def host_allowed(url: str, allowed_hosts: Collection[str]) -> bool:
    """True for an http(s) URL whose host (or host:port) is in the allowlist."""
    host = host_of(url)
    if host is None:
        return False
    allowed = {entry.lower() for entry in allowed_hosts}
    try:
        port = urlsplit(url).port
    except ValueError:
        return False
    return host in allowed or (port is not None and f"{host}:{port}" in allowed)


class ActionClient:
    """Calls allowlisted HTTP endpoints with httpx; one pooled client, opened on first use.

    >>> client = ActionClient({"127.0.0.1"}, {"actions_token": "..."})
    >>> client.call(ActionRequest("lookup", "POST", "http://127.0.0.1:8765/x", {"a": 1}))
    """

    def __init__(
        self, allowed_hosts: set[str], secrets: Mapping[str, str], timeout_s: float = 5.0
    ) -> None:
        self.allowed_hosts = frozenset(host.lower() for host in allowed_hosts)
        self._secrets = dict(secrets)
        self.timeout_s = timeout_s
        self._client: httpx.Client | None = None

    def allows(self, url: str) -> bool:
        return host_allowed(url, self.allowed_hosts)

    def redact(self, value: Any) -> Any:
        """Replace every secret value inside strings, lists and mappings."""
        if isinstance(value, str):
            for secret in self._secrets.values():
                if secret:
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

        if not self.allows(request.url):
            host = host_of(request.url) or request.url
            return failed(f"host '{host}' is not in the actions allowlist")
        headers = {"Accept": "application/json"}
        if request.secret is not None:
            value = self._secrets.get(request.secret)
            if not value:
                return failed(f"secret '{request.secret}' is not configured")
            is_auth = request.secret_header.lower() == "authorization"
            headers[request.secret_header] = f"Bearer {value}" if is_auth else value
        timeout = request.timeout_s or self.timeout_s
        body = dict(request.body)
        try:
            response = self._http().request(
                request.method,
                request.url,
                headers=headers,
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

    def _http(self) -> httpx.Client:
        if self._client is None:
            # Redirects could leave the allowlist, so they are not followed.
            self._client = httpx.Client(follow_redirects=False, trust_env=False)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> ActionClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
