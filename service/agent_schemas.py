"""Request and response bodies of the conversation, review and agent-admin routes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictBool, field_validator

from control.errors import BadRequest
from control.models import Conversation, Message
from conversations.approvals import BoundAction, Reviewed
from conversations.dialogue import KEEP, Keep
from conversations.identity import check_end_user_id
from conversations.versions import StoredProcedure

MAX_TEXT = 4000
MAX_COMMENT = 2000


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class StartConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str = Field("", max_length=MAX_TEXT, description="Context the end user gives.")
    channel: Literal["api", "widget"] = "api"
    end_user_id: str | None = Field(
        None,
        description="The end user the conversation belongs to (the id in the company's own "
        "login); only a key allowed to assert identities (the company's backend) may send it.",
    )

    @field_validator("end_user_id")
    @classmethod
    def _end_user_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_end_user_id(value)
        except BadRequest as error:
            raise ValueError(str(error)) from None


class ConversationStarted(BaseModel):
    conversation_id: str
    conversation_token: str = Field(
        description="Shown once: send it as X-Conversation-Token to read, write in and rate "
        "this conversation with an end_user key."
    )
    end_user_id: str | None = None
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
    rating_comment: str | None = Field(
        None,
        description="The end user's comment with their rating; returned to that end user "
        "only (null for other callers).",
    )

    @classmethod
    def of(cls, message: Message, with_comment: bool = False) -> MessagePublic:
        """The message as an API caller sees it; `with_comment` only for the conversation's
        own end user (the rating comment is theirs)."""
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
            rating_comment=message.rating_comment if with_comment else None,
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


class BoundActionPublic(BaseModel):
    """The action approving a draft runs: exactly this request, through this connection."""

    procedure: str
    step: str
    name: str
    connection: str
    method: str
    url: str
    body: dict[str, Any]
    describe: str

    @classmethod
    def of(cls, action: BoundAction | None) -> BoundActionPublic | None:
        if action is None:
            return None
        return cls(
            procedure=action.procedure_id, step=action.step_id, name=action.name,
            connection=action.connection, method=action.method, url=action.url,
            body=action.body, describe=action.describe,
        )  # fmt: skip


class ActionRunPublic(BaseModel):
    ok: bool
    http_status: int | None
    error: str | None


class DraftPublic(BaseModel):
    message_id: str
    conversation_id: str
    text: str
    confidence: float | None
    citations: list[CitationPublic]
    trace_id: str | None
    created_at: datetime
    action: BoundActionPublic | None = Field(
        None, description="The action approving runs (none: approving only sends the reply)."
    )

    @classmethod
    def of(cls, message: Message, action: BoundAction | None = None) -> DraftPublic:
        return cls(
            message_id=message.id,
            conversation_id=message.conversation_id,
            text=message.text,
            confidence=message.confidence,
            citations=[CitationPublic(**c) for c in json.loads(message.citations or "[]")],
            trace_id=message.trace_id,
            created_at=_utc(message.created_at),
            action=BoundActionPublic.of(action),
        )


class DraftReviewed(MessagePublic):
    """The reviewed draft as the end user now sees it (`draft_status` approved, rejected, or
    failed: the approved action failed and `action_result.error` says why)."""

    action: BoundActionPublic | None = None
    action_result: ActionRunPublic | None = None

    @classmethod
    def of_review(cls, reviewed: Reviewed) -> DraftReviewed:
        run = reviewed.run
        return cls(
            **MessagePublic.of(reviewed.message).model_dump(),
            action=BoundActionPublic.of(reviewed.action),
            action_result=ActionRunPublic(**run.__dict__) if run is not None else None,
        )


class DraftReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: StrictBool
    text: str | None = Field(None, max_length=MAX_TEXT, description="An edited reply to send.")


class Rating(BaseModel):
    """A rating replaces the reply's rating; its comment is kept unless `comment` is sent."""

    model_config = ConfigDict(extra="forbid")

    rating: Literal["up", "down"]
    comment: str | None = Field(
        None,
        max_length=MAX_COMMENT,
        description="Replaces the stored comment. Leave it out to keep the stored comment "
        "(a change of rating loses nothing); null or an empty string removes it.",
    )

    def comment_change(self) -> str | Keep | None:
        """The comment to store: KEEP when the request did not send one."""
        return self.comment if "comment" in self.model_fields_set else KEEP


class FeaturePublic(BaseModel):
    name: str
    enabled: bool
    generative: bool
    description: str


class FeatureSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool  # true or false: "yes", 1 or "false" are refused, not guessed


class ProcedureUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=200_000, description="The procedure's YAML.")
    version: int | None = Field(
        None, ge=0, description="The version this change is based on (0: a new procedure); "
        "instead of If-Match / If-None-Match.",
    )  # fmt: skip


class ProcedurePublic(BaseModel):
    id: str
    source: str
    version: int

    @classmethod
    def of(cls, procedure: StoredProcedure) -> ProcedurePublic:
        return cls(id=procedure.id, source=procedure.source, version=procedure.version)


class ConfigPatch(BaseModel):
    """Any subset of the agent configuration; nested objects are merged, and null removes
    a key of one (an intent; a threshold or feature switch goes back to its default)."""

    model_config = ConfigDict(extra="allow")

    def changes(self) -> dict[str, Any]:
        return dict(self.model_extra or {})
