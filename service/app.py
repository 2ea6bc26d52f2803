"""The ASGI app: the API (:mod:`service.api`) and the pages (:mod:`service.web`) over the
same services; the lifespan that opens them, the one error handler, metrics.

The engine, cache and store are opened in the app's lifespan (:mod:`service.api.startup`)
from the settings given to :func:`create_app` (tests pass their own), so importing this
module loads nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.bodies import describe
from service.api.deps import require_api_key
from service.api.routes import OPEN_ROUTERS, V1_ROUTERS
from service.api.startup import Opened, Startup
from service.config import Settings, get_settings, warn_unknown_variables
from service.errors import (
    BriefingError,
    Overloaded,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from service.logs import REQUEST_ID_HEADER, request_id_from, request_scope
from service.metrics import Metrics
from service.web import install_pages

log = logging.getLogger(__name__)
access = logging.getLogger("service.access")


def prepare_routes(app: FastAPI) -> None:
    """Match a path that no route has against every route. FastAPI builds a route's
    request handling (its parameters' and its answer's validators among it) when a request
    is first matched against its router: ~70 ms for this API's routes, which the first
    request after ``/readyz`` said ready would otherwise pay. Nothing is served or logged."""
    scope = {"type": "http", "method": "GET", "path": "/.well-known/briefing-warm-up",
             "root_path": "", "headers": [], "query_string": b""}
    for route in app.router.routes:
        route.matches(scope)


def create_app(
    settings: Settings | None = None, *, open_in_background: bool = False,
    on_start_failed: Callable[[str], None] | None = None,
) -> FastAPI:
    """The ASGI app; its lifespan opens the services (the engine loads, bounded by the model
    load timeout; see :mod:`service.api.startup`).

    ``open_in_background`` (``briefing serve``): the lifespan yields at once, so the port
    answers while the services open on a thread; ``/readyz`` and the routes answer 503
    ``starting`` until they are open, and ``on_start_failed`` is told the reason if they
    cannot be. Otherwise (an app embedded in-process) the startup ends when they are open,
    and a failure fails it.
    """
    if settings is None:
        settings = get_settings()
        warn_unknown_variables()
    metrics = Metrics()

    def publish(opened: Opened) -> None:
        app.state.service = opened.service
        app.state.articles = opened.articles
        app.state.daily = opened.daily
        app.state.rate_limiter = opened.rate_limiter
        app.state.ingest = opened.ingest

    def unpublish() -> None:
        app.state.ingest = None
        app.state.rate_limiter = None
        app.state.daily = None
        app.state.service = None
        app.state.articles = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        startup = Startup(settings, metrics, on_failed=on_start_failed,
                          prepare_routes=lambda: prepare_routes(app))
        app.state.startup = startup
        if open_in_background:
            threading.Thread(target=startup.run, args=(publish,), name="startup",
                             daemon=True).start()
        else:
            await run_in_threadpool(startup.run, publish)
            startup.raise_failure()
        try:
            yield
        finally:
            if startup.stop():
                unpublish()
                await run_in_threadpool(startup.opened.close)
            elif not await run_in_threadpool(startup.wait, startup.stop_wait_s):
                # A model load cannot be interrupted; its thread does not keep the process.
                log.warning("stopping without waiting longer for the start (still %s after "
                            "%gs)", startup.stage, startup.stop_wait_s)

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
    app.state.startup = Startup(settings, metrics)  # until the lifespan starts one
    app.state.service = None
    app.state.articles = None
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

    # A plain ASGI middleware, not ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware
    # runs each request in a task group with wrapped streams, which cost a cache hit more
    # than the lookup itself (issue 25).
    app.add_middleware(_Observe, metrics=metrics)

    for router in V1_ROUTERS:
        app.include_router(router, dependencies=[Depends(require_api_key)])
    for router in OPEN_ROUTERS:
        app.include_router(router)
    # The pages call the same services, key check and request model.
    install_pages(app, settings)
    return app


class _Observe:
    """The request id (the client's X-Request-ID, else a new one) on every log line of the
    request and in the answer; one access line; the request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope.get("headers", ()):
            if name == _REQUEST_ID_KEY:
                header = value.decode("latin-1")
                break
        request_id = request_id_from(header)
        raw_id = request_id.encode("latin-1")
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), (_REQUEST_ID_KEY, raw_id)]
            await send(message)

        with request_scope(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:  # a bug: logged here, where the request id is known
                if response_started:
                    raise
                await _internal_error(Request(scope))(scope, receive, send_with_id)
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(path, method, str(status)).inc()
            self.metrics.request_seconds.labels(path, method).observe(elapsed)
            access.info("%s %s %d %.1fms", method, scope["path"], status, elapsed * 1000)


_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")


def _internal_error(request: Request) -> JSONResponse:
    """A bug: logged with its traceback (call from an ``except`` block), answered 500."""
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    body = BriefingError("internal error; the request was logged").to_body()
    return JSONResponse(body, status_code=500)


__all__ = ["create_app"]
