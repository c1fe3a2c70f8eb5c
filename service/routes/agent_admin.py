"""Admins: the agent's configuration, AI feature switches and procedures; traces for QA."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from agent.config import FEATURES
from agent.trace import Trace
from service.agent_schemas import (
    ConfigPatch,
    FeaturePublic,
    FeatureSwitch,
    ProcedurePublic,
    ProcedureUpload,
)
from service.deps import AdminDep, RuntimeDep, require
from service.errors import NotFound
from service.schemas import ErrorResponse
from service.tenants import Principal

router = APIRouter(tags=["agent"])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 422)
}
TraceReaderDep = Annotated[Principal, Depends(require("qa_lead", "admin"))]


@router.get("/v1/agent/config", responses=_ERRORS)
def get_config(principal: AdminDep, runtime: RuntimeDep) -> dict[str, Any]:
    """The tenant's agent configuration (autonomy, thresholds, features, intents, notices)."""
    return runtime.agents.config(principal.tenant).model_dump()


@router.patch("/v1/agent/config", responses=_ERRORS)
def patch_config(body: ConfigPatch, principal: AdminDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Change part of the configuration; an invalid change is refused and changes nothing."""
    config = runtime.agents.update(principal.tenant, body.changes())
    runtime.audit(principal.tenant, principal.key_id, "agent.config", changes=body.changes())
    return config.model_dump()


def _features(runtime: Any, tenant: str) -> list[FeaturePublic]:
    config = runtime.agents.config(tenant)
    return [
        FeaturePublic(
            name=name, enabled=config.enabled(name), generative=generative, description=text
        )
        for name, (text, generative) in FEATURES.items()
    ]


@router.get("/v1/features", response_model=list[FeaturePublic], responses=_ERRORS)
def list_features(principal: AdminDep, runtime: RuntimeDep) -> list[FeaturePublic]:
    """Every AI feature, whether it is on, and whether it uses a generative model."""
    return _features(runtime, principal.tenant)


@router.put("/v1/features/{name}", response_model=list[FeaturePublic], responses=_ERRORS)
def switch_feature(
    name: str, body: FeatureSwitch, principal: AdminDep, runtime: RuntimeDep
) -> list[FeaturePublic]:
    """Turn one AI feature on or off for the tenant."""
    if name not in FEATURES:
        raise NotFound(f"feature '{name}' does not exist; known: {', '.join(sorted(FEATURES))}")
    runtime.agents.update(principal.tenant, {"features": {name: body.enabled}})
    runtime.audit(
        principal.tenant, principal.key_id, "feature.switch", name=name, enabled=body.enabled
    )
    return _features(runtime, principal.tenant)


@router.get("/v1/procedures", response_model=list[ProcedurePublic], responses=_ERRORS)
def list_procedures(principal: AdminDep, runtime: RuntimeDep) -> list[ProcedurePublic]:
    """The tenant's procedures as uploaded (YAML)."""
    sources = runtime.agents.procedure_sources(principal.tenant)
    return [ProcedurePublic(id=pid, source=text) for pid, text in sorted(sources.items())]


@router.put("/v1/procedures", response_model=ProcedurePublic, responses=_ERRORS)
def put_procedure(
    body: ProcedureUpload, principal: AdminDep, runtime: RuntimeDep
) -> ProcedurePublic:
    """Add or replace one procedure (YAML in `source`); an invalid one changes nothing."""
    procedure_id = runtime.agents.put_procedure(principal.tenant, body.source)
    runtime.audit(principal.tenant, principal.key_id, "procedure.put", id=procedure_id)
    return ProcedurePublic(id=procedure_id, source=body.source)


@router.delete("/v1/procedures/{procedure_id}", status_code=204, responses=_ERRORS)
def delete_procedure(procedure_id: str, principal: AdminDep, runtime: RuntimeDep) -> None:
    """Remove one procedure."""
    runtime.agents.delete_procedure(principal.tenant, procedure_id)
    runtime.audit(principal.tenant, principal.key_id, "procedure.delete", id=procedure_id)


@router.get("/v1/traces/{trace_id}", response_model=Trace, responses=_ERRORS)
def get_trace(trace_id: str, principal: TraceReaderDep, runtime: RuntimeDep) -> Trace:
    """The reasoning trace of one reply: every step, its scores, timings and the rule that
    decided. Only QA leads and admins of the same tenant."""
    trace = runtime.agent.traces.get(principal.tenant, trace_id)
    if trace is None:
        raise NotFound(f"trace '{trace_id}' does not exist")
    return trace
