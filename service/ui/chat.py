"""The end user's chat page, and the small JSON routes it calls.

The chat page never learns which conversation it is in, nor any conversation token: the
session keeps them server-side. Each chat route forwards the request, in process, to the
/v1 API with the session's cookie and CSRF token (plus the conversation token the API gave
when the conversation started, if it gives one), so every check of the API applies as
it would to any client; the forwarder only remembers which conversations and replies
belong to this session. The session store's reads and writes run in the thread pool, as
a sync route's would, so a busy database holds up only the request that waits for it.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from service.ui.auth import CSRF_HEADER, session_for, ui_store
from service.ui.pages import page_access, render
from service.ui.store import UiSession

router = APIRouter(include_in_schema=False)
END_USER = ("end_user",)
TOKEN_HEADER = "X-Conversation-Token"
TOKEN_FIELDS = ("conversation_token", "token")
KEEP_MESSAGES = 500


@router.get("/ui/chat")
def chat_page(request: Request, embed: bool = False) -> Response:
    access = page_access(request, END_USER)
    if access.response is not None:
        return access.response
    assert access.session is not None
    framed = embed or access.session.embed
    return render(request, "chat.html", {**access.context(), "embed": framed}, framable=framed)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


class ChatRating(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000)


async def _forward(
    request: Request, session: UiSession, method: str, path: str, body: object = None
) -> httpx.Response:
    """Call the /v1 API in process as this session (same app, no network hop)."""
    headers = {"cookie": request.headers.get("cookie", ""), CSRF_HEADER: session.csrf}
    current = session.data.get("current")
    token = session.data.get("tokens", {}).get(current) if current else None
    if token:
        headers[TOKEN_HEADER] = token
    client_host = request.client.host if request.client else "127.0.0.1"
    transport = httpx.ASGITransport(app=request.app, client=(client_host, 0))
    async with httpx.AsyncClient(transport=transport, base_url=str(request.base_url)) as client:
        return await client.request(method, path, json=body, headers=headers, timeout=300)


def _reply(response: httpx.Response, body: Any = None) -> JSONResponse:
    content = response.json() if body is None else body
    return JSONResponse(content, status_code=response.status_code)


async def _signed_in(request: Request) -> UiSession:
    """The end user's session (CSRF checked), read in the thread pool."""
    session, _ = await run_in_threadpool(session_for, request, END_USER)
    return session


async def _remember_messages(request: Request, session: UiSession, ids: list[str]) -> None:
    def change(data: dict[str, Any]) -> None:
        known: list[str] = data.setdefault("messages", [])
        known.extend(i for i in ids if i not in known)
        del known[:-KEEP_MESSAGES]

    if ids:
        await run_in_threadpool(ui_store(request).change_data, session, change)


async def _start(request: Request, session: UiSession) -> tuple[httpx.Response, UiSession]:
    channel = "widget" if session.embed else "api"
    response = await _forward(request, session, "POST", "/v1/conversations", {"channel": channel})
    if response.status_code != 201:
        return response, session
    started: dict[str, Any] = response.json()
    cid = str(started["conversation_id"])
    token = next((str(started[f]) for f in TOKEN_FIELDS if started.get(f)), None)

    def change(data: dict[str, Any]) -> None:
        data.setdefault("conversations", []).append(cid)
        data["current"] = cid
        data["privacy_notice"] = str(started.get("privacy_notice", ""))
        if token:
            data.setdefault("tokens", {})[cid] = token

    data = await run_in_threadpool(ui_store(request).change_data, session, change)
    return response, _with_data(session, data)


def _with_data(session: UiSession, data: dict[str, Any]) -> UiSession:
    return UiSession(
        session.id_hash, session.grant, session.csrf, session.embed, data, session.expires_at
    )


@router.post("/ui/chat/api/start")
async def start(request: Request) -> JSONResponse:
    """Start a new conversation for this session (the earlier ones stay readable by it)."""
    session = await _signed_in(request)
    response, _session = await _start(request, session)
    body = response.json()
    for name in TOKEN_FIELDS:
        body.pop(name, None)  # the token stays server-side
    body.pop("conversation_id", None)
    return _reply(response, body)


@router.get("/ui/chat/api/conversation")
async def conversation(request: Request) -> JSONResponse:
    """This session's current conversation (history as the end user sees it), or null."""
    session = await _signed_in(request)
    current = session.data.get("current")
    if not current:
        return JSONResponse({"conversation": None})
    response = await _forward(request, session, "GET", f"/v1/conversations/{current}")
    if response.status_code != 200:
        return _reply(response)
    body: dict[str, Any] = response.json()
    body.pop("conversation_id", None)
    ids = [m["id"] for m in body.get("messages", []) if m.get("role") == "assistant"]
    await _remember_messages(request, session, ids)
    notice = session.data.get("privacy_notice", "")
    return JSONResponse({"conversation": body, "privacy_notice": notice})


@router.post("/ui/chat/api/messages")
async def send(message: ChatMessage, request: Request) -> JSONResponse:
    """Send the end user's message in the current conversation (started if there is none)."""
    session = await _signed_in(request)
    if not session.data.get("current"):
        started, session = await _start(request, session)
        if started.status_code != 201:
            return _reply(started)
    path = f"/v1/conversations/{session.data['current']}/messages"
    response = await _forward(request, session, "POST", path, {"text": message.text})
    if response.status_code == 200:
        await _remember_messages(request, session, [str(response.json()["message_id"])])
    return _reply(response)


@router.post("/ui/chat/api/ratings/{message_id}")
async def rate(message_id: str, rating: ChatRating, request: Request) -> JSONResponse:
    """Rate a reply this session received (up or down, optional comment); a `comment` left
    out keeps the stored one, null or empty removes it (as /v1/messages/{id}/rating)."""
    session = await _signed_in(request)
    body = rating.model_dump(exclude_unset=True)
    response = await _forward(request, session, "POST", f"/v1/messages/{message_id}/rating", body)
    return _reply(response)
