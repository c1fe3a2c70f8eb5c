"""The human agent's inbox page, and what approving a draft will do, in words.

Handoffs, drafts, conversations, replies and reviews go through the /v1 API. The one
thing the API does not say is what approving a draft will cause: whether a high-impact
procedure action runs (which, with what request) besides the reply being sent. This
route reads it from the same records the approval itself uses.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from control.errors import NotFound, quoted
from service.runtime import Runtime
from service.ui.auth import session_for
from service.ui.pages import page_access, render

router = APIRouter(include_in_schema=False)
AGENT = ("agent",)


@router.get("/ui/inbox")
def inbox_page(request: Request) -> Response:
    access = page_access(request, AGENT)
    if access.response is not None:
        return access.response
    return render(request, "inbox.html", access.context())


class ActionPublic(BaseModel):
    procedure: str
    step: str
    name: str
    method: str
    url: str
    body: dict[str, Any]
    describe: str


class DraftEffect(BaseModel):
    message_id: str
    reply: str
    action: ActionPublic | None
    on_approve: list[str]
    on_reject: list[str]


@router.get("/ui/inbox/api/drafts/{message_id}/effect")
def draft_effect(message_id: str, request: Request) -> DraftEffect:
    """Exactly what approving (and rejecting) this draft does."""
    _, principal = session_for(request, AGENT)
    runtime: Runtime = request.app.state.runtime
    draft = next(
        (m for m in runtime.conversations.drafts(principal.tenant) if m.id == message_id), None
    )
    if draft is None:
        raise NotFound(f"draft {quoted(message_id)} is not waiting for review")
    # The action bound to this draft when it was made: exactly what approving it runs.
    pending = runtime.conversations.bound_actions(principal.tenant, [message_id]).get(message_id)
    if pending is None:
        return DraftEffect(
            message_id=message_id, reply=draft.text, action=None,
            on_approve=["Sends this reply to the customer (or your edited text instead).",
                        "Nothing else runs: this draft has no action attached."],
            on_reject=["The reply is not sent; the conversation is handed to a person "
                       "(it appears under 'Handed to a person')."],
        )  # fmt: skip
    action = ActionPublic(
        procedure=pending.procedure_id, step=pending.step_id, name=pending.name,
        method=pending.method, url=pending.url, body=pending.body, describe=pending.describe,
    )  # fmt: skip
    return DraftEffect(
        message_id=message_id, reply=draft.text, action=action,
        on_approve=[
            f"Runs the action '{pending.name}' of procedure '{pending.procedure_id}': "
            f"{pending.describe} (once, however often it is approved).",
            f"That sends {pending.method} {pending.url} to the company's system with the "
            "request shown.",
            "The customer then gets the procedure's next reply (the action's result), or "
            "your edited text instead; if the action fails, you are told why and the "
            "customer is told a person will follow up.",
        ],
        on_reject=[f"The action '{pending.name}' does not run.",
                   "The conversation is handed to a person "
                   "(it appears under 'Handed to a person')."],
    )  # fmt: skip
