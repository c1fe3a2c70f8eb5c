"""The admin console page, and its key management (the API has no key routes yet).

Everything else on the page (sources, jobs, features, configuration, procedures) calls the
/v1 API directly with the session. Keys: an admin lists the tenant's keys, creates one for
a role (the secret is shown once) and revokes one, which also ends the console sessions
opened with it. Creation goes through `Tenants.create_key`, like the CLI.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from control.errors import BadRequest, NotFound, quoted
from control.models import ApiKey
from control.tenants import ROLES, Role
from service.runtime import Runtime
from service.ui.auth import session_for, ui_store
from service.ui.pages import page_access, render

router = APIRouter(include_in_schema=False)
ADMIN = ("admin",)


@router.get("/ui/admin")
def admin_page(request: Request) -> Response:
    """The console; the answer threshold field, when unset, shows the reader's own."""
    access = page_access(request, ADMIN)
    if access.response is not None:
        return access.response
    assert access.principal is not None
    runtime: Runtime = request.app.state.runtime
    reader = runtime.agents.config(access.principal.tenant).reader
    own = runtime.answerability.own_threshold(reader)
    return render(request, "admin.html", {**access.context(), "roles": ROLES, "own": own})


class KeyPublic(BaseModel):
    id: str
    role: str
    label: str
    created_at: datetime
    revoked_at: datetime | None
    yours: bool


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    label: str = Field("", max_length=200)


class KeyCreated(KeyPublic):
    secret: str


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _public(key: ApiKey, yours: str) -> KeyPublic:
    return KeyPublic(
        id=key.id, role=key.role, label=key.label, created_at=_utc(key.created_at),
        revoked_at=_utc(key.revoked_at) if key.revoked_at else None, yours=key.id == yours,
    )  # fmt: skip


@router.get("/ui/admin/api/keys")
def list_keys(request: Request) -> list[KeyPublic]:
    _, principal = session_for(request, ADMIN)
    runtime: Runtime = request.app.state.runtime
    with runtime.sessions() as db:
        keys = db.scalars(
            select(ApiKey).where(ApiKey.tenant == principal.tenant).order_by(ApiKey.created_at)
        ).all()
    return [_public(k, principal.key_id) for k in keys]


@router.post("/ui/admin/api/keys", status_code=201)
def create_key(body: KeyCreate, request: Request) -> KeyCreated:
    _, principal = session_for(request, ADMIN)
    runtime: Runtime = request.app.state.runtime
    secret = runtime.tenants.create_key(principal.tenant, body.role, body.label)
    key_id = secret.split("_", 2)[1]
    runtime.audit(principal.tenant, principal.key_id, "key.create", role=body.role, key=key_id)
    with runtime.sessions() as db:
        key = db.get(ApiKey, key_id)
    assert key is not None
    return KeyCreated(**_public(key, principal.key_id).model_dump(), secret=secret)


@router.post("/ui/admin/api/keys/{key_id}/revoke")
def revoke_key(key_id: str, request: Request) -> KeyPublic:
    _, principal = session_for(request, ADMIN)
    if key_id == principal.key_id:
        raise BadRequest(
            "you are signed in with this key; sign in with another admin key to revoke it"
        )
    runtime: Runtime = request.app.state.runtime
    with runtime.sessions.begin() as db:
        key = db.get(ApiKey, key_id)
        if key is None or key.tenant != principal.tenant:
            raise NotFound(f"key {quoted(key_id)} does not exist")
        if key.revoked_at is None:
            key.revoked_at = datetime.now(UTC)
    ui_store(request).revoke_key(key_id)
    runtime.audit(principal.tenant, principal.key_id, "key.revoke", key=key_id)
    with runtime.sessions() as db:
        revoked = db.get(ApiKey, key_id)
    assert revoked is not None
    return _public(revoked, principal.key_id)
