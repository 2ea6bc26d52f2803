"""FastAPI app factory: routes, the one error handler, metrics.

The engine, cache and store are built in the app's lifespan from the settings given to
:func:`create_app` (tests pass their own), so importing this module loads nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.briefing import BriefingService
from service.config import Settings, get_settings
from service.errors import (
    BriefingError,
    InvalidEncoding,
    InvalidJSON,
    Overloaded,
    PayloadTooLarge,
    RequestTimeout,
    ServiceError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from service.metrics import CONTENT_TYPE, Metrics
from service.preprocess.html import as_html_document
from service.scheduler import DailyRuntime
from service.store import Article

log = logging.getLogger(__name__)


class BriefingRequest(BaseModel):
    """JSON body of ``POST /v1/briefings``."""

    text: str = Field(description="The article text")
    title: str | None = Field(None, max_length=1_000)
    source: str | None = Field(None, max_length=500)
    url: str | None = Field(None, max_length=4_000)
    published_at: str | None = Field(None, max_length=100)
    lengths: list[Literal["short", "long"]] | None = Field(
        None, description="Which briefings to write; default both"
    )


_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": BriefingRequest.model_json_schema()},
            "text/plain": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        },
    }
}


def _service(request: Request) -> BriefingService:
    service: BriefingService | None = getattr(request.app.state, "service", None)
    if service is None:
        raise ServiceError("the service is still starting; retry in a few seconds")
    return service


ServiceDep = Annotated[BriefingService, Depends(_service)]


def _daily(request: Request) -> DailyRuntime:
    daily: DailyRuntime | None = getattr(request.app.state, "daily", None)
    if daily is None:
        raise ServiceError("the service is still starting; retry in a few seconds")
    return daily


DailyDep = Annotated[DailyRuntime, Depends(_daily)]


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit} bytes")
    body = bytearray()
    async for part in request.stream():
        body.extend(part)
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    return bytes(body)


def _decode_text(body: bytes, charset: str | None) -> str:
    """Text from a text/plain body: BOMs honoured, invalid bytes refused with a clear 400."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        charset = "utf-16"
    elif body.startswith(b"\xef\xbb\xbf"):
        charset = "utf-8-sig"
    elif charset is None and len(body) >= 4 and body.count(0) * 3 >= len(body):
        # UTF-16 without a BOM (Windows tools): every other byte of ASCII text is NUL.
        charset = "utf-16-le" if body[1::2].count(0) > body[0::2].count(0) else "utf-16-be"
    try:
        return body.decode(charset or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        raise InvalidEncoding(
            f"the body is not valid {charset or 'utf-8'} text: send UTF-8, or name the "
            "charset in the Content-Type header"
        ) from exc


_TEXT_TYPES = ("text/plain", "text/html", "application/xhtml+xml")


async def _parse_article(request: Request, limit: int) -> tuple[Article, list[str] | None]:
    media = request.headers.get("content-type", "")
    media_type, _, params = media.partition(";")
    media_type = media_type.strip().lower()
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    if media_type not in _TEXT_TYPES and media_type != "application/json" and not (
        media_type.endswith("+json")
    ):
        raise UnsupportedMediaType(
            f"Content-Type {media_type or '(none)'!r} is not supported: send "
            "application/json with a `text` field, or text/plain (or text/html) with the "
            "article as the body"
        )
    body = await _read_body(request, limit)
    if media_type == "text/plain":
        return Article(text=_decode_text(body, charset)), None
    if media_type in _TEXT_TYPES:
        # A page: preprocessing extracts its main text (service.preprocess.html).
        return Article(text=as_html_document(_decode_text(body, charset))), None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidJSON(f"the body is not valid JSON: {exc}") from exc
    try:
        parsed = BriefingRequest.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(_describe(exc)) from exc
    article = Article(
        text=parsed.text, title=parsed.title, source=parsed.source, url=parsed.url,
        published_at=parsed.published_at,
    )
    return article, list(parsed.lengths) if parsed.lengths else None


def _describe(exc: ValidationError | RequestValidationError) -> str:
    """One line per problem, naming the field: what a client needs to fix the request."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def _key_matches(token: bytes, keys: list[bytes]) -> bool:
    """Constant-time comparison against every key, so timing reveals neither key nor match."""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(token, key)
    return matched


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app; the engine loads at startup, bounded by the model load timeout."""
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await run_in_threadpool(BriefingService.open, settings, metrics)
        app.state.service = service
        # The daily digest job (and its scheduler when BRIEFING_DAILY_CRON is set).
        app.state.daily = await run_in_threadpool(
            DailyRuntime.open, settings, service, metrics=metrics
        )
        try:
            yield
        finally:
            await run_in_threadpool(app.state.daily.close)  # a running digest finishes first
            app.state.daily = None
            app.state.service = None
            # The micro-batcher finishes what is queued before the cache and store close.
            close_engine = getattr(service.engine, "close", None)
            if close_engine is not None:
                await run_in_threadpool(close_engine)
            service.close()

    app = FastAPI(
        title="Briefing service",
        version="1",
        description="Short and long briefings of news articles from a local seq2seq model.",
        lifespan=lifespan,
    )
    app.state.service = None
    app.state.daily = None
    app.state.metrics = metrics

    @app.exception_handler(BriefingError)
    async def briefing_error(request: Request, exc: BriefingError) -> JSONResponse:
        headers = {}
        if isinstance(exc, Overloaded):
            metrics.overloaded.labels(exc.queue).inc()
        if hasattr(exc, "retry_after_s"):
            headers["Retry-After"] = str(exc.retry_after_s)
        if exc.status >= 500:
            log.warning("%s %s answered %s: %s", request.method, request.url.path,
                        exc.status, exc.message)
        return JSONResponse(exc.to_body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(ValidationFailed(_describe(exc)).to_body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = BriefingError(str(exc.detail), code=code).to_body()
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        body = BriefingError("internal error; the request was logged").to_body()
        return JSONResponse(body, status_code=500)

    api_keys = [key.encode() for key in settings.api_key_list]
    if not api_keys:
        log.warning("BRIEFING_API_KEYS is not set: /v1/* is open to anyone who can reach it")

    @app.middleware("http")
    async def require_api_key(request: Request, call_next: Any) -> Response:
        """/v1/* needs `Authorization: Bearer <key>` when keys are configured."""
        if api_keys and request.url.path.startswith("/v1/"):
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if not _key_matches(token.strip().encode(), api_keys) or scheme.lower() != "bearer":
                error = Unauthorized(
                    "missing or wrong API key: send the header `Authorization: Bearer <key>`"
                )
                return JSONResponse(error.to_body(), status_code=error.status,
                                    headers={"WWW-Authenticate": "Bearer"})
        response: Response = await call_next(request)
        return response

    @app.middleware("http")
    async def record_metrics(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response: Response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            metrics.requests.labels(path, request.method, str(status)).inc()
            metrics.request_seconds.labels(path, request.method).observe(
                time.perf_counter() - started
            )

    @app.post("/v1/briefings", openapi_extra=_BODY_DOC)
    async def create_briefing(request: Request, service: ServiceDep) -> dict[str, Any]:
        """Write a short and a long briefing of an article (JSON, text/plain or text/html)."""
        article, lengths = await _parse_article(request, settings.max_body_bytes)
        timeout = settings.request_timeout_s
        work = run_in_threadpool(
            service.brief, article, lengths or ("short", "long"),
            deadline=time.monotonic() + timeout,
        )
        try:
            return await asyncio.wait_for(work, timeout)
        except TimeoutError as exc:
            raise RequestTimeout(
                f"the briefing took longer than {timeout:g}s (BRIEFING_REQUEST_TIMEOUT_S); "
                "the article is stored and the work stops at its next step. Retry later"
            ) from exc

    @app.get("/v1/briefings/{briefing_id}")
    async def get_briefing(briefing_id: str, service: ServiceDep) -> dict[str, Any]:
        """A briefing written earlier, by its id."""
        return await run_in_threadpool(service.get, briefing_id)

    @app.get("/v1/digests/{day}")
    async def get_digest(day: str, daily: DailyDep) -> dict[str, Any]:
        """The digest of a local date (YYYY-MM-DD in BRIEFING_TIMEZONE) and its delivery."""
        return await run_in_threadpool(daily.show, day)

    @app.post("/v1/digests/{day}")
    async def create_digest(
        day: str, daily: DailyDep, deliver: bool = True, force: bool = False
    ) -> dict[str, Any]:
        """Build a local date's digest and deliver it to Slack once (force: re-send, or send
        a day that is not over yet)."""
        return await run_in_threadpool(daily.build, day, send=deliver, force=force)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        """Ready to brief: says which engine and model serve, and why if it is a fallback."""
        service: BriefingService | None = request.app.state.service
        if service is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        engine = service.engine
        return JSONResponse({
            "status": "ready",
            "engine": engine.name,
            "model": engine.model_id,
            "fallback_reason": service.choice.fallback_reason,
            "prompt_version": service.prompts.version,
        })

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        """Prometheus metrics in the text format."""
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return app


__all__ = ["BriefingRequest", "create_app"]
