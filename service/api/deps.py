"""Route dependencies: what a route needs from the running app, as type aliases, and the
API key check (a FastAPI security dependency, so OpenAPI shows the bearer scheme).

Each is ``async``: FastAPI runs a plain ``def`` dependency on the thread pool, and a hop
there and back for each attribute read cost a cache hit more than the lookup itself; what
may block (the shared rate limit's Redis call) goes to the pool explicitly."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from service.api.startup import Startup
from service.articles import ArticleListing
from service.briefing import BriefingService
from service.config import Settings
from service.digest.scheduler import DailyRuntime
from service.errors import ServiceError, Unauthorized
from service.ingest.runtime import Ingest
from service.ratelimit import RateLimiter, caller_identity


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _started(request: Request, name: str) -> Any:
    """What the start opened as ``app.state.<name>``; until then 503 ``starting`` with
    Retry-After (or 503 saying the start failed, or that the service is shutting down)."""
    startup: Startup = request.app.state.startup
    startup.check()
    opened = getattr(request.app.state, name, None)
    if opened is None:  # stopping: the lifespan took it back
        raise ServiceError("the service is shutting down")
    return opened


async def _service(request: Request) -> BriefingService:
    service: BriefingService = _started(request, "service")
    return service


async def _articles(request: Request) -> ArticleListing:
    articles: ArticleListing = _started(request, "articles")
    return articles


async def _daily(request: Request) -> DailyRuntime:
    daily: DailyRuntime = _started(request, "daily")
    return daily


async def _ingest(request: Request) -> Ingest:
    ingest: Ingest = _started(request, "ingest")
    return ingest


SettingsDep = Annotated[Settings, Depends(_settings)]
IngestDep = Annotated[Ingest, Depends(_ingest)]
ServiceDep = Annotated[BriefingService, Depends(_service)]
ArticlesDep = Annotated[ArticleListing, Depends(_articles)]
DailyDep = Annotated[DailyRuntime, Depends(_daily)]


def _key_matches(token: bytes, keys: list[bytes]) -> bool:
    """Constant-time comparison against every key, so timing reveals neither key nor match."""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(token, key)
    return matched


# auto_error=False: a missing or malformed header gets our error body, not FastAPI's 403.
_bearer = HTTPBearer(
    auto_error=False,
    description="An API key from BRIEFING_API_KEYS (when none are set, the API is open).",
)


async def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """`Authorization: Bearer <key>` with one of BRIEFING_API_KEYS, when keys are set; then
    the rate limit (429 rate_limited), when BRIEFING_RATE_LIMIT is set."""
    keys: list[bytes] = request.app.state.api_keys
    token = credentials.credentials.strip().encode() if credentials else b""
    if keys and (not _key_matches(token, keys) or credentials is None):
        raise Unauthorized(
            "missing or wrong API key: send the header `Authorization: Bearer <key>`"
        )
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:  # BRIEFING_RATE_LIMIT, per key (per address when the API is open)
        address = request.client.host if request.client else None
        await run_in_threadpool(limiter.check,  # Redis, when shared: off the event loop
                                caller_identity(token if keys else None, address))
