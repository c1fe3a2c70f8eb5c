"""A cap on request bodies, enforced before the app reads them.

Without it a client could make the server read a body of any size into memory before a
route refused it (a 30 MB JSON message was read whole before its 422). Every request except
knowledge uploads, which stream each file to disk under their own per-file and file-count
limits (service/uploads.py), is refused with 413 in the usual error shape when its
Content-Length is over the cap; a body without Content-Length is read up to the cap, then
refused. Nothing is handed to the app in either case.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_PATHS = frozenset({"/v1/knowledge/sources"})


class BodyLimit:
    """ASGI middleware: 413 for a request body over `max_mb` megabytes (uploads excepted)."""

    def __init__(self, app: ASGIApp, max_mb: float) -> None:
        self.app = app
        self.max_mb = max_mb
        self.max_bytes = int(max_mb * 1048576)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UPLOAD_PATHS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = (
            f"the request body is more than the {self.max_mb:g} MB limit for one "
            "request; send less (files go to POST /v1/knowledge/sources, which has its own "
            "limits), or ask an operator to raise CLEARLINE_MAX_REQUEST_MB"
        )
        body = {"error": {"code": "payload_too_large", "message": message}}
        await JSONResponse(status_code=413, content=body)(scope, receive, send)
