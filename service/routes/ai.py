"""The AI hub for admins: every AI feature of the tenant in one place (switch one with
PUT /v1/features/{name}, which is audited), and the tenant's model calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from control.ai_usage import AiUsageBook
from service.ai_hub import hub
from service.deps import AdminDep, RuntimeDep
from service.schemas import ErrorResponse

router = APIRouter(tags=["ai hub"])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 422)
}


class AiFeaturePublic(BaseModel):
    """`enabled`: the tenant's switch (features that cannot be switched are always on);
    `active`: enabled and able to run (a chat-model feature needs a configured chat model);
    `last_change`: the latest switch (when, by which key, on or off), null if never."""

    name: str
    description: str
    generative: bool
    switchable: bool
    enabled: bool
    active: bool
    models: list[str]
    data: list[str]
    last_change: dict[str, Any] | None


@router.get("/v1/ai/features", response_model=list[AiFeaturePublic], responses=_ERRORS)
def ai_features(principal: AdminDep, runtime: RuntimeDep) -> list[AiFeaturePublic]:
    """Every AI feature: what it does in plain words, whether it is generative, whether it
    is on, which models and data it uses, and its last change."""
    config = runtime.agents.config(principal.tenant)
    models = {**runtime.models(), "answerability": runtime.answerability.reader_name(config)}
    features = hub(runtime.sessions, principal.tenant, config, models)
    return [AiFeaturePublic(**feature.__dict__) for feature in features]


class AiUsageLine(BaseModel):
    feature: str
    model: str
    region: str
    endpoint: str
    calls: int
    failures: int
    last_at: str


class AiUsage(BaseModel):
    """The tenant's calls to chat models, by feature, model, region and endpoint (counts
    only; no text is kept)."""

    tenant: str
    total_calls: int
    usage: list[AiUsageLine]


@router.get("/v1/ai/usage", response_model=AiUsage, responses=_ERRORS)
def ai_usage(principal: AdminDep, runtime: RuntimeDep) -> AiUsage:
    """How many model calls the tenant's replies made."""
    lines = [AiUsageLine(**line) for line in AiUsageBook(runtime.sessions).usage(principal.tenant)]
    return AiUsage(tenant=principal.tenant, total_calls=sum(x.calls for x in lines), usage=lines)
