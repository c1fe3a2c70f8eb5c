"""Admins: the tenant's connections to its company systems (what procedure actions call).

Secrets are write-only: a PUT may set them, nothing returns them (responses list the secret
header names), and the audit log records names only.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.procedures.connections import MAX_TIMEOUT_S, MIN_TIMEOUT_S, check_timeout
from conversations.connections import ConnectionSpec, ConnectionView
from service.deps import AdminDep, RuntimeDep
from service.schemas import ErrorResponse

router = APIRouter(tags=["actions"])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)
}


class ConnectionPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        max_length=2000, description="Where `url: /path` of an action step is appended."
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Further origins (scheme://host:port) absolute action URLs may use; the "
        "base URL's origin is always allowed. Another port is another origin.",
    )
    secrets: dict[str, str] | None = Field(
        None,
        max_length=10,
        description='Secret headers sent with every call (e.g. {"Authorization": "Bearer '
        '..."}); write-only. Omitted: the stored ones stay; {}: removes them.',
    )
    timeout_s: float | None = Field(
        None, ge=MIN_TIMEOUT_S, le=MAX_TIMEOUT_S, allow_inf_nan=False,
        description="Timeout of one call, in seconds (0.1 to 120); omitted: the default.",
    )  # fmt: skip

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _timeout_in_range(cls, value: object) -> object:
        """One clear message for a timeout that is too small, too large, NaN or infinite."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            check_timeout(float(value))  # raises ConnectionSpecError, a ValueError
        return value


class ConnectionPublic(BaseModel):
    name: str
    base_url: str
    allowed_origins: list[str]
    secret_headers: list[str] = Field(description="Names only; values are never returned.")
    timeout_s: float | None
    updated_at: datetime

    @classmethod
    def of(cls, view: ConnectionView) -> ConnectionPublic:
        return cls(**view.__dict__)


@router.get("/v1/actions/connections", response_model=list[ConnectionPublic], responses=_ERRORS)
def list_connections(principal: AdminDep, runtime: RuntimeDep) -> list[ConnectionPublic]:
    """The tenant's connections (secret header names, never values)."""
    return [ConnectionPublic.of(v) for v in runtime.agents.connections.views(principal.tenant)]


@router.get("/v1/actions/connections/{name}", response_model=ConnectionPublic, responses=_ERRORS)
def get_connection(name: str, principal: AdminDep, runtime: RuntimeDep) -> ConnectionPublic:
    """One connection of the tenant (secret header names, never values)."""
    return ConnectionPublic.of(runtime.agents.connections.view(principal.tenant, name))


@router.put("/v1/actions/connections/{name}", response_model=ConnectionPublic, responses=_ERRORS)
def put_connection(
    name: str, body: ConnectionPut, principal: AdminDep, runtime: RuntimeDep
) -> ConnectionPublic:
    """Add or replace a connection; refused if it would reach Clearline's own API or a
    link-local / cloud metadata address, or break a stored procedure."""
    spec = ConnectionSpec(body.base_url, body.allowed_origins, body.secrets, body.timeout_s)
    view = runtime.agents.put_connection(principal.tenant, name, spec)
    runtime.audit(
        principal.tenant, principal.key_id, "connection.put", name=name,
        base_url=view.base_url, allowed_origins=view.allowed_origins,
        secret_headers=view.secret_headers, secrets_changed=body.secrets is not None,
    )  # fmt: skip
    return ConnectionPublic.of(view)


@router.delete("/v1/actions/connections/{name}", status_code=204, responses=_ERRORS)
def delete_connection(name: str, principal: AdminDep, runtime: RuntimeDep) -> None:
    """Remove a connection (refused while a procedure uses it)."""
    runtime.agents.delete_connection(principal.tenant, name)
    runtime.audit(principal.tenant, principal.key_id, "connection.delete", name=name)
