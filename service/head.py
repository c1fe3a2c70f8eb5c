"""HEAD for the GET routes that change nothing, answered as GET without the body.

Uptime monitors, CDNs and link checkers send HEAD. It is answered, with the status and
headers GET would give (authentication included: no key, 401), only on the GET routes
listed in `HEAD_ROUTES`, each read to have no side effect beyond what any request has (a
failed authentication still counts against the caller's address, as for GET, so HEAD is no
free way to guess keys). The GET routes in `NO_HEAD` change something, so HEAD there gets
405 with `Allow`: GET `/ui/login?token=...` redeems a one-time console link, which a link
scanner's HEAD must not use up. Every GET route is in one list or the other (a test checks
it); FastAPI's own /openapi.json and /docs pages answer HEAD themselves.
"""

from __future__ import annotations

from fastapi.routing import iter_route_contexts
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEAD_ROUTES = frozenset(
    {
        # liveness, the widget script and the consoles' files
        "/v1/health",
        "/ui/widget.js",
        "/ui/static/{path:path}",
        # console pages: they check the session and render, or redirect to sign in
        "/ui",
        "/ui/",
        "/ui/chat",
        "/ui/admin",
        "/ui/inbox",
        "/ui/qa",
        "/ui/qa/traces/{trace_id}",
        # the consoles' reads
        "/ui/admin/api/keys",
        "/ui/inbox/api/drafts/{message_id}/effect",
        "/ui/qa/api/queue",
        # /v1 reads: neither audited nor rate-counted
        "/v1/jobs/{job_id}",
        "/v1/knowledge/sources",
        "/v1/agent/config",
        "/v1/features",
        "/v1/procedures",
        "/v1/procedures/{procedure_id}",
        "/v1/traces/{trace_id}",
        "/v1/actions/connections",
        "/v1/actions/connections/{name}",
        "/v1/qa/queue",
        "/v1/qa/reviews",
        "/v1/qa/report",  # its scratch file is removed before the reply
        "/v1/conversations/{conversation_id}/redactions",
        "/v1/privacy/settings",
        "/v1/privacy/retention",
        "/v1/audit",
        "/v1/audit/verify",
        "/v1/customer-control",
        "/v1/ai/features",
        "/v1/ai/usage",
    }
)

_RATE_COUNTED = (
    "counted against the conversations rate limit (per address, before the key is "
    "checked), which end users' messages need"
)
NO_HEAD: dict[str, str] = {
    "/ui/login": "with ?token= it redeems a one-time link, opens a session and audits it",
    "/ui/chat/api/conversation": "it records the replies in the session's data; " + _RATE_COUNTED,
    "/v1/qa/golden": "each export is audited (qa.golden.export)",
    "/v1/conversations/{conversation_id}": _RATE_COUNTED,
    "/v1/handoffs": _RATE_COUNTED,
    "/v1/drafts": _RATE_COUNTED,
}


def get_routes_at(app: Starlette, path: str) -> list[str]:
    """The templates of the app's GET routes whose pattern matches `path`."""
    return [
        route.path
        for route in iter_route_contexts(app.router.routes)
        if route.methods
        and "GET" in route.methods
        and route.path is not None
        and route.path_regex.match(path)
    ]


def answers_head(app: Starlette, path: str) -> bool:
    """True when a GET route matches `path` and every one that does is in HEAD_ROUTES (so
    route order never decides whether HEAD reaches a route with side effects)."""
    templates = get_routes_at(app, path)
    return bool(templates) and all(t in HEAD_ROUTES for t in templates)


class HeadAsGet:
    """ASGI middleware: HEAD where `answers_head` runs as GET; the status and headers
    (Content-Length included) are sent, the body is not."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "HEAD"
            or not answers_head(scope["app"], scope["path"])
        ):
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
