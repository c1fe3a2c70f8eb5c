"""Privacy routes: permanent redaction of values, redaction suggestions per conversation, and
a tenant's privacy settings (redaction at ingestion).

Redactions rewrite and compact whole files, so they run one at a time per server; a request
waits for the one before it.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from control.errors import BadRequest
from control.tenants import Principal
from privacy.ingestion import PrivacySettingsStore
from privacy.redaction import RedactValue
from privacy.suggestions import suggest, values_of
from service.deps import AdminDep, RuntimeDep, require
from service.privacy_schemas import (
    AppliedRedactions,
    ApplyRedactions,
    PrivacySettingsPublic,
    PrivacySettingsUpdate,
    RedactionResult,
    RedactRequest,
    SkippedSuggestion,
    SuggestionList,
    SuggestionPublic,
    result_of,
)
from service.privacy_wiring import Privacy, privacy_for
from service.schemas import ErrorResponse

router = APIRouter(tags=["privacy"])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 422)
}
_BUILD = threading.Lock()  # the app's Privacy is built once, by the first request needing it
ReviewerDep = Annotated[Principal, Depends(require("agent", "qa_lead", "admin"))]


def get_privacy(request: Request, runtime: RuntimeDep) -> Privacy:
    with _BUILD:
        privacy = getattr(request.app.state, "privacy", None)
        if not isinstance(privacy, Privacy):
            privacy = privacy_for(runtime)
            request.app.state.privacy = privacy
    return privacy


PrivacyDep = Annotated[Privacy, Depends(get_privacy)]


@router.post("/v1/privacy/redact", response_model=RedactionResult, responses=_ERRORS)
def redact(body: RedactRequest, principal: AdminDep, privacy: PrivacyDep) -> RedactionResult:
    """Replace each value with its typed placeholder everywhere in the tenant's data, then
    compact the stores so that no byte of it remains; returns counts by store."""
    items = [RedactValue(value, body.type) for value in body.values]
    report = privacy.redactor.redact(principal.tenant, items, actor=principal.key_id)
    return result_of(report.as_json())


@router.get(
    "/v1/conversations/{conversation_id}/redactions",
    response_model=SuggestionList,
    responses=_ERRORS,
)
def list_redactions(
    conversation_id: str, principal: ReviewerDep, runtime: RuntimeDep
) -> SuggestionList:
    """Personal data detected in each message and trace of the conversation."""
    found = suggest(runtime.sessions, runtime.pii_detector, principal.tenant, conversation_id)
    return SuggestionList(
        conversation_id=conversation_id,
        suggestions=[SuggestionPublic(**asdict(s), placeholder=s.placeholder) for s in found],
    )


@router.post(
    "/v1/conversations/{conversation_id}/redactions",
    response_model=AppliedRedactions,
    responses=_ERRORS,
)
def apply_redactions(
    conversation_id: str,
    body: ApplyRedactions,
    principal: ReviewerDep,
    runtime: RuntimeDep,
    privacy: PrivacyDep,
) -> AppliedRedactions:
    """Apply the chosen suggestions (or all): each value is redacted permanently, everywhere
    in the tenant's data. Unknown ids, or both `ids` and `all`, change nothing and get a
    400 saying why."""
    if not body.all and not body.ids:
        raise BadRequest("choose suggestions to apply: give their 'ids', or 'all': true")
    if body.all and body.ids:
        raise BadRequest(
            "give `ids` or `all`, not both: list the suggestions to apply in 'ids', or send "
            "'all': true alone to apply every one"
        )
    found = suggest(runtime.sessions, runtime.pii_detector, principal.tenant, conversation_id)
    by_id = {s.id: s for s in found}
    unknown = [i for i in body.ids if i not in by_id]
    if unknown:
        raise BadRequest(
            f"unknown suggestion ids {', '.join(unknown[:5])}: list them again with GET "
            f"/v1/conversations/{conversation_id}/redactions (applied ones disappear)"
        )
    chosen = found if body.all else [by_id[i] for i in dict.fromkeys(body.ids)]
    values, too_short = values_of(chosen)
    report = (
        privacy.redactor.redact(principal.tenant, values, actor=principal.key_id)
        if values
        else None
    )
    short_ids = {s.id for s in too_short}
    return AppliedRedactions(
        applied=[s.id for s in chosen if s.id not in short_ids],
        skipped=[
            SkippedSuggestion(id=s.id, reason="too short to redact safely everywhere")
            for s in too_short
        ],
        redaction=result_of(report.as_json()) if report else None,
    )


@router.get("/v1/privacy/settings", response_model=PrivacySettingsPublic, responses=_ERRORS)
def get_settings(principal: AdminDep, runtime: RuntimeDep) -> PrivacySettingsPublic:
    """The tenant's privacy settings."""
    current = PrivacySettingsStore(runtime.sessions).get(principal.tenant)
    return PrivacySettingsPublic(
        redact_ingestion=current.redact_ingestion, entity_types=list(current.entity_types)
    )


@router.put("/v1/privacy/settings", response_model=PrivacySettingsPublic, responses=_ERRORS)
def put_settings(
    body: PrivacySettingsUpdate, principal: AdminDep, runtime: RuntimeDep
) -> PrivacySettingsPublic:
    """Change the tenant's privacy settings: `redact_ingestion` replaces detected personal
    data in knowledge uploaded from now on (files already ingested are redacted when they
    are uploaded again: the changed setting makes them count as changed)."""
    updated = PrivacySettingsStore(runtime.sessions).update(
        principal.tenant, body.redact_ingestion, body.entity_types
    )
    runtime.audit(principal.tenant, principal.key_id, "privacy.settings",
                  redact_ingestion=updated.redact_ingestion,
                  entity_types=list(updated.entity_types))  # fmt: skip
    return PrivacySettingsPublic(
        redact_ingestion=updated.redact_ingestion, entity_types=list(updated.entity_types)
    )
