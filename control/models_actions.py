"""Records of trust in actions: each tenant's connections to its company systems (secrets
encrypted), and what approving an action draft will do, bound to the draft when it is made.
Created by migration 0004."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from control.models import Base, utcnow


class ActionConnection(Base):
    """A tenant's connection to one company system. `secrets` is a Fernet token of the
    JSON header -> value mapping (control.secrets); only header names are ever shown."""

    __tablename__ = "action_connections"

    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.name"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    base_url: Mapped[str] = mapped_column(Text)
    allowed_origins: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    secret_headers: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of names
    secrets: Mapped[str] = mapped_column(Text, default="")  # encrypted
    timeout_s: Mapped[float | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DraftAction(Base):
    """The high-impact action a draft message approves: the resolved request (the
    connection by name, never its secrets), and the procedure state it belongs to. The
    approval runs exactly this; `result` records what happened when it ran."""

    __tablename__ = "draft_actions"

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    conversation_id: Mapped[str] = mapped_column(String(40), index=True)
    procedure_id: Mapped[str] = mapped_column(String(80))
    step_id: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80))
    connection: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    describe: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(Text)  # the procedure state snapshot (JSON)
    result: Mapped[str | None] = mapped_column(Text, default=None)  # JSON, once it ran
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
