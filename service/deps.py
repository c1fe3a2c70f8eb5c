"""FastAPI dependencies: the runtime, the job runner and the calling principal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from service.errors import Forbidden, Unauthorized
from service.jobs import JobRunner
from service.runtime import Runtime
from service.tenants import Principal


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


def require(*roles: str) -> Callable[[Request, Runtime], Principal]:
    """A dependency admitting keys with one of `roles`; the tenant comes from the key."""

    def dependency(request: Request, runtime: RuntimeDep) -> Principal:
        principal = runtime.tenants.authenticate(_secret(request))
        if principal.role not in roles:
            raise Forbidden(
                f"a key with role '{principal.role}' cannot do this; it needs one of: "
                + ", ".join(roles)
            )
        return principal

    return dependency


AdminDep = Annotated[Principal, Depends(require("admin"))]
