"""The v1 contract as the API declares it: the result shapes (defined once, in
``service/results.py``, where the services take them from) and the error answers each route
documents in OpenAPI."""

from __future__ import annotations

from service.results import (
    ArticleList,
    Briefing,
    Checks,
    Clustering,
    Delivery,
    DeliveryState,
    DestinationDelivery,
    Digest,
    DigestDestination,
    DigestList,
    DigestRun,
    DigestSpecShown,
    DigestState,
    ErrorBody,
    ErrorDetail,
    Extraction,
    FeedInfo,
    FeedList,
    Health,
    InputStats,
    ListedArticle,
    LlmServer,
    NamedDelivery,
    NamedDigestState,
    PageInfo,
    Ready,
    RepairedSentence,
    Story,
    UnsupportedSentence,
    Validators,
    Window,
)

__all__ = [
    "ArticleList",
    "Briefing",
    "Checks",
    "Clustering",
    "Delivery",
    "DeliveryState",
    "DestinationDelivery",
    "Digest",
    "DigestDestination",
    "DigestList",
    "DigestRun",
    "DigestSpecShown",
    "DigestState",
    "ErrorBody",
    "ErrorDetail",
    "Extraction",
    "FeedInfo",
    "FeedList",
    "Health",
    "InputStats",
    "ListedArticle",
    "LlmServer",
    "NamedDelivery",
    "NamedDigestState",
    "PageInfo",
    "Ready",
    "RepairedSentence",
    "Story",
    "UnsupportedSentence",
    "Validators",
    "Window",
    "error_responses",
]


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` for the error statuses a route can answer (always with 422,
    which replaces FastAPI's own validation body: this API never sends that one, and 500)."""
    return {status: {"model": ErrorBody, "description": _WHY.get(status, "Error")}
            for status in sorted({*statuses, 422, 500})}


_WHY = {
    400: "The body is not valid JSON or text in its charset",
    401: "API keys are set and the bearer key is missing or wrong",
    404: "Not found",
    405: "The route takes another method (the Allow header lists them)",
    413: "The body is over BRIEFING_MAX_BODY_BYTES, or a fetched page over "
         "BRIEFING_FETCH_MAX_BYTES (too_large)",
    415: "Unsupported Content-Type, a JSON request sent as text/plain (wrong_content_type), "
         "or a fetched URL that is not a page (unsupported_content)",
    422: "A field, the text or the date is wrong, the text is too short to brief "
         "(too_short), or the URL is not allowed (the message names it)",
    429: "Too many briefings in progress (overloaded), or this key is over "
         "BRIEFING_RATE_LIMIT (rate_limited); retry after Retry-After seconds",
    500: "A bug; the request was logged",
    502: "Slack refused a digest message, or a fetched site failed (fetch_failed)",
    503: "The service cannot do the work now (starting, model, storage, timeout, busy)",
    504: "Fetching the URL took longer than BRIEFING_FETCH_TIMEOUT_S (fetch_timeout)",
}
