"""Customer control: the tenant's consent and training-use settings (admins), and an end
user's acceptance of the privacy notice in their conversation."""

# No `from __future__ import annotations` here: FastAPI must see the Annotated dependencies.
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Response
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from control.customer import CustomerControls
from control.errors import BadRequest
from control.tenants import Principal
from control.training import TrainingPolicy, subject_of
from conversations.consent import ConsentGate
from conversations.identity import check_end_user_id
from service.access import conversation_access
from service.deps import AdminDep, ConversationLimit, RuntimeDep
from service.runtime import Runtime
from service.schemas import ErrorResponse

router = APIRouter(tags=["customer control"])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)
}
OwnerDep = Annotated[Principal, Depends(conversation_access("end_user"))]


class CustomerSettingsPublic(BaseModel):
    """`consent`: notice (shown) | required (accepted before any message is processed);
    `notice`: the text in force (the tenant's own or the agent configuration's privacy
    notice) and `notice_version`; `training_use`: allowed | denied."""

    tenant: str
    consent: str
    notice: str
    notice_text: str | None
    notice_version: str
    training_use: str
    updated_by: str | None
    updated_at: str | None


class ConsentBody(BaseModel):
    notice_version: str = Field(min_length=1, max_length=40)


class ConsentAccepted(BaseModel):
    conversation_id: str
    notice_version: str
    accepted_at: str


def consent_gate(runtime: Runtime) -> ConsentGate:
    return ConsentGate(runtime.sessions, lambda t: runtime.agents.config(t).privacy_notice)


def _public(runtime: Runtime, tenant: str) -> CustomerSettingsPublic:
    settings = CustomerControls(runtime.sessions).get(tenant)
    notice, _ = consent_gate(runtime).notice(tenant)
    return CustomerSettingsPublic(notice=notice, **settings.as_json())


@router.get("/v1/customer-control", response_model=CustomerSettingsPublic, responses=_ERRORS)
def get_settings(principal: AdminDep, runtime: RuntimeDep) -> CustomerSettingsPublic:
    """The tenant's consent and training-use settings."""
    return _public(runtime, principal.tenant)


@router.put("/v1/customer-control", response_model=CustomerSettingsPublic, responses=_ERRORS)
def put_settings(
    principal: AdminDep, runtime: RuntimeDep, body: Annotated[dict[str, Any], Body()]
) -> CustomerSettingsPublic:
    """Change any of `consent`, `notice_text`, `notice_version`, `training_use`. A new
    notice version asks every conversation's end user again (with `consent: required`)."""
    CustomerControls(runtime.sessions).update(principal.tenant, body, principal.key_id)
    shown = {k: v for k, v in body.items() if k != "notice_text"}
    runtime.audit(principal.tenant, principal.key_id, "customer_control.set", **shown,
                  notice_text_changed="notice_text" in body)  # fmt: skip
    return _public(runtime, principal.tenant)


@router.post(
    "/v1/conversations/{conversation_id}/consent",
    response_model=ConsentAccepted,
    responses=_ERRORS,
    dependencies=[ConversationLimit],
)
def accept_notice(
    conversation_id: str, body: ConsentBody, principal: OwnerDep, runtime: RuntimeDep
) -> ConsentAccepted:
    """The end user accepts the privacy notice version they were shown; 409 with the
    current notice if that is not the current version."""
    runtime.conversations.get(principal.tenant, conversation_id)
    accepted = consent_gate(runtime).accept(principal.tenant, conversation_id, body.notice_version)
    runtime.audit(principal.tenant, principal.key_id, "consent.accept",
                  conversation=conversation_id, notice_version=accepted.notice_version)  # fmt: skip
    return ConsentAccepted(
        conversation_id=conversation_id,
        notice_version=accepted.notice_version,
        accepted_at=accepted.accepted_at.isoformat(),
    )


class OptedOut(BaseModel):
    """The opt-out is recorded; `golden_cases_removed` counts cases already made from that
    end user's conversations (removed now)."""

    opted_out: bool
    golden_cases_removed: int


@router.post(
    "/v1/conversations/{conversation_id}/training-opt-out",
    response_model=OptedOut,
    responses=_ERRORS,
    dependencies=[ConversationLimit],
)
def end_user_opt_out(conversation_id: str, principal: OwnerDep, runtime: RuntimeDep) -> OptedOut:
    """The end user of this conversation opts out of training use: none of their
    conversations (this one, or all of their end_user_id's) is learned from."""
    conversation = runtime.conversations.get(principal.tenant, conversation_id)
    subject = subject_of(conversation)
    removed = TrainingPolicy(runtime.sessions).opt_out(principal.tenant, subject, principal.key_id)
    runtime.audit(principal.tenant, principal.key_id, "training.opt_out",
                  conversation=conversation_id, golden_cases_removed=removed)  # fmt: skip
    return OptedOut(opted_out=True, golden_cases_removed=removed)


def _end_user_id(value: str) -> str:
    try:
        return check_end_user_id(value)
    except BadRequest as error:
        raise PydanticCustomError("end_user_id", str(error)) from None


# The rule of conversations' end_user_id, so every id a conversation takes can be opted out;
# `:path` takes ids with slashes (the company's own ids) whole.
EndUserId = Annotated[str, Path(), AfterValidator(_end_user_id)]
OPT_OUT = "/v1/training/opt-outs/{end_user_id:path}"


@router.put(OPT_OUT, response_model=OptedOut, responses=_ERRORS)
def admin_opt_out(end_user_id: EndUserId, principal: AdminDep, runtime: RuntimeDep) -> OptedOut:
    """Opt an end user (by the end_user_id the company's backend gave) out of training use."""
    removed = TrainingPolicy(runtime.sessions).opt_out(
        principal.tenant, end_user_id, principal.key_id
    )
    runtime.audit(principal.tenant, principal.key_id, "training.opt_out", by="admin",
                  golden_cases_removed=removed)  # fmt: skip
    return OptedOut(opted_out=True, golden_cases_removed=removed)


@router.delete(OPT_OUT, status_code=204, responses=_ERRORS)
def admin_opt_in(end_user_id: EndUserId, principal: AdminDep, runtime: RuntimeDep) -> Response:
    """Withdraw an opt-out recorded for this end user (404 if there is none)."""
    TrainingPolicy(runtime.sessions).opt_in(principal.tenant, end_user_id)
    runtime.audit(principal.tenant, principal.key_id, "training.opt_in", by="admin")
    return Response(status_code=204)
