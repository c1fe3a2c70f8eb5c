"""Rendering console pages: Jinja2 templates (autoescaped), security headers, role checks.

Every page is served with a Content-Security-Policy that allows scripts, styles and
connections from this server only (no inline script), so even text that slipped past
escaping could not run. Pages never receive an API key; they get the session's CSRF token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from control.errors import Unauthorized
from control.tenants import Principal
from service.ui.auth import HOMES, ROLE_NAMES, current_session, login_redirect, principal_of
from service.ui.store import UiSession
from service.version import VERSION

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.autoescape = True  # every template, whatever its name

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors {ancestors}"
)


def secure_headers(response: Response, framable: bool = False) -> Response:
    """CSP and friends. `framable`: the chat widget, which companies frame on their site."""
    response.headers["Content-Security-Policy"] = _CSP.format(
        ancestors="*" if framable else "'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    if not framable:
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
    framable: bool = False,
) -> HTMLResponse:
    base = {"request": request, "version": VERSION, "role_names": ROLE_NAMES, "homes": HOMES}
    response = templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status_code
    )
    return secure_headers(response, framable)  # type: ignore[return-value]


class PageAccess:
    """The result of a page's sign-in and role check: either who is signed in (with the
    session) or the response to send instead (to the login page, or a 403 page)."""

    def __init__(
        self,
        session: UiSession | None = None,
        principal: Principal | None = None,
        response: Response | None = None,
    ) -> None:
        self.session = session
        self.principal = principal
        self.response = response

    def context(self) -> dict[str, Any]:
        assert self.session is not None and self.principal is not None
        return {
            "csrf": self.session.csrf,
            "tenant": self.principal.tenant,
            "role": self.principal.role,
            "embed": self.session.embed,
        }


def page_access(request: Request, roles: tuple[str, ...]) -> PageAccess:
    """Check a page's visitor: signed in, with a role that may open this page."""
    session = current_session(request)
    if session is None:
        return PageAccess(response=login_redirect(request))
    try:
        principal = principal_of(request.app.state.runtime, session.grant)
    except Unauthorized:
        return PageAccess(response=login_redirect(request))
    if principal.role not in roles:
        page = render(
            request,
            "denied.html",
            {
                "csrf": session.csrf,
                "role": principal.role,
                "tenant": principal.tenant,
                "needed": [ROLE_NAMES[r] for r in roles],
                "embed": session.embed,
            },
            status_code=403,
        )
        return PageAccess(response=page)
    return PageAccess(session, principal)
