"""HEAD for the routes that have no side effects, answered as GET without the body.

Uptime monitors, CDNs and link checkers send HEAD. It is answered only where a GET changes
nothing: the health check, the chat widget's script and the console's static files. Every
other route answers HEAD with 405 (and `Allow`): GET `/ui/login?token=...` redeems a
one-time console link, so a link scanner's HEAD must not reach it, and API reads may be
rate-counted or audited.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEAD_PATHS = frozenset({"/v1/health", "/ui/widget.js"})
HEAD_PREFIXES = ("/ui/static/",)


def answers_head(path: str) -> bool:
    """True for a path whose GET has no side effects, so HEAD is answered there."""
    return path in HEAD_PATHS or path.startswith(HEAD_PREFIXES)


class HeadAsGet:
    """ASGI middleware: HEAD on `answers_head` paths runs as GET; the status and headers
    (Content-Length included) are sent, the body is not."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or not answers_head(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
