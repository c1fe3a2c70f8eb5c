"""Who is signed in to the consoles, and the checks every session request passes.

The /v1 API accepts a console session as an alternative to a Bearer key
(`session_principal`, called from service/deps.py): the tenant and role come from the key
the session was opened with, looked up on every request, so revoking the key ends the
session. State-changing requests need the session's CSRF token in `X-CSRF-Token` and, when
the browser sends an Origin, the server's own. An end user's session reaches only the
conversations it started and the replies it received (kept server-side in the session).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from control.errors import NotFound, Unauthorized, quoted
from control.models import ApiKey
from control.tenants import Principal, Role
from service.errors import Forbidden
from service.runtime import Runtime
from service.ui.store import Grant, UiSession, UiStore

COOKIE = "clearline_session"
EMBED_COOKIE = "clearline_widget"  # the chat widget, framed by a company's own site
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HOMES: dict[str, str] = {
    "end_user": "/ui/chat",
    "agent": "/ui/inbox",
    "admin": "/ui/admin",
    "qa_lead": "/ui/qa",
}
ROLE_NAMES: dict[str, str] = {
    "end_user": "end user",
    "agent": "human agent",
    "admin": "admin",
    "qa_lead": "QA lead",
}


def ui_store(request: Request) -> UiStore:
    """The session store of the app's data directory (made on first use)."""
    state = request.app.state
    store: UiStore | None = getattr(state, "ui_store", None)
    if store is None:
        runtime: Runtime = state.runtime
        store = UiStore(runtime.settings.data_dir)
        state.ui_store = store
    return store


def session_secret(request: Request) -> str:
    """The session cookie's value (the first-party cookie wins over the widget's)."""
    return request.cookies.get(COOKIE) or request.cookies.get(EMBED_COOKIE) or ""


def current_session(request: Request) -> UiSession | None:
    secret = session_secret(request)
    return ui_store(request).find(secret) if secret else None


def check_origin(request: Request) -> None:
    """Refuse a state-changing request that a browser sent from another site."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise Forbidden(f"requests from {origin} are not accepted; use the console itself")


def check_csrf(request: Request, session: UiSession) -> None:
    if request.method in SAFE_METHODS:
        return
    check_origin(request)
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, session.csrf):
        raise Forbidden("the request lacks this page's CSRF token; reload the page and try again")


def principal_of(runtime: Runtime, grant: Grant) -> Principal:
    """The principal of a session's key, read now: a revoked key ends its sessions."""
    with runtime.sessions() as db:
        key = db.get(ApiKey, grant.key_id)
    same = key is not None and (key.tenant, key.role) == (grant.tenant, grant.role)
    if key is None or key.revoked_at is not None or not same:
        raise Unauthorized("the key behind this session was revoked; sign in again")
    role: Role = key.role  # type: ignore[assignment]
    return Principal(tenant=key.tenant, role=role, key_id=key.id)


def _check_end_user_scope(request: Request, session: UiSession) -> None:
    """An end user's session may name only its own conversations and replies."""
    params = request.path_params
    conversation = params.get("conversation_id")
    if conversation is not None and conversation not in session.data.get("conversations", []):
        raise NotFound(f"conversation {quoted(conversation)} does not exist")
    message = params.get("message_id")
    if message is not None and message not in session.data.get("messages", []):
        raise NotFound(f"reply {quoted(message)} does not exist")


def session_principal(request: Request, runtime: Runtime) -> Principal | None:
    """The principal of the request's console session; None when it has no session cookie.
    Raises Unauthorized for an ended session and Forbidden without the CSRF token."""
    secret = session_secret(request)
    if not secret:
        return None
    session = ui_store(request).find(secret)
    if session is None:
        raise Unauthorized("your console session has ended; sign in again at /ui/login")
    check_csrf(request, session)
    principal = principal_of(runtime, session.grant)
    if principal.role == "end_user":
        _check_end_user_scope(request, session)
    return principal


def session_for(request: Request, roles: tuple[str, ...]) -> tuple[UiSession, Principal]:
    """For the consoles' own JSON routes: the session, its principal, CSRF checked."""
    session = current_session(request)
    if session is None:
        raise Unauthorized("you are not signed in; sign in at /ui/login")
    check_csrf(request, session)
    principal = principal_of(request.app.state.runtime, session.grant)
    if principal.role not in roles:
        raise Forbidden(
            f"a {ROLE_NAMES[principal.role]} cannot do this; it needs: "
            + ", ".join(ROLE_NAMES[r] for r in roles)
        )
    return session, principal


def set_session_cookie(response: Response, request: Request, secret: str, embed: bool) -> None:
    """HttpOnly, SameSite=Strict for the consoles. The widget lives in a frame on the
    company's own site, where only a SameSite=None cookie is sent; it is Secure and
    Partitioned (kept per embedding site) and is only ever issued to end users."""
    if embed:  # written by hand: Starlette sets Partitioned only on Python 3.14+
        response.headers.append(
            "set-cookie",
            f"{EMBED_COOKIE}={secret}; Max-Age={12 * 3600}; Path=/; HttpOnly; Secure; "
            "SameSite=None; Partitioned",
        )
    else:
        response.set_cookie(
            COOKIE, secret, max_age=12 * 3600, path="/", httponly=True, samesite="strict",
            secure=request.url.scheme == "https",
        )  # fmt: skip


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(EMBED_COOKIE, path="/", httponly=True, samesite="none", secure=True)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/login?next={_quote(target)}", status_code=303)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def safe_next(value: str | None, role: str) -> str:
    """Where to go after signing in: a /ui path of this role's console, never elsewhere."""
    home = HOMES[role]
    if value and value.startswith(home) and "//" not in value and "\\" not in value:
        return value
    return home
