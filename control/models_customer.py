"""Records of customer control (migration 0008): each tenant's consent and training-use
settings, consent acceptances per conversation, end users' training opt-outs, and counts
of model calls per tenant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from control.models import Base, utcnow


class CustomerSettingsRecord(Base):
    """`consent`: notice | required; `notice_text` (None: the agent configuration's privacy
    notice) and its `notice_version`; `training_use`: allowed | denied."""

    __tablename__ = "customer_settings"

    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.name"), primary_key=True)
    consent: Mapped[str] = mapped_column(String(16), default="notice")
    notice_text: Mapped[str | None] = mapped_column(Text, default=None)
    notice_version: Mapped[str] = mapped_column(String(40), default="1")
    training_use: Mapped[str] = mapped_column(String(16), default="denied")
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentAcceptance(Base):
    """An end user accepted notice `notice_version` in a conversation at `accepted_at`."""

    __tablename__ = "consent_acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    conversation_id: Mapped[str] = mapped_column(String(40), index=True)
    notice_version: Mapped[str] = mapped_column(String(40))
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingOptOut(Base):
    """An end user who does not want their conversations used to train anything."""

    __tablename__ = "training_optouts"

    tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
    end_user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AiUsage(Base):
    """How many model calls a tenant's traffic made, by feature, model, region, endpoint."""

    __tablename__ = "ai_usage"

    tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
    feature: Mapped[str] = mapped_column(String(40), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    region: Mapped[str] = mapped_column(String(8), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(300), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    chars_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)
