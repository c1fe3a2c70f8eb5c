"""Admins: the agent's configuration, AI feature switches and procedures; traces for QA."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from agent.config import FEATURES
from agent.trace import Trace
from control.errors import BadRequest, NotFound, quoted
from control.tenants import Principal
from service.agent_schemas import (
    ConfigPatch,
    FeaturePublic,
    FeatureSwitch,
    ProcedurePublic,
    ProcedureUpload,
)
from service.deps import AdminDep, RuntimeDep, require
from service.preconditions import expected_version, set_etag
from service.schemas import ErrorResponse

router = APIRouter(tags=["agent"])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 422)
}
_CHANGE_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422, 428)
}
TraceReaderDep = Annotated[Principal, Depends(require("qa_lead", "admin"))]


@router.get("/v1/agent/config", responses=_ERRORS)
def get_config(principal: AdminDep, runtime: RuntimeDep, response: Response) -> dict[str, Any]:
    """The tenant's agent configuration (autonomy, thresholds, features, intents, notices);
    the ETag header is its version, for If-Match on a change."""
    config = runtime.agents.config(principal.tenant)
    set_etag(response, config.version)
    return config.model_dump()


@router.patch("/v1/agent/config", responses=_CHANGE_ERRORS)
def patch_config(
    body: ConfigPatch, principal: AdminDep, runtime: RuntimeDep, request: Request,
    response: Response,
) -> dict[str, Any]:  # fmt: skip
    """Change part of the configuration, based on the version in If-Match (or `version` in
    the body): 409 with the current version if it moved on, 428 without one. An invalid
    change is refused and changes nothing."""
    changes = body.changes()
    sent = changes.pop("version", None)
    if sent is not None and (isinstance(sent, bool) or not isinstance(sent, int)):
        raise BadRequest("version must be the integer version you read (GET /v1/agent/config)")
    expected = expected_version(request, sent, what="the agent configuration")
    config = runtime.agents.update(principal.tenant, changes, expected)
    runtime.audit(principal.tenant, principal.key_id, "agent.config", changes=changes,
                  version=config.version)  # fmt: skip
    set_etag(response, config.version)
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


@router.put("/v1/features/{name}", response_model=list[FeaturePublic], responses=_CHANGE_ERRORS)
def switch_feature(
    name: str, body: FeatureSwitch, principal: AdminDep, runtime: RuntimeDep, request: Request
) -> list[FeaturePublic]:
    """Turn one AI feature on or off for the tenant. It sets one flag, so it needs no
    version (it is applied atomically and never lost); an If-Match with the configuration's
    ETag is honoured (409 if it moved on)."""
    if name not in FEATURES:
        raise NotFound(f"feature '{name}' does not exist; known: {', '.join(sorted(FEATURES))}")
    expected = expected_version(request, required=False)
    runtime.agents.update(principal.tenant, {"features": {name: body.enabled}}, expected)
    runtime.audit(
        principal.tenant, principal.key_id, "feature.switch", name=name, enabled=body.enabled
    )
    return _features(runtime, principal.tenant)


@router.get("/v1/procedures", response_model=list[ProcedurePublic], responses=_ERRORS)
def list_procedures(principal: AdminDep, runtime: RuntimeDep) -> list[ProcedurePublic]:
    """The tenant's procedures as uploaded (YAML), each with its version."""
    return [ProcedurePublic.of(p) for p in runtime.agents.procedures(principal.tenant)]


@router.get("/v1/procedures/{procedure_id}", response_model=ProcedurePublic, responses=_ERRORS)
def get_procedure(
    procedure_id: str, principal: AdminDep, runtime: RuntimeDep, response: Response
) -> ProcedurePublic:
    """One procedure; the ETag header is its version, for If-Match on a change."""
    procedure = runtime.agents.procedure(principal.tenant, procedure_id)
    set_etag(response, procedure.version)
    return ProcedurePublic.of(procedure)


@router.put("/v1/procedures", response_model=ProcedurePublic, responses=_CHANGE_ERRORS)
def put_procedure(
    body: ProcedureUpload, principal: AdminDep, runtime: RuntimeDep, request: Request,
    response: Response,
) -> ProcedurePublic:  # fmt: skip
    """Add a procedure (If-None-Match: *, or `version` 0) or replace one (If-Match with its
    ETag, or its `version`); 409 with the current version if that moved on, 428 without
    one. An invalid procedure changes nothing."""
    procedure_id = runtime.agents.procedure_id(principal.tenant, body.source)  # 400 first
    expected = expected_version(request, body.version, what=f"procedure '{procedure_id}'")
    stored = runtime.agents.save_procedure(principal.tenant, body.source, expected)
    runtime.audit(principal.tenant, principal.key_id, "procedure.put", id=stored.id,
                  version=stored.version)  # fmt: skip
    set_etag(response, stored.version)
    return ProcedurePublic.of(stored)


@router.delete("/v1/procedures/{procedure_id}", status_code=204, responses=_CHANGE_ERRORS)
def delete_procedure(
    procedure_id: str, principal: AdminDep, runtime: RuntimeDep, request: Request
) -> None:
    """Remove one procedure, with If-Match of the version you read (409 if it moved on)."""
    expected = expected_version(request, required=False)
    if expected is None:
        runtime.agents.procedure(principal.tenant, procedure_id)  # 404 before 428
        expected_version(request, what=f"procedure '{procedure_id}'")
    runtime.agents.delete_procedure(principal.tenant, procedure_id, expected)
    runtime.audit(principal.tenant, principal.key_id, "procedure.delete", id=procedure_id)


@router.get("/v1/traces/{trace_id}", response_model=Trace, responses=_ERRORS)
def get_trace(trace_id: str, principal: TraceReaderDep, runtime: RuntimeDep) -> Trace:
    """The reasoning trace of one reply: every step, its scores, timings and the rule that
    decided. Only QA leads and admins of the same tenant."""
    trace = runtime.agent.traces.get(principal.tenant, trace_id)
    if trace is None:
        raise NotFound(f"trace {quoted(trace_id)} does not exist")
    return trace
