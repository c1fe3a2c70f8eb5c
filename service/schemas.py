"""Public API schemas (separate from storage records)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel

from control.models import Job
from knowledge.audience import AUDIENCE_STATED, stated_audience
from knowledge.records import DocumentRecord


def _utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class FileResult(BaseModel):
    source: str
    document_id: str
    status: Literal["ingested", "unchanged", "replaced", "failed"]
    chunks: int
    error: str | None


class JobPublic(BaseModel):
    id: str
    status: Literal["queued", "running", "succeeded", "partial", "failed"]
    total: int
    done: int
    progress: float
    results: list[FileResult]
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, job: Job) -> JobPublic:
        results = [FileResult(**r) for r in json.loads(job.results)]
        return cls(
            id=job.id,
            status=job.status,
            total=job.total,
            done=job.done,
            progress=(job.done / job.total)
            if job.total
            else (1.0 if job.status not in ("queued", "running") else 0.0),
            results=results,
            error=job.error,
            created_at=_utc(job.created_at),
            updated_at=_utc(job.updated_at),
        )


class FlaggedSentencePublic(BaseModel):
    """A sentence kept out of the knowledge as a planted instruction (knowledge.planted)."""

    text: str
    section: str
    page: int | None
    score: float  # the classifier's P(planted instruction)
    reason: str  # "classifier", or the injection rules that fired


class SourcePublic(BaseModel):
    document_id: str
    title: str
    source: str
    type: str
    version: int
    chunks: int
    content_hash: str
    created_at: datetime
    updated_at: datetime
    redacted: dict[str, int] = {}  # personal data replaced at ingestion: count by type
    flagged_sentences: list[FlaggedSentencePublic] = []  # never quoted: planted instructions
    # who it is written for ("agent": quoted for its facts only; knowledge/audience.py);
    # None for a document stored before this was recorded on documents
    audience: Literal["agent", "customer"] | None = None
    audience_stated: bool = False  # stated by the admin at upload, not detected from the text

    @classmethod
    def of(cls, record: DocumentRecord) -> SourcePublic:
        return cls(
            document_id=record.document_id,
            title=record.title,
            source=record.source,
            type=record.doc_type,
            version=record.version,
            chunks=record.chunk_count,
            content_hash=record.content_hash.split("|", 1)[0],
            created_at=record.created_at,
            updated_at=record.updated_at,
            redacted=dict(record.metadata.get("redacted", {})),
            flagged_sentences=[FlaggedSentencePublic(**f.as_dict()) for f in record.flagged],
            audience=stated_audience(record.metadata),
            audience_stated=bool(record.metadata.get(AUDIENCE_STATED, False)),
        )


class SourceList(BaseModel):
    sources: list[SourcePublic]
