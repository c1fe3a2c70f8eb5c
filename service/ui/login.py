"""Signing in and out of the consoles, one-time login links, and the consoles' static files.

- `GET /ui/login`: the sign-in form (an API key, exchanged for a session; the key is not
  kept). With `?token=...`: a one-time link, redeemed once, that opens the console signed in.
- `POST /ui/links` (Bearer key of any role): a one-time link for that key, e.g. a company's
  backend asking for a chat-widget link per visitor (`{"embed": true}`, end-user keys only).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from control.errors import NotFound, Unauthorized
from control.tenants import Principal
from service.errors import Forbidden
from service.rate_limits import TooManyRequests, counting_failures
from service.runtime import Runtime
from service.ui.auth import (
    HOMES,
    check_origin,
    clear_session_cookies,
    current_session,
    principal_of,
    safe_next,
    session_secret,
    set_session_cookie,
    ui_store,
)
from service.ui.pages import HERE, render, secure_headers
from service.ui.store import Grant

router = APIRouter(include_in_schema=False)
STATIC = (HERE / "static").resolve()


def _grant(principal: Principal) -> Grant:
    return Grant(principal.key_id, principal.tenant, principal.role)


def _login_form(request: Request, error: str = "", status: int = 200, nxt: str = "") -> Response:
    session = current_session(request)
    return render(
        request,
        "login.html",
        {"error": error, "next": nxt, "signed_in": session.grant if session else None,
         "csrf": session.csrf if session else ""},
        status_code=status,
    )  # fmt: skip


def _blocked_form(request: Request, error: TooManyRequests, nxt: str) -> Response:
    """The sign-in form while this address has used up its failed authentications."""
    response = _login_form(request, f"{error}.", 429, nxt)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


@router.get("/ui")
@router.get("/ui/")
def ui_home(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return RedirectResponse("/ui/login", status_code=303)
    return RedirectResponse(HOMES[session.grant.role], status_code=303)


@router.get("/ui/login")
def login_page(request: Request, token: str = "", next: str = "", embed: bool = False) -> Response:
    if not token:
        return _login_form(request, nxt=next)
    runtime: Runtime = request.app.state.runtime
    try:
        with counting_failures(request):
            grant, embedded = ui_store(request).redeem_link(token)
            principal = principal_of(runtime, grant)
    except TooManyRequests as error:
        return _blocked_form(request, error, next)
    except Unauthorized as error:
        return _login_form(request, str(error), 401, next)
    secret, _ = ui_store(request).open(grant, embed=embedded)
    runtime.audit(principal.tenant, principal.key_id, "ui.login", via="link")
    target = "/ui/chat?embed=1" if embedded else safe_next(next, principal.role)
    # A page of our own that moves on, rather than a redirect: the next request is then a
    # same-site navigation, which carries the SameSite=Strict cookie even when the link
    # was opened from another application.
    response = render(request, "signed_in.html", {"target": target}, framable=embedded)
    set_session_cookie(response, request, secret, embed=embedded)
    return response


@router.post("/ui/login")
async def login_with_key(request: Request) -> Response:
    check_origin(request)
    form = await request.form()
    key, nxt = str(form.get("key", "")).strip(), str(form.get("next", ""))
    # The database work runs in the thread pool, as a sync route's would: a sign-in that
    # waits for a busy database must not hold up every other request on the event loop.
    return await run_in_threadpool(_sign_in, request, key, nxt)


def _sign_in(request: Request, key: str, nxt: str) -> Response:
    if not key:
        return _login_form(request, "Enter your API key.", 400, nxt)
    runtime: Runtime = request.app.state.runtime
    try:
        with counting_failures(request):
            principal = runtime.tenants.authenticate(key)
    except TooManyRequests as error:
        return _blocked_form(request, error, nxt)
    except Unauthorized as error:
        return _login_form(request, f"That key was not accepted: {error}.", 401, nxt)
    old = session_secret(request)
    if old:
        ui_store(request).close(old)
    secret, _ = ui_store(request).open(_grant(principal))
    runtime.audit(principal.tenant, principal.key_id, "ui.login", via="key")
    response = RedirectResponse(safe_next(nxt, principal.role), status_code=303)
    set_session_cookie(response, request, secret, embed=False)
    return secure_headers(response)


@router.post("/ui/logout")
async def logout(request: Request) -> Response:
    check_origin(request)
    form = await request.form()
    return await run_in_threadpool(_sign_out, request, str(form.get("csrf", "")))


def _sign_out(request: Request, csrf: str) -> Response:
    session = current_session(request)
    if session is not None:
        if csrf != session.csrf:
            raise Forbidden("the sign-out form lacks this page's CSRF token; reload the page")
        ui_store(request).close(session_secret(request))
    response = RedirectResponse("/ui/login", status_code=303)
    clear_session_cookies(response)
    return response


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    embed: bool = Field(False, description="A link for the chat widget (end-user keys only).")
    ttl_s: int = Field(600, ge=30, le=86400, description="How long the link stays valid.")


class LinkIssued(BaseModel):
    token: str
    path: str
    expires_in: int


@router.post("/ui/links", include_in_schema=True, tags=["console"])
def issue_link(request: Request, body: LinkRequest | None = None) -> LinkIssued:
    """A one-time link that opens the console signed in as the calling key (send the key as
    `Authorization: Bearer`; a console session cannot ask for links)."""
    body = body or LinkRequest()
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise Unauthorized("send your API key as 'Authorization: Bearer <key>'")
    runtime: Runtime = request.app.state.runtime
    with counting_failures(request):
        principal = runtime.tenants.authenticate(header[7:].strip())
    if body.embed and principal.role != "end_user":
        raise Forbidden("widget links are for end-user keys only")
    token = ui_store(request).issue_link(_grant(principal), body.ttl_s, body.embed)
    return LinkIssued(token=token, path=f"/ui/login?token={token}", expires_in=body.ttl_s)


def _static(path: Path) -> Response:
    resolved = path.resolve()
    if not resolved.is_relative_to(STATIC) or not resolved.is_file():
        raise NotFound("no such file")
    kind = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
    response = FileResponse(resolved, media_type=kind)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/ui/static/{path:path}")
def static_file(path: str) -> Response:
    return _static(STATIC / path)


@router.get("/ui/widget.js")
def widget_script() -> Response:
    """The embeddable chat: `<script src="https://HOST/ui/widget.js" data-token="...">`."""
    return _static(STATIC / "js" / "widget.js")
