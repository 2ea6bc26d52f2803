"""``/v1/briefings``: brief an article; read a briefing written earlier."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from service.api.bodies import BODY_DOC, body_limits, parse_article
from service.api.deps import IngestDep, ServiceDep, SettingsDep
from service.api.models import Briefing, error_responses
from service.briefing import LENGTHS, BriefingService
from service.config import Settings
from service.errors import RequestTimeout
from service.ingest.runtime import Ingest, UrlRequest
from service.store import Article

router = APIRouter(prefix="/v1/briefings", tags=["briefings"])


async def brief_within_timeout(
    service: BriefingService, article: Article, lengths: list[str] | None, timeout: float
) -> dict[str, Any]:
    """``service.brief`` off the event loop, answered 503 ``timeout`` after ``timeout`` s
    (the API's route and the page's form both brief through here)."""
    return await _within(
        lambda deadline: service.brief(article, lengths or LENGTHS, deadline=deadline), timeout
    )


async def brief_url_within_timeout(
    ingest: Ingest, request: UrlRequest, lengths: list[str] | None, settings: Settings
) -> dict[str, Any]:
    """The page at a URL fetched (bounded by BRIEFING_FETCH_TIMEOUT_S) and briefed (bounded
    by BRIEFING_REQUEST_TIMEOUT_S), off the event loop."""
    return await _within(
        lambda deadline: ingest.brief_url(request, lengths or LENGTHS, deadline=deadline),
        settings.fetch_timeout_s + settings.request_timeout_s,
    )


async def _within(call: Callable[[float], dict[str, Any]], timeout: float) -> dict[str, Any]:
    work = run_in_threadpool(call, time.monotonic() + timeout)
    try:
        return await asyncio.wait_for(work, timeout)
    except TimeoutError as exc:
        raise RequestTimeout(
            f"the briefing took longer than {timeout:g}s (BRIEFING_REQUEST_TIMEOUT_S); "
            "the article is stored and the work stops at its next step. Retry later"
        ) from exc


@router.post(
    "", response_model=Briefing, response_model_exclude_unset=True, openapi_extra=BODY_DOC,
    responses=error_responses(400, 401, 413, 415, 429, 502, 503, 504),
)
async def create_briefing(
    request: Request, service: ServiceDep, settings: SettingsDep, ingest: IngestDep
) -> dict[str, Any]:
    """Write a short and a long briefing of an article (JSON, text/plain or text/html), or
    of the page at a URL (JSON `{"url": ...}`, fetched behind the address guard)."""
    article, lengths = await parse_article(request, body_limits(settings))
    if isinstance(article, UrlRequest):
        return await brief_url_within_timeout(ingest, article, lengths, settings)
    return await brief_within_timeout(service, article, lengths, settings.request_timeout_s)


@router.get(
    "/{briefing_id}", response_model=Briefing, response_model_exclude_unset=True,
    responses=error_responses(401, 404, 429, 503),
)
async def get_briefing(briefing_id: str, service: ServiceDep) -> dict[str, Any]:
    """A briefing written earlier, by its id."""
    return await run_in_threadpool(service.get, briefing_id)
