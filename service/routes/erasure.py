"""Privacy routes for removing conversations: erasure of an end user, and the tenant's
retention policy (set, show, run). Admin keys only.

Each removal compacts whole files, so it runs one at a time per server with the other
privacy operations (the app's privacy.places.DataPlaces lock); a request waits for the one
before it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, StrictBool

from control.errors import BadRequest
from privacy.erase import Eraser
from privacy.retention import RetentionPolicies, RetentionRunner
from privacy.retention_policy import MAX_POLICY_BYTES
from service.deps import AdminDep, RuntimeDep
from service.routes.privacy import PrivacyDep
from service.schemas import ErrorResponse

router = APIRouter(tags=["privacy"])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 413, 422)
}
_YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


class ErasureRequest(BaseModel):
    end_user_id: str = Field(min_length=1, max_length=200, description="the end user to erase")


class ErasureResult(BaseModel):
    """What an erasure removed, by kind (never the end-user id)."""

    operation: str
    tenant: str
    counts: dict[str, int]
    compacted: list[str]
    resumed: list[str]


class RetentionShown(BaseModel):
    """The tenant's retention policy; `version` is null while none is set (keep all)."""

    tenant: str
    version: int | None
    updated_by: str | None = None
    updated_at: str | None = None
    last_run_at: str | None = None
    policy: dict[str, Any]
    source: str | None = None


class RetentionRunRequest(BaseModel):
    now: datetime | None = Field(
        None, description="stands in for the clock (default: now; from 2000 to a year ahead)"
    )
    dry_run: StrictBool = Field(False, description="count what would go; change nothing")


class RetentionRunResult(BaseModel):
    tenant: str
    now: str
    dry_run: bool
    policy_version: int | None
    operation: str | None
    counts: dict[str, int]
    rules: dict[str, int]
    compacted: list[str]
    resumed: list[str]


async def policy_text(request: Request) -> str:
    """The request body as text: the policy in YAML (or JSON, which is YAML too)."""
    body = await request.body()
    if len(body) > MAX_POLICY_BYTES:
        raise BadRequest(f"the policy is over {MAX_POLICY_BYTES // 1024} KiB")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the policy is not UTF-8 text; send YAML or JSON") from None


@router.post("/v1/privacy/erasures", response_model=ErasureResult, responses=_ERRORS)
def erase_end_user(body: ErasureRequest, principal: AdminDep, privacy: PrivacyDep) -> ErasureResult:
    """Erase an end user (GDPR article 17): every conversation of `end_user_id`, with its
    messages, traces, scores, queue items, reviews and golden cases, leaves the tenant's
    data, audit entries lose the values, and the stores are compacted so no byte remains.
    Returns counts by kind; erasing again returns zeros."""
    report = Eraser(privacy.places).erase(principal.tenant, body.end_user_id, principal.key_id)
    return ErasureResult(**report.as_json())


@router.put(
    "/v1/privacy/retention", response_model=RetentionShown, responses=_ERRORS,
    openapi_extra=_YAML_BODY,
)  # fmt: skip
def set_retention(
    text: Annotated[str, Depends(policy_text)], principal: AdminDep, runtime: RuntimeDep
) -> RetentionShown:
    """Set the tenant's retention policy (YAML or JSON body, e.g. `rules: [{name: default,
    applies_to: conversations, older_than_days: 30}]`). An invalid policy gets 400 naming
    the rule and field, and nothing changes; so does an empty one."""
    stored = RetentionPolicies(runtime.sessions).set(principal.tenant, text, principal.key_id)
    return RetentionShown(**stored.as_json())


@router.get("/v1/privacy/retention", response_model=RetentionShown, responses=_ERRORS)
def show_retention(principal: AdminDep, runtime: RuntimeDep) -> RetentionShown:
    """The tenant's retention policy, as stored and as read."""
    stored = RetentionPolicies(runtime.sessions).get(principal.tenant)
    if stored is None:
        return RetentionShown(tenant=principal.tenant, version=None, policy={"rules": []})
    return RetentionShown(**stored.as_json())


@router.post("/v1/privacy/retention/runs", response_model=RetentionRunResult, responses=_ERRORS)
def run_retention(
    principal: AdminDep, privacy: PrivacyDep, body: RetentionRunRequest | None = None
) -> RetentionRunResult:
    """Apply the policy now (the server also does on its own schedule); with `dry_run`,
    only count; `now` stands in for the clock (from 2000 to a year ahead). Returns counts
    by kind and by rule."""
    body = body or RetentionRunRequest()
    report = RetentionRunner(privacy.places).run(
        principal.tenant, body.now, body.dry_run, principal.key_id
    )
    return RetentionRunResult(**report.as_json())
