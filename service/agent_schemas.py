"""Request and response bodies of the conversation, review and agent-admin routes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from service.models import Conversation, Message

MAX_TEXT = 4000


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class StartConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str = Field("", max_length=MAX_TEXT, description="Context the end user gives.")
    channel: Literal["api", "widget"] = "api"


class ConversationStarted(BaseModel):
    conversation_id: str
    ai_generated: bool = True
    disclosure: str
    privacy_notice: str


class PostMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1, max_length=MAX_TEXT, validation_alias=AliasChoices("text", "message")
    )


class CitationPublic(BaseModel):
    document_id: str
    title: str
    quote: str


class AgentReply(BaseModel):
    message_id: str
    text: str
    ai_generated: bool = True
    disclosure: str
    citations: list[CitationPublic]
    confidence: float
    decision: Literal["answered", "clarify", "handoff", "draft"]
    trace_id: str


class MessagePublic(BaseModel):
    id: str
    role: str
    text: str
    ai_generated: bool
    decision: str | None
    citations: list[CitationPublic]
    trace_id: str | None
    created_at: datetime
    draft_status: str | None = None
    rating: str | None = None

    @classmethod
    def of(cls, message: Message) -> MessagePublic:
        return cls(
            id=message.id,
            role=message.role,
            text=message.text,
            ai_generated=message.role == "assistant",
            decision=message.decision,
            citations=[CitationPublic(**c) for c in json.loads(message.citations or "[]")],
            trace_id=message.trace_id,
            created_at=_utc(message.created_at),
            draft_status=message.draft_status,
            rating=message.rating,
        )


class ConversationPublic(BaseModel):
    conversation_id: str
    status: str
    scenario: str
    disclosure: str
    messages: list[MessagePublic]


class HandoffPublic(BaseModel):
    conversation_id: str
    summary: str
    updated_at: datetime

    @classmethod
    def of(cls, conversation: Conversation) -> HandoffPublic:
        return cls(
            conversation_id=conversation.id,
            summary=conversation.handoff_summary or "",
            updated_at=_utc(conversation.updated_at),
        )


class HumanReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT)


class ConversationStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "closed"] = Field(
        description="`open` hands the conversation back to the AI agent; `closed` ends it."
    )


class DraftPublic(BaseModel):
    message_id: str
    conversation_id: str
    text: str
    confidence: float | None
    citations: list[CitationPublic]
    trace_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, message: Message) -> DraftPublic:
        return cls(
            message_id=message.id,
            conversation_id=message.conversation_id,
            text=message.text,
            confidence=message.confidence,
            citations=[CitationPublic(**c) for c in json.loads(message.citations or "[]")],
            trace_id=message.trace_id,
            created_at=_utc(message.created_at),
        )


class DraftReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    text: str | None = Field(None, max_length=MAX_TEXT, description="An edited reply to send.")


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000)


class FeaturePublic(BaseModel):
    name: str
    enabled: bool
    generative: bool
    description: str


class FeatureSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


class ProcedureUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=200_000, description="The procedure's YAML.")


class ProcedurePublic(BaseModel):
    id: str
    source: str


class ConfigPatch(BaseModel):
    """Any subset of the agent configuration; nested objects are merged."""

    model_config = ConfigDict(extra="allow")

    def changes(self) -> dict[str, Any]:
        return dict(self.model_extra or {})
