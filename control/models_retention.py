"""Records of retention schedules: each tenant's policy, kept as the YAML the admin set.
Created by migration 0007 (privacy.retention_policy validates the text before it is stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from control.models import Base, utcnow


class RetentionPolicyRecord(Base):
    """A tenant's retention policy: the YAML text, its version (1, 2, ... per change), who
    set it and when; `last_run_at` is when the schedule last applied it."""

    __tablename__ = "retention_policies"

    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.name"), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(default=None)
