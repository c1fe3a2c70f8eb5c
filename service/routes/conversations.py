"""Conversations for end users, and the human agents' side: handoffs, replies, drafts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from service.agent_schemas import (
    AgentReply,
    CitationPublic,
    ConversationPublic,
    ConversationStarted,
    ConversationStatus,
    DraftPublic,
    DraftReview,
    HandoffPublic,
    HumanReply,
    MessagePublic,
    PostMessage,
    Rating,
    StartConversation,
)
from service.deps import RuntimeDep, require
from service.models import Conversation
from service.schemas import ErrorResponse
from service.tenants import Principal

router = APIRouter(tags=["conversations"])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)
}
EndUserDep = Annotated[Principal, Depends(require("end_user"))]
HumanAgentDep = Annotated[Principal, Depends(require("agent"))]
ReaderDep = Annotated[Principal, Depends(require("end_user", "agent"))]


@router.post(
    "/v1/conversations", status_code=201, response_model=ConversationStarted, responses=_ERRORS
)
def start_conversation(
    principal: EndUserDep, runtime: RuntimeDep, body: StartConversation | None = None
) -> ConversationStarted:
    """Start a conversation (the body is optional); returns its id, the privacy notice and
    the AI disclosure."""
    body = body or StartConversation()
    config = runtime.agents.config(principal.tenant)
    conversation = runtime.conversations.start(principal.tenant, body.scenario, body.channel)
    return ConversationStarted(
        conversation_id=conversation.id,
        disclosure=config.disclosure,
        privacy_notice=config.privacy_notice,
    )


@router.post(
    "/v1/conversations/{conversation_id}/messages", response_model=AgentReply, responses=_ERRORS
)
def post_message(
    conversation_id: str, body: PostMessage, principal: EndUserDep, runtime: RuntimeDep
) -> AgentReply:
    """Send the end user's message; returns the agent's reply (a holding notice while a
    human reviews a draft)."""
    posted = runtime.conversations.post(principal.tenant, conversation_id, body.text)
    reply = posted.reply
    shown = reply.decision != "draft"
    return AgentReply(
        message_id=posted.message.id,
        text=reply.text,
        disclosure=runtime.agents.config(principal.tenant).disclosure,
        citations=[CitationPublic(**c.__dict__) for c in reply.citations] if shown else [],
        confidence=round(reply.confidence, 4),
        decision=reply.decision,
        trace_id=reply.trace.trace_id,
    )


@router.get(
    "/v1/conversations/{conversation_id}", response_model=ConversationPublic, responses=_ERRORS
)
def get_conversation(
    conversation_id: str, principal: ReaderDep, runtime: RuntimeDep
) -> ConversationPublic:
    """The history: end users see what was sent to them; human agents also see drafts."""
    conversation = runtime.conversations.get(principal.tenant, conversation_id)
    return _public(runtime, conversation, visible_only=principal.role == "end_user")


def _public(runtime: Any, conversation: Conversation, visible_only: bool) -> ConversationPublic:
    messages = runtime.conversations.messages(conversation.tenant, conversation.id, visible_only)
    return ConversationPublic(
        conversation_id=conversation.id,
        status=conversation.status,
        scenario=conversation.scenario,
        disclosure=runtime.agents.config(conversation.tenant).disclosure,
        messages=[MessagePublic.of(m) for m in messages],
    )


@router.post("/v1/messages/{message_id}/rating", response_model=MessagePublic, responses=_ERRORS)
def rate_reply(
    message_id: str, body: Rating, principal: EndUserDep, runtime: RuntimeDep
) -> MessagePublic:
    """Rate a reply the end user received: up or down, with an optional comment."""
    message = runtime.conversations.rate(principal.tenant, message_id, body.rating, body.comment)
    runtime.qa.on_rating(message)
    return MessagePublic.of(message)


@router.get("/v1/handoffs", response_model=list[HandoffPublic], responses=_ERRORS)
def list_handoffs(principal: HumanAgentDep, runtime: RuntimeDep) -> list[HandoffPublic]:
    """Conversations handed to a human, oldest first, each with the agent's summary."""
    return [HandoffPublic.of(c) for c in runtime.conversations.handoffs(principal.tenant)]


@router.post(
    "/v1/conversations/{conversation_id}/replies",
    status_code=201,
    response_model=MessagePublic,
    responses=_ERRORS,
)
def reply_as_human(
    conversation_id: str, body: HumanReply, principal: HumanAgentDep, runtime: RuntimeDep
) -> MessagePublic:
    """A human agent's reply; the end user sees it at once (not labelled AI-generated)."""
    message = runtime.conversations.human_reply(
        principal.tenant, conversation_id, principal.key_id, body.text
    )
    runtime.audit(
        principal.tenant, principal.key_id, "conversation.reply", conversation=conversation_id
    )
    return MessagePublic.of(message)


@router.post(
    "/v1/conversations/{conversation_id}/status",
    response_model=ConversationPublic,
    responses=_ERRORS,
)
def set_status(
    conversation_id: str, body: ConversationStatus, principal: HumanAgentDep, runtime: RuntimeDep
) -> ConversationPublic:
    """Hand the conversation back to the AI agent (`open`) or close it."""
    conversation = runtime.conversations.resolve(principal.tenant, conversation_id, body.status)
    return _public(runtime, conversation, visible_only=False)


@router.get("/v1/drafts", response_model=list[DraftPublic], responses=_ERRORS)
def list_drafts(principal: HumanAgentDep, runtime: RuntimeDep) -> list[DraftPublic]:
    """Replies and high-impact actions waiting for a human's approval, oldest first."""
    return [DraftPublic.of(m) for m in runtime.conversations.drafts(principal.tenant)]


@router.post("/v1/drafts/{message_id}/review", response_model=MessagePublic, responses=_ERRORS)
def review_draft(
    message_id: str, body: DraftReview, principal: HumanAgentDep, runtime: RuntimeDep
) -> MessagePublic:
    """Approve (optionally with edited text) or reject a draft. Approval sends it to the end
    user; rejection hands the conversation to a human."""
    message = runtime.conversations.review(
        principal.tenant, message_id, principal.key_id, body.approve, body.text
    )
    runtime.audit(
        principal.tenant, principal.key_id, "draft.review", message=message_id,
        approved=body.approve, edited=body.text is not None,
    )  # fmt: skip
    return MessagePublic.of(message)
