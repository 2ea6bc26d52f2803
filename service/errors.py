"""One error tree for the whole service; each error knows its HTTP status and stable code.

    BriefingError                      500 internal_error
    ├── ClientError                    400 bad_request
    │   ├── InvalidJSON                400 invalid_json
    │   ├── InvalidEncoding            400 invalid_encoding
    │   ├── Unauthorized               401 unauthorized
    │   ├── NotFound                   404 not_found
    │   │   └── DigestNotFound         404 digest_not_found
    │   ├── MethodNotAllowed           405 method_not_allowed  (with the methods allowed)
    │   ├── PayloadTooLarge            413 payload_too_large
    │   ├── UnsupportedMediaType       415 unsupported_media_type
    │   │   └── WrongContentType       415 wrong_content_type  (JSON sent as text/plain)
    │   ├── ValidationFailed           422 invalid_request
    │   │   ├── EmptyText              422 empty_text
    │   │   ├── NotProse               422 not_prose
    │   │   ├── TooShort               422 too_short
    │   │   ├── InvalidDate            422 invalid_date
    │   │   ├── UrlNotAllowed          422 url_not_allowed     (fetching: the address guard)
    │   │   └── InvalidFeed            422 invalid_feed        (not a feed, or unreadable)
    │   ├── ContentTooLarge            413 too_large           (fetching: the page is too big)
    │   ├── UnsupportedContent         415 unsupported_content (fetching: not a page or feed)
    │   ├── Overloaded                 429 overloaded
    │   └── RateLimited                429 rate_limited
    └── ServiceError                   503 service_unavailable
        ├── Starting                   503 starting            (the model is loading)
        ├── EngineError                503 engine_error
        ├── EngineUnavailable          503 engine_unavailable  (the LLM server failed)
        ├── ModelUnavailable           503 model_unavailable
        ├── RequestTimeout             503 timeout
        ├── RequestCancelled           503 cancelled
        ├── StorageError               503 storage_error
        ├── WebhookNotAllowed          503 webhook_not_allowed
        ├── DeliveryBusy               503 delivery_busy
        ├── DeliveryFailed             502 delivery_failed
        ├── FetchFailed                502 fetch_failed        (the site answered an error)
        └── FetchTimeout               504 fetch_timeout

Library errors are caught where they happen and re-raised as the most specific error here
(``raise X(...) from exc``); the API maps this tree to HTTP in exactly one handler.
"""

from __future__ import annotations

from typing import Literal


class BriefingError(Exception):
    """Base of every error the service raises on purpose."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class ClientError(BriefingError):
    """The request was wrong; the message says what to change."""

    status = 400
    code = "bad_request"


class InvalidJSON(ClientError):
    code = "invalid_json"


class InvalidEncoding(ClientError):
    code = "invalid_encoding"


class Unauthorized(ClientError):
    status = 401
    code = "unauthorized"


class NotFound(ClientError):
    status = 404
    code = "not_found"


class MethodNotAllowed(ClientError):
    """The route exists, the method does not; ``allow`` lists the methods it takes (the
    answer's ``Allow`` header)."""

    status = 405
    code = "method_not_allowed"

    def __init__(self, message: str, *, allow: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allow = allow


class PayloadTooLarge(ClientError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ClientError):
    status = 415
    code = "unsupported_media_type"


class WrongContentType(UnsupportedMediaType):
    """The body is one the service reads, under the wrong ``Content-Type`` (a JSON request
    sent as ``text/plain``): refused rather than briefed as what it says it is."""

    code = "wrong_content_type"


class ValidationFailed(ClientError):
    status = 422
    code = "invalid_request"


class EmptyText(ValidationFailed):
    code = "empty_text"


class NotProse(ValidationFailed):
    """The text has no sentences of ordinary words (digits, code, a table, encoded data)."""

    code = "not_prose"


class TooShort(ValidationFailed):
    """The cleaned text has fewer words than a briefing needs
    (:data:`service.preprocess.minimum.MIN_WORDS`)."""

    code = "too_short"


class LanguageNotSupported(ValidationFailed):
    """A briefing asked for in a language the serving engine cannot write; ``engines``: those
    that can (also in the body, for clients)."""

    code = "language_not_supported"

    def __init__(self, message: str, *, language: str, engines: tuple[str, ...]) -> None:
        super().__init__(message)
        self.language = language
        self.engines = engines

    def to_body(self) -> dict[str, dict[str, str]]:
        body = super().to_body()
        body["error"]["language"] = self.language
        body["error"]["engines"] = list(self.engines)  # type: ignore[assignment]
        return body


class InvalidDate(ValidationFailed):
    code = "invalid_date"


class DigestNotFound(NotFound):
    code = "digest_not_found"


class UrlNotAllowed(ValidationFailed):
    """A URL the address guard refuses: scheme, credentials, port, or where it resolves."""

    code = "url_not_allowed"


class InvalidFeed(ValidationFailed):
    """A fetched feed is not RSS, Atom or JSON Feed, or cannot be read as one."""

    code = "invalid_feed"


class ContentTooLarge(ClientError):
    """A fetched page or feed is larger than ``BRIEFING_FETCH_MAX_BYTES`` (decompressed)."""

    status = 413
    code = "too_large"


class UnsupportedContent(ClientError):
    """A fetched URL answered with a content type the service cannot read."""

    status = 415
    code = "unsupported_content"


class Overloaded(ClientError):
    status = 429
    code = "overloaded"

    def __init__(
        self, message: str, *, retry_after_s: int = 1,
        queue: Literal["admission", "batcher"] = "admission",
    ) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.queue = queue  # which queue was full: a metrics label, never shown to clients


class RateLimited(ClientError):
    """The caller sent more requests than ``BRIEFING_RATE_LIMIT`` allows."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ServiceError(BriefingError):
    """The service could not do the work right now; retrying later may help."""

    status = 503
    code = "service_unavailable"


class Starting(ServiceError):
    """The service is still starting (loading its model, opening storage); nothing was
    done. Retry after ``retry_after_s``: ``/readyz`` says when it is ready."""

    code = "starting"

    def __init__(self, message: str, *, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class EngineError(ServiceError):
    code = "engine_error"


class EngineUnavailable(ServiceError):
    """The engine's server (``BRIEFING_ENGINE=llm``) gave no usable answer within the retries
    the request's deadline allowed. The request path answers with the extractive engine
    instead and says why (``fallback_reason``), unless ``BRIEFING_LLM_FALLBACK=false``: then
    this is the answer. ``reason`` is a metrics label (timeout, unreachable, rate_limited,
    server_error, refused, bad_answer, busy, no_time); the message names the server."""

    code = "engine_unavailable"

    def __init__(self, message: str, *, reason: str = "unreachable",
                 retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after_s = retry_after_s


class ModelUnavailable(ServiceError):
    code = "model_unavailable"


class RequestTimeout(ServiceError):
    code = "timeout"


class RequestCancelled(ServiceError):
    """The request ended (its client went away) before its briefing was done; its work
    stopped. Rarely seen by anyone: there is usually no client left to answer."""

    code = "cancelled"


class StorageError(ServiceError):
    code = "storage_error"


class WebhookNotAllowed(ServiceError):
    """The configured Slack webhook URL is malformed or not on an allowed host."""

    code = "webhook_not_allowed"


class DeliveryBusy(ServiceError):
    """Another process holds the delivery lock of this digest; it is being delivered."""

    code = "delivery_busy"

    def __init__(self, message: str, *, retry_after_s: int = 30) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DeliveryFailed(ServiceError):
    """Slack did not accept a message (after retries where retrying made sense).

    The messages sent before it are recorded; the next run resumes with this one.
    """

    status = 502
    code = "delivery_failed"


class FetchFailed(ServiceError):
    """Fetching a URL failed: the site answered an error status, or could not be reached.

    ``upstream_status`` is the site's HTTP status (None when there was no answer);
    ``retry_after_s`` its Retry-After, when it sent one (feeds back off that long).
    """

    status = 502
    code = "fetch_failed"

    def __init__(
        self, message: str, *, upstream_status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.upstream_status = upstream_status
        self.upstream_retry_after_s = retry_after_s

    def to_body(self) -> dict[str, dict[str, str]]:
        body = super().to_body()
        if self.upstream_status is not None:
            body["error"]["upstream_status"] = self.upstream_status  # type: ignore[assignment]
        return body


class FetchTimeout(ServiceError):
    """Fetching a URL took longer than ``BRIEFING_FETCH_TIMEOUT_S`` (connect or total)."""

    status = 504
    code = "fetch_timeout"
