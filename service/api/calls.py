"""What the routes and the pages call off the event loop, bounded in time: the request path
for an article, and a URL fetched and briefed. The page's form and ``POST /v1/briefings``
brief through here, so both answer alike (a page never imports a route module).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from service.briefing import LENGTHS, BriefingService
from service.cancellation import Cancellation, client_left, serve_within
from service.config import Settings
from service.ingest.runtime import Ingest, UrlRequest
from service.preprocess.minimum import MIN_WORDS
from service.results import Briefing
from service.storage.articles import Article

__all__ = ["brief_url_within_timeout", "brief_within_timeout"]


async def brief_within_timeout(
    service: BriefingService, article: Article, lengths: list[str] | None, timeout: float,
    receive: Callable[[], Awaitable[dict[str, Any]]] | None = None, *,
    language: str | None = None,
) -> Briefing:
    """``service.brief`` off the event loop, answered 503 ``timeout`` after ``timeout`` s
    (the API's route and the page's form both brief through here); a text shorter than
    ``MIN_WORDS`` words is refused (422 ``too_short``). ``receive`` (the ASGI request's)
    lets the work end as soon as the client goes away. ``language``: the output language
    asked for (None: the setting)."""
    return await _within(
        lambda cancellation: service.brief(
            article, lengths or LENGTHS, cancellation=cancellation, min_words=MIN_WORDS,
            language=language,
        ),
        timeout, receive,
    )


async def brief_url_within_timeout(
    ingest: Ingest, request: UrlRequest, lengths: list[str] | None, settings: Settings,
    receive: Callable[[], Awaitable[dict[str, Any]]] | None = None, *,
    language: str | None = None,
) -> Briefing:
    """The page at a URL fetched (bounded by BRIEFING_FETCH_TIMEOUT_S) and briefed (bounded
    by BRIEFING_REQUEST_TIMEOUT_S), off the event loop; with ``receive``, the briefing's
    work ends as soon as the client goes away (the page stays stored)."""
    return await _within(
        lambda cancellation: ingest.brief_url(
            request, lengths or LENGTHS, cancellation=cancellation, min_words=MIN_WORDS,
            language=language,
        ),
        settings.fetch_timeout_s + settings.request_timeout_s, receive,
    )


async def _within(
    call: Callable[[Cancellation], Briefing], timeout: float,
    receive: Callable[[], Awaitable[dict[str, Any]]] | None = None,
) -> Briefing:
    # The work ends with the request: at the timeout, or when the client goes away.
    cancellation = Cancellation(deadline=time.monotonic() + timeout)
    work = run_in_threadpool(call, cancellation)
    return await serve_within(
        work, cancellation, timeout_s=timeout,
        client_left=client_left(receive) if receive is not None else None,
    )
