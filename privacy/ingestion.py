"""Per-tenant privacy settings, and redaction at ingestion built from them.

    settings = PrivacySettingsStore(sessions)
    settings.update("acme", redact_ingestion=True, entity_types=["PERSON", "EMAIL_ADDRESS"])
    redaction = settings.ingest_redaction("acme", detector)   # None while switched off

Off by default. When on, every uploaded document's title, headings and text pass through the
detector and each detected value becomes its typed placeholder before chunking and embedding
(ingest.redaction); the source record lists the counts by type.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from control.errors import BadRequest
from control.models import utcnow
from control.models_privacy import PrivacySettings
from control.regional import tenant_regions
from privacy.detect import PiiDetector
from privacy.redact import redact
from privacy.spans import ENTITY_TYPES


@dataclass(frozen=True)
class TenantPrivacy:
    """A tenant's privacy settings (`entity_types` empty: every type)."""

    redact_ingestion: bool = False
    entity_types: tuple[str, ...] = ()

    @property
    def types(self) -> tuple[str, ...]:
        return self.entity_types or ENTITY_TYPES


class IngestionRedaction:
    """TextRedaction (ingest.redaction) with the personal-data detector."""

    def __init__(self, detector: PiiDetector, entity_types: Sequence[str]) -> None:
        self._detector = detector
        self._types = frozenset(entity_types)
        digest = hashlib.sha1(",".join(sorted(self._types)).encode()).hexdigest()[:8]
        self._signature = f"pii-redaction-{digest}"

    @property
    def signature(self) -> str:
        return self._signature

    def redact(self, texts: Sequence[str]) -> tuple[list[str], dict[str, int]]:
        counts: Counter[str] = Counter()
        redacted = []
        for text, spans in zip(texts, self._detector.detect_many(list(texts)), strict=True):
            kept = [s for s in spans if s.entity_type in self._types]
            counts.update(s.entity_type for s in kept)
            redacted.append(redact(text, kept) if kept else text)
        return redacted, dict(counts)


@tenant_regions
class PrivacySettingsStore:
    """The `privacy_settings` rows of the control database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, tenant: str) -> TenantPrivacy:
        with self._sessions() as session:
            row = session.get(PrivacySettings, tenant)
        if row is None:
            return TenantPrivacy()
        return TenantPrivacy(row.redact_ingestion, tuple(json.loads(row.entity_types)))

    def update(
        self,
        tenant: str,
        redact_ingestion: bool | None = None,
        entity_types: Sequence[str] | None = None,
    ) -> TenantPrivacy:
        """Change the given settings; unknown entity types change nothing (BadRequest)."""
        if entity_types is not None:
            unknown = sorted(set(entity_types) - set(ENTITY_TYPES))
            if unknown:
                raise BadRequest(
                    f"unknown entity types {', '.join(unknown)}: choose from "
                    f"{', '.join(ENTITY_TYPES)} (or none for all)"
                )
        with self._sessions.begin() as session:
            row = session.get(PrivacySettings, tenant)
            if row is None:
                row = PrivacySettings(tenant=tenant, redact_ingestion=False, entity_types="[]")
                session.add(row)
            if redact_ingestion is not None:
                row.redact_ingestion = redact_ingestion
            if entity_types is not None:
                row.entity_types = json.dumps(sorted(set(entity_types)))
            row.updated_at = utcnow()
        return self.get(tenant)

    def ingest_redaction(self, tenant: str, detector: PiiDetector) -> IngestionRedaction | None:
        settings = self.get(tenant)
        if not settings.redact_ingestion:
            return None
        return IngestionRedaction(detector, settings.types)
