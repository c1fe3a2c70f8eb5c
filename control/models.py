"""Relational records of the control database: tenants, API keys, ingestion jobs, the audit
log, agent configuration and procedures, conversations and messages, traces, and the QA
loop's review queue, reviews and golden cases. The Alembic revisions in migrations/ create
exactly these tables."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    region: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An API key; only a SHA-256 hash of the secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.name"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # The company's backend: may name the end user a conversation belongs to.
    asserts_identity: Mapped[bool] = mapped_column(default=False)


class Job(Base):
    """A background ingestion job with progress and per-file results (JSON)."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.name"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="ingest")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    results: Mapped[str] = mapped_column(Text, default="[]")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    work_dir: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who changed what: knowledge uploads and deletions, tenants, keys."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TenantConfig(Base):
    """A tenant's agent configuration (agent.config.AgentConfig as JSON), versioned."""

    __tablename__ = "tenant_configs"

    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.name"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    config: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcedureRecord(Base):
    """An admin-defined procedure, kept as the YAML text the admin uploaded."""

    __tablename__ = "procedures"

    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.name"), primary_key=True)
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_end_user_id", "tenant", "end_user_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.name"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | handoff | closed
    scenario: Mapped[str] = mapped_column(Text, default="")
    procedure_state: Mapped[str | None] = mapped_column(Text, default=None)
    handoff_summary: Mapped[str | None] = mapped_column(Text, default=None)
    channel: Mapped[str] = mapped_column(String(16), default="api")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who it belongs to: the end user the company's backend named, and a SHA-256 hash of
    # the conversation token given to whoever started it.
    end_user_id: Mapped[str | None] = mapped_column(String(200), default=None)
    token_hash: Mapped[str | None] = mapped_column(String(64), default=None)


class Message(Base):
    """One message. Drafts stay invisible to the end user until a human approves them."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant | human_agent
    text: Mapped[str] = mapped_column(Text)
    visible: Mapped[bool] = mapped_column(default=True)
    decision: Mapped[str | None] = mapped_column(String(16), default=None)
    confidence: Mapped[float | None] = mapped_column(default=None)
    citations: Mapped[str] = mapped_column(Text, default="[]")
    trace_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    draft_status: Mapped[str | None] = mapped_column(
        String(16), default=None
    )  # pending|approved|rejected
    reviewed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    rating: Mapped[str | None] = mapped_column(String(8), default=None)  # up | down
    rating_comment: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TraceRecord(Base):
    __tablename__ = "traces"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(40), default=None)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    scored_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class QueueItem(Base):
    """A reply waiting for a QA lead's review, with why it entered the queue."""

    __tablename__ = "qa_queue"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    trace_id: Mapped[str] = mapped_column(String(40), index=True)
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of words
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | reviewed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Review(Base):
    """A QA lead's verdict on one reply, with labels and an optional corrected answer."""

    __tablename__ = "qa_reviews"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    trace_id: Mapped[str] = mapped_column(String(40), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(24))
    labels: Mapped[str] = mapped_column(Text, default="[]")
    corrected_answer: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GoldenCase(Base):
    """One case of a tenant's golden set (questions contract), imported or from a correction."""

    __tablename__ = "golden_cases"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
    body: Mapped[str] = mapped_column(Text)  # one questions-JSONL record
    source: Mapped[str] = mapped_column(String(16), default="import")  # import | correction
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
