"""``/v1/briefings``: brief an article; read a briefing written earlier."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from service.api.bodies import BODY_DOC, body_limits, parse_article
from service.api.deps import IngestDep, ServiceDep, SettingsDep
from service.api.models import Briefing, error_responses
from service.briefing import LENGTHS, BriefingService
from service.cancellation import Cancellation, client_left, serve_within
from service.config import Settings
from service.errors import MethodNotAllowed
from service.ingest.runtime import Ingest, UrlRequest
from service.preprocess.minimum import MIN_WORDS
from service.store import Article

router = APIRouter(prefix="/v1/briefings", tags=["briefings"])


async def brief_within_timeout(
    service: BriefingService, article: Article, lengths: list[str] | None, timeout: float,
    receive: Callable[[], Awaitable[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """``service.brief`` off the event loop, answered 503 ``timeout`` after ``timeout`` s
    (the API's route and the page's form both brief through here); a text shorter than
    ``MIN_WORDS`` words is refused (422 ``too_short``). ``receive`` (the ASGI request's)
    lets the work end as soon as the client goes away."""
    return await _within(
        lambda cancellation: service.brief(
            article, lengths or LENGTHS, cancellation=cancellation, min_words=MIN_WORDS
        ),
        timeout, receive,
    )


async def brief_url_within_timeout(
    ingest: Ingest, request: UrlRequest, lengths: list[str] | None, settings: Settings,
    receive: Callable[[], Awaitable[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The page at a URL fetched (bounded by BRIEFING_FETCH_TIMEOUT_S) and briefed (bounded
    by BRIEFING_REQUEST_TIMEOUT_S), off the event loop; with ``receive``, the briefing's
    work ends as soon as the client goes away (the page stays stored)."""
    return await _within(
        lambda cancellation: ingest.brief_url(
            request, lengths or LENGTHS, cancellation=cancellation, min_words=MIN_WORDS
        ),
        settings.fetch_timeout_s + settings.request_timeout_s, receive,
    )


async def _within(
    call: Callable[[Cancellation], dict[str, Any]], timeout: float,
    receive: Callable[[], Awaitable[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    # The work ends with the request: at the timeout, or when the client goes away.
    cancellation = Cancellation(deadline=time.monotonic() + timeout)
    work = run_in_threadpool(call, cancellation)
    return await serve_within(
        work, cancellation, timeout_s=timeout,
        client_left=client_left(receive) if receive is not None else None,
    )


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
        return await brief_url_within_timeout(ingest, article, lengths, settings,
                                              request.receive)
    return await brief_within_timeout(
        service, article, lengths, settings.request_timeout_s, request.receive
    )


@router.get("", include_in_schema=False)
async def list_briefings() -> JSONResponse:
    """There is no list of briefings: a GET here (a browser, a curl without --data) is told
    to POST, in the API's error body, with the Allow header a 405 carries."""
    error = MethodNotAllowed(
        "/v1/briefings takes POST, not GET: POST an article here to brief it (JSON "
        '{"text": ...} or {"url": ...}, text/plain or text/html); GET /v1/briefings/{id} '
        "reads a briefing written earlier, and GET /v1/articles lists the articles",
        allow=("POST",),
    )
    return JSONResponse(error.to_body(), status_code=error.status,
                        headers={"Allow": ", ".join(error.allow)})


@router.get(
    "/{briefing_id}", response_model=Briefing, response_model_exclude_unset=True,
    responses=error_responses(401, 404, 429, 503),
)
async def get_briefing(briefing_id: str, service: ServiceDep) -> dict[str, Any]:
    """A briefing written earlier, by its id."""
    return await run_in_threadpool(service.get, briefing_id)
