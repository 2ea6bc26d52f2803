"""``/v1/briefings``: brief an article; read a briefing written earlier."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from service.api.bodies import BODY_DOC, body_limits, parse_article
from service.api.calls import brief_url_within_timeout, brief_within_timeout
from service.api.deps import IngestDep, ServiceDep, SettingsDep
from service.api.models import Briefing, error_responses
from service.errors import MethodNotAllowed
from service.ingest.runtime import UrlRequest

router = APIRouter(prefix="/v1/briefings", tags=["briefings"])


@router.post(
    "", response_model=Briefing, response_model_exclude_unset=True, openapi_extra=BODY_DOC,
    responses=error_responses(400, 401, 413, 415, 429, 502, 503, 504),
)
async def create_briefing(
    request: Request, service: ServiceDep, settings: SettingsDep, ingest: IngestDep
) -> Briefing:
    """Write a short and a long briefing of an article (JSON, text/plain or text/html), or
    of the page at a URL (JSON `{"url": ...}`, fetched behind the address guard)."""
    article, lengths, language = await parse_article(request, body_limits(settings))
    if isinstance(article, UrlRequest):
        return await brief_url_within_timeout(ingest, article, lengths, settings,
                                              request.receive, language=language)
    return await brief_within_timeout(
        service, article, lengths, settings.request_timeout_s, request.receive,
        language=language,
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
async def get_briefing(briefing_id: str, service: ServiceDep) -> Briefing:
    """A briefing written earlier, by its id."""
    return await run_in_threadpool(service.get, briefing_id)
