"""FastAPI dependencies: the runtime, the job runner and the calling principal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from control.errors import Unauthorized
from control.regional import enter_region
from control.tenants import Principal
from service.errors import Forbidden
from service.jobs import JobRunner
from service.rate_limits import Group, client_address, counting_failures, rate_limits
from service.runtime import Runtime
from service.ui.auth import session_principal, session_secret


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_jobs(request: Request) -> JobRunner:
    jobs: JobRunner = request.app.state.jobs
    return jobs


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]


def _secret(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    key = request.headers.get("x-api-key", "")
    if key:
        return key.strip()
    raise Unauthorized("missing API key; send 'Authorization: Bearer <key>'")


def _principal(request: Request, runtime: Runtime) -> Principal:
    """The caller: an API key if one is sent, else a web-console session (cookie plus CSRF
    token; the tenant and role are those of the key the session was opened with)."""
    if request.headers.get("authorization") or request.headers.get("x-api-key"):
        return runtime.tenants.authenticate(_secret(request))
    principal = session_principal(request, runtime)
    if principal is None:
        raise Unauthorized("missing API key; send 'Authorization: Bearer <key>'")
    return principal


def authenticated(request: Request, runtime: Runtime) -> Principal:
    """The caller, authenticated once per request. Failed authentications are counted per
    client address; while an address has used them up, its credentials are not checked at
    all (429), so guessing keys or session cookies from it goes nowhere."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    sent = bool(
        request.headers.get("authorization")
        or request.headers.get("x-api-key")
        or session_secret(request)
    )
    if sent:
        with counting_failures(request):
            principal = _principal(request, runtime)
    else:
        principal = _principal(request, runtime)  # 401: nothing was sent, nothing guessed
    enter_region(runtime.region_of(principal.tenant))  # its sessions reach that region
    request.state.principal = principal
    return principal


def rate_limited(group: Group) -> Callable[[Request, Runtime], None]:
    """A dependency counting the request per client address (before authentication) and
    per API key; 429 with Retry-After when either is used up (service/rate_limits.py)."""

    def dependency(request: Request, runtime: RuntimeDep) -> None:
        limits = rate_limits(request)
        limits.hit(group, "ip", client_address(request))
        limits.hit(group, "key", authenticated(request, runtime).key_id)

    return dependency


def require(*roles: str) -> Callable[[Request, Runtime], Principal]:
    """A dependency admitting keys with one of `roles`; the tenant comes from the key."""

    def dependency(request: Request, runtime: RuntimeDep) -> Principal:
        principal = authenticated(request, runtime)
        if principal.role not in roles:
            raise Forbidden(
                f"a key with role '{principal.role}' cannot do this; it needs one of: "
                + ", ".join(roles)
            )
        return principal

    return dependency


AdminDep = Annotated[Principal, Depends(require("admin"))]
ConversationLimit = Depends(rate_limited("conversations"))
UploadLimit = Depends(rate_limited("uploads"))
