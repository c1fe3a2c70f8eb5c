"""Typed records that flow through the knowledge store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True)
class Chunk:
    """A piece of one version of a document, small enough to embed.

    `section` is the heading path ("Returns > Refunds"), `page` the 1-based page of a
    paginated source (None otherwise).
    """

    document_id: str
    version: int
    ordinal: int
    text: str
    section: str = ""
    page: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def chunk_id(self) -> str:
        return chunk_id_for(self.document_id, self.version, self.ordinal)


def chunk_id_for(document_id: str, version: int, ordinal: int) -> str:
    """Stable id of a chunk: readable, unique per (document, version, position)."""
    digest = hashlib.sha1(document_id.encode("utf-8")).hexdigest()[:16]
    return f"{digest}-v{version}-{ordinal}"


@dataclass(frozen=True)
class DocumentRecord:
    """One registry row: the current visible version of a tenant's document."""

    tenant: str
    document_id: str
    title: str
    source: str
    doc_type: str
    content_hash: str
    version: int
    chunk_count: int
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)
    flagged: tuple[FlaggedSentence, ...] = ()  # kept out of the chunks, listed for admins

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> DocumentRecord:
        """From a `documents` row of the store (knowledge/store_schema.sql), in column order."""
        return cls(
            tenant=row[0],
            document_id=row[1],
            title=row[2],
            source=row[3],
            doc_type=row[4],
            content_hash=row[5],
            version=row[6],
            chunk_count=row[7],
            metadata=json.loads(row[8]),
            created_at=datetime.fromisoformat(row[9]),
            updated_at=datetime.fromisoformat(row[10]),
            flagged=tuple(FlaggedSentence.of(f) for f in json.loads(row[11])),
        )


@dataclass(frozen=True)
class FlaggedSentence:
    """A sentence of a document kept out of its chunks as a planted instruction: `score` is
    the classifier's P(planted instruction) (knowledge.planted), `reason` says what flagged
    it ("classifier", or the injection rules that fired)."""

    text: str
    section: str
    page: int | None
    score: float
    reason: str = "classifier"

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "section": self.section,
            "page": self.page,
            "score": self.score,
            "reason": self.reason,
        }

    @classmethod
    def of(cls, data: dict[str, Any]) -> FlaggedSentence:
        return cls(
            str(data["text"]),
            str(data["section"]),
            data["page"],
            float(data["score"]),
            str(data.get("reason", "classifier")),
        )


@dataclass(frozen=True)
class ScoredId:
    """An index hit: a chunk id and the backend's raw similarity (higher is better)."""

    chunk_id: str
    score: float


@dataclass(frozen=True)
class ScoredChunk:
    """A chunk returned by search, with a score in [0, 1] (see knowledge.retrieve)."""

    chunk: Chunk
    score: float
    title: str = ""


Status = Literal["ingested", "unchanged", "replaced"]


@dataclass(frozen=True)
class DocumentWrite:
    """What the ingestion pipeline hands to the store for one document version."""

    document_id: str
    title: str
    source: str
    doc_type: str
    content_hash: str
    metadata: dict[str, Any] = field(default_factory=dict)
    flagged: tuple[FlaggedSentence, ...] = ()


@dataclass(frozen=True)
class WriteResult:
    status: Status
    version: int
    chunk_count: int
