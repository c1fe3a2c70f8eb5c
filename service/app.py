"""The FastAPI application: lifespan wiring, error format, routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from knowledge.errors import ClearlineError, DocumentNotFound
from service.errors import ServiceError
from service.jobs import JobRunner
from service.lock import DataDirLock
from service.offline import go_offline
from service.qa import QaWorker
from service.routes import agent_admin, conversations, health, knowledge, qa
from service.runtime import Runtime
from service.settings import Settings
from service.version import VERSION

logger = logging.getLogger(__name__)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


def create_app(settings: Settings | None = None, lock: DataDirLock | None = None) -> FastAPI:
    """Build the app; the lifespan takes the data-directory lock (unless the caller holds
    it already and passes it in) and opens the stores."""
    go_offline()
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = lock or DataDirLock(
            settings.data_dir, "clearline serve", f"http://{settings.host}:{settings.port}"
        )
        if lock is None:
            owned.acquire()
        runtime = Runtime(settings)
        runtime.embedder.warm_up()
        jobs = JobRunner(runtime)
        jobs.start()
        scorer = QaWorker(runtime.qa, settings.qa_interval_s)
        scorer.start()
        app.state.runtime = runtime
        app.state.jobs = jobs
        try:
            yield
        finally:
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

    @app.exception_handler(ClearlineError)
    async def clearline_error(request: Request, error: ClearlineError) -> JSONResponse:
        if isinstance(error, ServiceError):
            return _error(error.status_code, error.code, str(error))
        if isinstance(error, DocumentNotFound):
            return _error(404, "not_found", str(error))
        return _error(400, "bad_request", str(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return _error(error.status_code, code, str(error.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal_error", "internal error; the operator's log has details")

    app.include_router(health.router)
    app.include_router(knowledge.router)
    app.include_router(conversations.router)
    app.include_router(agent_admin.router)
    app.include_router(qa.router)
    return app
