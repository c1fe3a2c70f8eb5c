"""Conversations for end users, and the human agents' side: handoffs, replies, drafts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError

from control.models import Conversation
from control.tenants import Principal
from conversations.identity import new_token
from service.access import conversation_access, reply_access
from service.agent_schemas import (
    AgentReply,
    CitationPublic,
    ConversationPublic,
    ConversationStarted,
    ConversationStatus,
    DraftPublic,
    DraftReview,
    DraftReviewed,
    HandoffPublic,
    HumanReply,
    MessagePublic,
    PostMessage,
    Rating,
    StartConversation,
)
from service.deps import ConversationLimit, RuntimeDep, require
from service.errors import Forbidden
from service.rate_limits import rate_limits
from service.schemas import ErrorResponse

# Every route here is counted per client address and per key (service/rate_limits.py).
router = APIRouter(tags=["conversations"], dependencies=[ConversationLimit])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422, 429)
}
EndUserDep = Annotated[Principal, Depends(require("end_user"))]
HumanAgentDep = Annotated[Principal, Depends(require("agent"))]
# An end user reaches only a conversation that is theirs (service/access.py).
OwnerDep = Annotated[Principal, Depends(conversation_access("end_user"))]
ReaderDep = Annotated[Principal, Depends(conversation_access("end_user", "agent"))]
RaterDep = Annotated[Principal, Depends(reply_access("end_user"))]


@router.post(
    "/v1/conversations", status_code=201, response_model=ConversationStarted, responses=_ERRORS
)
def start_conversation(
    principal: EndUserDep, runtime: RuntimeDep, body: StartConversation | None = None
) -> ConversationStarted:
    """Start a conversation (the body is optional); returns its id, its token (send it as
    X-Conversation-Token from then on), the privacy notice and the AI disclosure. Only a key
    allowed to assert identities (the company's backend) may name the `end_user_id`."""
    body = body or StartConversation()
    if body.end_user_id is not None and not principal.asserts_identity:
        raise Forbidden(
            "this key may not assert end-user identities, so it cannot send end_user_id; leave "
            "end_user_id out (the conversation token identifies the end user), or send it from "
            "the company's backend with a key allowed to assert identities (the operator of "
            "the Clearline server creates one)"
        )
    config = runtime.agents.config(principal.tenant)
    token, token_hash = new_token()
    conversation = runtime.conversations.start(
        principal.tenant, body.scenario, body.channel, body.end_user_id, token_hash
    )
    return ConversationStarted(
        conversation_id=conversation.id,
        conversation_token=token,
        end_user_id=conversation.end_user_id,
        disclosure=config.disclosure,
        privacy_notice=config.privacy_notice,
    )


@router.post(
    "/v1/conversations/{conversation_id}/messages", response_model=AgentReply, responses=_ERRORS
)
def post_message(
    conversation_id: str, body: PostMessage, principal: OwnerDep, runtime: RuntimeDep,
    request: Request,
) -> AgentReply:  # fmt: skip
    """Send the end user's message; returns the agent's reply (a holding notice while a
    human reviews a draft). One message is answered at a time per conversation: another
    sent meanwhile gets 429 `turn_in_progress` (send it again when the reply has come)."""
    with rate_limits(request).turn(conversation_id):
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
    """The history: end users see what was sent to them, with their own rating comments;
    human agents also see drafts (and ratings, without the comments)."""
    conversation = runtime.conversations.get(principal.tenant, conversation_id)
    return _public(runtime, conversation, owner=principal.role == "end_user")


def _public(runtime: Any, conversation: Conversation, owner: bool) -> ConversationPublic:
    """`owner`: the conversation's end user (checked by conversation_access), who sees only
    visible messages, and the comments they sent with their ratings."""
    messages = runtime.conversations.messages(conversation.tenant, conversation.id, owner)
    return ConversationPublic(
        conversation_id=conversation.id,
        status=conversation.status,
        scenario=conversation.scenario,
        disclosure=runtime.agents.config(conversation.tenant).disclosure,
        messages=[MessagePublic.of(m, with_comment=owner) for m in messages],
    )


@router.post("/v1/messages/{message_id}/rating", response_model=MessagePublic, responses=_ERRORS)
def rate_reply(
    message_id: str, body: Rating, principal: RaterDep, runtime: RuntimeDep
) -> MessagePublic:
    """Rate a reply the end user received, up or down, with an optional comment (at most
    2000 characters). Rating again replaces the rating; the stored comment stays unless the
    request sends `comment`: a text replaces it, null or an empty string removes it. Returns
    the reply with its rating and comment as stored."""
    comment = body.comment_change()
    message = runtime.conversations.rate(principal.tenant, message_id, body.rating, comment)
    runtime.review_queue.on_rating(message)
    return MessagePublic.of(message, with_comment=True)


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
    """A human agent's reply; the end user sees it at once (not labelled AI-generated).
    A closed conversation takes no replies (409): reopen it first (`/status`, `open`)."""
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
    return _public(runtime, conversation, owner=False)


@router.get("/v1/drafts", response_model=list[DraftPublic], responses=_ERRORS)
def list_drafts(principal: HumanAgentDep, runtime: RuntimeDep) -> list[DraftPublic]:
    """Replies and high-impact actions waiting for a human's approval, oldest first; each
    with the exact action (if any) approving it runs."""
    drafts = runtime.conversations.drafts(principal.tenant)
    bound = runtime.conversations.bound_actions(principal.tenant, [m.id for m in drafts])
    return [DraftPublic.of(m, bound.get(m.id)) for m in drafts]


@router.post("/v1/drafts/{message_id}/review", response_model=DraftReviewed, responses=_ERRORS)
def review_draft(
    message_id: str, body: DraftReview, principal: HumanAgentDep, runtime: RuntimeDep
) -> DraftReviewed:
    """Approve (optionally with edited text) or reject a draft. Approval runs exactly the
    draft's own action (if any), at most once, then sends the reply; if that action fails,
    `draft_status` is `failed`, `action_result.error` says why, and the end user is told a
    person will follow up (never the edited text). Rejection cancels only this draft's
    action and hands the conversation to a human (a closed one stays closed). A second
    review gets 409; so does approving into a closed conversation (the draft stays pending:
    reopen the conversation, or reject the draft). `text`, if sent, must not be blank (422);
    the audit entry says `edited: true` only when the text sent differs from the draft's."""
    if body.text is not None and not body.text.strip():
        raise RequestValidationError([{
            "type": "value_error", "loc": ("body", "text"), "input": body.text,
            "msg": "text must not be blank; omit it to send the draft as written",
        }])  # fmt: skip
    reviewed = runtime.conversations.review(
        principal.tenant, message_id, principal.key_id, body.approve, body.text
    )
    run = reviewed.run
    runtime.audit(
        principal.tenant, principal.key_id, "draft.review", message=message_id,
        approved=body.approve, edited=reviewed.edited,
        procedure_action=reviewed.action.name if reviewed.action else None,
        action_ok=run.ok if run else None,
    )  # fmt: skip
    return DraftReviewed.of_review(reviewed)
