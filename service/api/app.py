"""FastAPI app factory: the lifespan that opens the services, the one error handler, metrics,
and the routers of :mod:`service.api.routes`.

The engine, cache and store are built in the app's lifespan from the settings given to
:func:`create_app` (tests pass their own), so importing this module loads nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.api.bodies import describe
from service.api.deps import require_api_key
from service.api.routes import OPEN_ROUTERS, V1_ROUTERS
from service.briefing import BriefingService
from service.config import Settings, get_settings, warn_unknown_variables
from service.digest.scheduler import DailyRuntime
from service.errors import (
    BriefingError,
    Overloaded,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from service.ingest.runtime import Ingest
from service.logs import REQUEST_ID_HEADER, request_id_from, request_scope
from service.metrics import Metrics
from service.ratelimit import RateLimiter
from service.storage.retention import RetentionJob

log = logging.getLogger(__name__)
access = logging.getLogger("service.access")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app; the engine loads at startup, bounded by the model load timeout."""
    if settings is None:
        settings = get_settings()
        warn_unknown_variables()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await run_in_threadpool(BriefingService.open, settings, metrics)
        app.state.service = service
        # The daily digest job (and its scheduler when BRIEFING_DAILY_CRON is set).
        app.state.daily = await run_in_threadpool(
            DailyRuntime.open, settings, service, metrics=metrics
        )
        # Shared with the other replicas through Redis when it is configured.
        app.state.rate_limiter = (
            RateLimiter(settings.rate_limit, service.redis) if settings.rate_limit else None
        )
        retention = None
        if settings.retention_days and service.database is not None:
            retention = RetentionJob(
                service.database, settings.retention_days,
                interval_s=settings.retention_interval_s,
                on_deleted=lambda table, n: metrics.retention_deleted.labels(table).inc(n),
            )
            retention.start()
        # Pages by URL, and the feeds with their poller (BRIEFING_FEEDS_POLL_S; 0: off).
        app.state.ingest = await run_in_threadpool(Ingest, settings, service, metrics)
        app.state.ingest.start_polling()
        try:
            yield
        finally:
            await run_in_threadpool(app.state.ingest.close)  # after the feed being polled
            app.state.ingest = None
            if retention is not None:
                await run_in_threadpool(retention.stop)
            app.state.rate_limiter = None
            await run_in_threadpool(app.state.daily.close)  # a running digest finishes first
            app.state.daily = None
            app.state.service = None
            # The micro-batcher finishes what is queued before the cache and store close.
            close_engine = getattr(service.engine, "close", None)
            if close_engine is not None:
                await run_in_threadpool(close_engine)
            service.close()

    # /docs (Swagger UI) with its script and styles served by this process, not a CDN: a
    # self-hosted service may have no way out, and its readers' browsers need none. (No
    # /redoc: ReDoc fetches its logo from its own CDN whatever it is given.)
    app = FastAPIOffline(
        title="Briefing service",
        version="1",
        description="Short and long briefings of news articles from a local seq2seq model.",
        lifespan=lifespan,
        static_url="/docs/assets",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.service = None
    app.state.daily = None
    app.state.rate_limiter = None
    app.state.ingest = None
    app.state.metrics = metrics
    app.state.api_keys = [key.encode() for key in settings.api_key_list]
    if not app.state.api_keys:
        log.warning("BRIEFING_API_KEYS is not set: /v1/* is open to anyone who can reach it")

    @app.exception_handler(BriefingError)
    async def briefing_error(request: Request, exc: BriefingError) -> JSONResponse:
        headers = {}
        if isinstance(exc, Overloaded):
            metrics.overloaded.labels(exc.queue).inc()
        if isinstance(exc, RateLimited):
            metrics.rate_limited.inc()
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = "Bearer"
        if hasattr(exc, "retry_after_s"):
            headers["Retry-After"] = str(exc.retry_after_s)
        if exc.status >= 500:
            log.warning("%s %s answered %s: %s", request.method, request.url.path,
                        exc.status, exc.message)
        return JSONResponse(exc.to_body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(ValidationFailed(describe(exc)).to_body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = BriefingError(str(exc.detail), code=code).to_body()
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        return _internal_error(request)

    @app.middleware("http")
    async def observe(request: Request, call_next: Any) -> Response:
        """The request id (the client's X-Request-ID, else a new one) on every log line of
        the request and in the answer; one access line; the request metrics."""
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        started = time.perf_counter()
        with request_scope(request_id):
            try:
                response: Response = await call_next(request)
            except Exception:  # a bug: logged here, where the request id is known
                response = _internal_error(request)
            elapsed = time.perf_counter() - started
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            metrics.requests.labels(path, request.method, str(response.status_code)).inc()
            metrics.request_seconds.labels(path, request.method).observe(elapsed)
            access.info("%s %s %d %.1fms", request.method, request.url.path,
                        response.status_code, elapsed * 1000)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response

    for router in V1_ROUTERS:
        app.include_router(router, dependencies=[Depends(require_api_key)])
    for router in OPEN_ROUTERS:
        app.include_router(router)
    # The pages call the same services, key check and request model; imported here because
    # they import from this package.
    from service.web import install_pages

    install_pages(app, settings)
    return app


def _internal_error(request: Request) -> JSONResponse:
    """A bug: logged with its traceback (call from an ``except`` block), answered 500."""
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    body = BriefingError("internal error; the request was logged").to_body()
    return JSONResponse(body, status_code=500)


__all__ = ["create_app"]
