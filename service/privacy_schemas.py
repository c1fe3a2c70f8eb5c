"""API schemas of the privacy routes (redaction, suggestions, privacy settings)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class RedactRequest(BaseModel):
    """Values to replace everywhere in the caller's tenant's data."""

    values: list[str] = Field(min_length=1, max_length=100)
    type: str | None = Field(None, description="placeholder type, e.g. PERSON (default: detected)")


class RedactionResult(BaseModel):
    """What a redaction changed, by store (never the values)."""

    operation: str
    tenant: str
    values: int
    placeholders: list[str]
    stores: dict[str, int]
    columns: dict[str, int]
    reembedded: int
    compacted: list[str]
    unscoped_tables: list[str]
    remaining_files: list[str]
    resumed: list[str]


class SuggestionPublic(BaseModel):
    id: str
    source: Literal["message", "trace"]
    record_id: str
    field: str
    start: int
    end: int
    entity_type: str
    score: float
    text: str
    placeholder: str


class SuggestionList(BaseModel):
    conversation_id: str
    suggestions: list[SuggestionPublic]


class ApplyRedactions(BaseModel):
    """Which suggestions to apply: by id, or all of them."""

    ids: list[str] = Field(default_factory=list, max_length=1000)
    all: StrictBool = False


class SkippedSuggestion(BaseModel):
    id: str
    reason: str


class AppliedRedactions(BaseModel):
    applied: list[str]
    skipped: list[SkippedSuggestion]
    redaction: RedactionResult | None


def result_of(report: dict[str, Any]) -> RedactionResult:
    return RedactionResult.model_validate(report)


class PrivacySettingsPublic(BaseModel):
    """A tenant's privacy settings (`entity_types` empty: every type the detector knows)."""

    redact_ingestion: bool
    entity_types: list[str]


class PrivacySettingsUpdate(BaseModel):
    """Settings to change; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    redact_ingestion: StrictBool | None = None
    entity_types: list[str] | None = Field(None, max_length=50)
