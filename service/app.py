"""The FastAPI application: lifespan wiring, error format, routers."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from control.db import DamagedDatabase, is_busy, is_damaged
from control.regional import request_scope
from evaluation.worker import QaWorker
from knowledge.errors import ClearlineError, DamagedFile
from privacy.memory import zero_new_allocations
from privacy.retention import RetentionRunner
from service.body_limit import BodyLimit
from service.errors import (
    BUSY,
    BUSY_RETRY_AFTER_S,
    DAMAGED,
    http_extras,
    http_message,
    http_status,
    validation_message,
)
from service.head import HeadAsGet, answers_head
from service.jobs import JobRunner
from service.lock import DataDirLock
from service.offline import go_offline
from service.privacy_wiring import privacy_for
from service.rate_limits import RateLimits
from service.retention_task import RetentionSchedule
from service.routes import agent_admin, connections, conversations, health, knowledge, qa
from service.routes import ai as ai_routes
from service.routes import audit as audit_routes
from service.routes import customer as customer_routes
from service.routes import erasure as erasure_routes
from service.routes import privacy as privacy_routes
from service.runtime import Runtime
from service.settings import Settings
from service.ui.router import router as ui_router
from service.version import VERSION

logger = logging.getLogger(__name__)


def _error(
    status: int, code: str, message: str,
    headers: dict[str, str] | None = None, fields: dict[str, object] | None = None,
) -> JSONResponse:  # fmt: skip
    body = {"error": {"code": code, "message": message, **(fields or {})}}
    return JSONResponse(status_code=status, content=body, headers=headers)


class RequestRegion:
    """Gives each request its own region scope; authentication enters the caller's tenant's
    region (service/deps.py), so the request's sessions reach that region's database."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with request_scope():
            await self.app(scope, receive, send)


def allowed_methods(app: FastAPI, path: str) -> str:
    """The methods of every route at `path`, e.g. "DELETE, PUT" ("" if none), HEAD where
    service/head.py answers it: the 405 that routing raises names only the first route that
    matched the path."""
    methods: set[str] = set()
    for route in iter_route_contexts(app.router.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            methods |= route.methods
    if answers_head(app, path):  # service/head.py: GET routes without side effects
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def create_app(
    settings: Settings | None = None,
    lock: DataDirLock | None = None,
    runtime: Runtime | None = None,
) -> FastAPI:
    """Build the app; the lifespan takes the data-directory lock (unless the caller holds
    it already and passes it in) and opens the stores (unless the caller opened them: then
    a damaged database is the caller's one error line, not a server traceback). The
    lifespan closes the runtime either way."""
    go_offline()
    zero_new_allocations()  # no freed text in files native code writes whole
    settings = settings or Settings()
    opened = runtime

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = lock or DataDirLock(
            settings.data_dir, "clearline serve", f"http://{settings.host}:{settings.port}"
        )
        if lock is None:
            owned.acquire()
        runtime = opened or Runtime(settings)
        runtime.embedder.warm_up()
        for _region in runtime.sessions.each_region():  # no review runs before this
            runtime.conversations.release_interrupted_reviews()
        jobs = JobRunner(runtime)
        jobs.start()
        scorer = QaWorker(runtime.scoring, runtime.sessions.each_region, settings.qa_interval_s)
        scorer.start()
        app.state.runtime = runtime
        app.state.jobs = jobs
        app.state.privacy = privacy = privacy_for(runtime)  # one lock for privacy operations
        retention = RetentionSchedule(
            lambda: RetentionRunner(privacy.places),
            runtime.sessions.each_region,
            settings.retention_interval_s,
        )
        retention.start()
        try:
            yield
        finally:
            retention.stop()
            scorer.stop()
            jobs.stop()
            runtime.close()
            owned.release()

    app = FastAPI(
        title="Clearline",
        version=VERSION,
        description="Customer-service AI agent that answers only from a company's knowledge.",
        lifespan=lifespan,
    )
    app.state.rate_limits = RateLimits(settings)
    app.add_middleware(RequestRegion)
    app.add_middleware(BodyLimit, max_mb=settings.max_request_mb)
    app.add_middleware(HeadAsGet)

    @app.exception_handler(ClearlineError)
    async def clearline_error(request: Request, error: ClearlineError) -> JSONResponse:
        status, code = http_status(error)
        return _error(status, code, http_message(error), *http_extras(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        headers = dict(error.headers or {})
        if error.status_code == 405:  # RFC 9110: a 405 lists the methods the path has
            allow = allowed_methods(app, request.scope["path"])
            headers["Allow"] = allow or headers.get("Allow", "")
        return _error(error.status_code, code, str(error.detail), headers or None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        message = validation_message(error, request.headers.get("content-type"))
        return _error(422, "invalid_request", message)

    @app.exception_handler(DamagedFile)
    async def damaged(request: Request, error: DamagedFile) -> JSONResponse:
        logger.error("%s %s: %s", request.method, request.url.path, error)
        return _error(503, error.code, DAMAGED)

    @app.exception_handler(sqlite3.DatabaseError)
    async def database_error(request: Request, error: sqlite3.DatabaseError) -> JSONResponse:
        if is_busy(error):
            return await busy(request, error)
        if not is_damaged(error):  # a store that opens SQLite itself; its file is not known
            return await unexpected(request, error)
        return await damaged(request, DamagedDatabase(f"in {settings.data_dir}", str(error)))

    @app.exception_handler(DBAPIError)  # SQLAlchemy's wrapper (damaged files: control/db.py)
    async def wrapped_database_error(request: Request, error: DBAPIError) -> JSONResponse:
        if is_busy(error):
            return await busy(request, error)
        return await unexpected(request, error)

    async def busy(request: Request, error: Exception) -> JSONResponse:
        logger.warning("%s %s: %s (gave up waiting for the lock)",
                       request.method, request.url.path, error)  # fmt: skip
        headers = {"Retry-After": str(BUSY_RETRY_AFTER_S)}
        return _error(503, "busy", BUSY, headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal_error", "internal error; the operator's log has details")

    app.include_router(health.router)
    app.include_router(knowledge.router)
    app.include_router(conversations.router)
    app.include_router(agent_admin.router)
    app.include_router(connections.router)
    app.include_router(qa.router)
    app.include_router(privacy_routes.router)
    app.include_router(erasure_routes.router)
    app.include_router(audit_routes.router)
    app.include_router(customer_routes.router)
    app.include_router(ai_routes.router)
    app.include_router(ui_router)
    return app
