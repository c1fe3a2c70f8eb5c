"""Privacy records: operations that remove personal data, each written down before it starts
(an intent, so an interrupted one is found and finished by the next run), and each tenant's
privacy settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from control.models import Base, utcnow


class PrivacyOperation(Base):
    """One redaction or source deletion (and, for helper P2, erasure or retention run).

    `subject` names what the operation works on without personal data (a document id for a
    source deletion; empty for a redaction, whose values are never stored). `step` is the
    last finished step; `counts` (JSON) what each step changed.
    """

    __tablename__ = "privacy_operations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # redact | delete_source | ...
    subject: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)  # | done
    step: Mapped[str] = mapped_column(String(24), default="started")
    actor: Mapped[str] = mapped_column(String(64))
    options: Mapped[str] = mapped_column(Text, default="{}")
    counts: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrivacySettings(Base):
    """A tenant's privacy settings: whether uploaded knowledge is redacted before chunking,
    and which entity types (JSON list; empty means every type the detector knows)."""

    __tablename__ = "privacy_settings"

    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.name"), primary_key=True)
    redact_ingestion: Mapped[bool] = mapped_column(default=False)
    entity_types: Mapped[str] = mapped_column(Text, default="[]")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
