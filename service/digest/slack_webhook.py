"""Post to a Slack incoming webhook: URL checks, redaction, and a sender with retries.

The sender (:class:`SlackWebhook`) posts one payload, retries what is worth retrying (429
honouring ``Retry-After``, 5xx, transport errors) and fails fast, with a
:class:`SlackDeliveryError`, on what is not (other 4xx such as ``channel_not_found``).

The webhook URL is a bearer secret: anyone holding it can post to the channel. It is
validated against an allow-list (:func:`validate_webhook_url`), shown only in redacted form
(:func:`redact_url`) in errors, reprs and logs, and identified in ledgers by a hash
(:func:`webhook_id`). httpx itself logs request URLs at INFO, so a logging filter scrubs
registered webhook URLs from the ``httpx`` and ``httpcore`` loggers too.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import math
import time
from collections.abc import Callable, Collection, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from service.digest.slack_messages import _CONTROL_CHARS

logger = logging.getLogger(__name__)

DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = ("hooks.slack.com",)

# =============================================================================================
# Webhook URL handling (the URL is a secret)
# =============================================================================================

_PUBLIC_PATH_PREFIXES = frozenset({"services", "triggers", "workflows"})
_LOOPBACK_NAMES = frozenset({"localhost"})


class WebhookURLNotAllowed(ValueError):
    """The webhook URL is malformed, not https, or not on an allowed host."""


def redact_url(url: str) -> str:
    """Keep scheme and host (and a well-known first path segment); hide the rest.

    ``https://hooks.slack.com/services/T0/B0/XXXX`` -> ``https://hooks.slack.com/services/***``.
    Credentials, query and fragment are dropped too.
    """
    try:
        parts = urlsplit(str(url).strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if not parts.scheme or not host:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    first = parts.path.lstrip("/").split("/", 1)[0]
    keep = f"/{first}" if first in _PUBLIC_PATH_PREFIXES else ""
    return f"{parts.scheme.lower()}://{netloc}{keep}/***"


def webhook_id(url: str) -> str:
    """A stable, non-secret key for a webhook URL: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_webhook_url(url: str, allowed_hosts: Collection[str] = DEFAULT_ALLOWED_HOSTS) -> str:
    """Return ``url`` (stripped) if it may be posted to, else raise :class:`WebhookURLNotAllowed`.

    The host must be in ``allowed_hosts`` (exact match, case-insensitive) and the scheme https;
    plain http is accepted only for loopback hosts (127.0.0.1, ::1, localhost), for tests.
    Error messages show only the redacted URL.
    """
    if not isinstance(url, str) or not url.strip():
        raise WebhookURLNotAllowed("webhook URL is empty")
    url = url.strip()
    shown = redact_url(url)
    if any(ch.isspace() for ch in url) or _CONTROL_CHARS.search(url):
        raise WebhookURLNotAllowed(f"webhook URL {shown} contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        host = _normal_host(parts.hostname or "")
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise WebhookURLNotAllowed(f"webhook URL {shown} is malformed") from None
    if not host:
        raise WebhookURLNotAllowed(f"webhook URL {shown} has no host")
    if parts.username is not None or parts.password is not None:
        raise WebhookURLNotAllowed(f"webhook URL {shown} must not carry credentials")
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise WebhookURLNotAllowed(f"webhook URL {shown} must use https")
    allowed = {_normal_host(h) for h in allowed_hosts}
    if host not in allowed:
        raise WebhookURLNotAllowed(
            f"webhook URL {shown} is not on an allowed host ({', '.join(sorted(allowed))})"
        )
    if scheme == "http" and not _is_loopback(host):
        raise WebhookURLNotAllowed(f"webhook URL {shown} must use https (http only on loopback)")
    return url


class _SecretScrubber(logging.Filter):
    """Replace registered webhook URLs in log records with their redacted form."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: dict[str, str] = {}

    def register(self, url: str) -> None:
        shown = redact_url(url)
        forms = {url}
        try:
            normal = httpx.URL(url)
            forms.add(str(normal))
            path = normal.raw_path.decode("ascii", "replace")
            if len(path) >= 8:  # the secret part; too short a path would scrub innocent text
                forms.add(path)
        except (httpx.InvalidURL, ValueError, TypeError):
            pass
        for form in forms:
            self._secrets[form] = shown

    def scrub(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, self._secrets[secret])
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's problem, not ours
            return True
        scrubbed = self.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


_SCRUBBER = _SecretScrubber()
_SCRUBBED_LOGGERS = ("httpx", "httpcore", __name__)


def _protect(url: str) -> None:
    """Register ``url`` as a secret and make sure the scrubbing filter is installed."""
    _SCRUBBER.register(url)
    for name in _SCRUBBED_LOGGERS:
        target = logging.getLogger(name)
        if _SCRUBBER not in target.filters:
            target.addFilter(_SCRUBBER)


# =============================================================================================
# Sender
# =============================================================================================


class SlackDeliveryError(Exception):
    """A payload could not be delivered.

    ``status`` is Slack's HTTP status (None for a transport failure), ``slack_error`` the body
    text Slack returned (e.g. ``channel_not_found``), ``retryable`` whether the failure was
    transient (retries were exhausted) rather than permanent, ``attempts`` how many requests
    were made. Sending a digest's messages in order, and resuming, is the delivery ledger's
    job (:func:`service.digest.ledger.deliver`).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        slack_error: str,
        attempts: int,
        retryable: bool,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.slack_error = slack_error
        self.attempts = attempts
        self.retryable = retryable


def _retry_after_seconds(value: str | None) -> float | None:
    """Parse a ``Retry-After`` given in seconds; None when absent or not a number."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP-date: Slack sends seconds, so fall back to backoff
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


class SlackWebhook:
    """Posts payloads to one Slack incoming webhook, with bounded retries.

    Retried: 429 (waiting ``Retry-After`` seconds, at most ``retry_after_cap``), 5xx and
    transport errors (waiting ``backoff_base * 2**k``, at most ``backoff_max``), up to
    ``max_attempts`` requests in all. Anything else that is not HTTP 200 ``ok`` raises
    :class:`SlackDeliveryError` at once. Note that a timeout after the request was sent may
    mean Slack did post it; the retry can then duplicate one message.
    """

    def __init__(
        self,
        url: str,
        *,
        allowed_hosts: Collection[str] = DEFAULT_ALLOWED_HOSTS,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        retry_after_cap: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = validate_webhook_url(url, allowed_hosts)
        _protect(self._url)
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if min(backoff_base, backoff_max, retry_after_cap, timeout) < 0:
            raise ValueError("timeouts and delays must not be negative")
        self.redacted_url = redact_url(self._url)
        self.webhook_id = webhook_id(self._url)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_cap = retry_after_cap
        self._sleep = sleep
        self._owns_client = client is None
        self._client = client or httpx.Client(
            transport=transport, timeout=timeout, follow_redirects=False
        )

    def __repr__(self) -> str:
        return f"SlackWebhook({self.redacted_url!r}, id={self.webhook_id!r})"

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> SlackWebhook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _backoff(self, retry: int) -> float:
        return min(self.backoff_max, self.backoff_base * 2 ** (retry - 1))

    def _fail(
        self, what: str, *, status: int | None, body: str, attempts: int, retryable: bool
    ) -> SlackDeliveryError:
        body = _SCRUBBER.scrub(body.strip())[:300]
        outcome = f"gave up after {attempts} attempts" if retryable else "not retried"
        message = f"Slack webhook {self.redacted_url} (id {self.webhook_id}): {what}; {outcome}"
        return SlackDeliveryError(
            message, status=status, slack_error=body, attempts=attempts, retryable=retryable
        )

    def send(self, payload: Mapping[str, Any]) -> None:
        """Post one payload; return when Slack answered 200 ``ok``, else raise."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                response = self._client.post(self._url, content=body, headers=headers)
            except httpx.TransportError as exc:
                what = f"transport error {type(exc).__name__}: {_SCRUBBER.scrub(str(exc))}"
                if last:
                    raise self._fail(
                        what, status=None, body="", attempts=attempt, retryable=True
                    ) from None
                delay = self._backoff(attempt)
                self._log_retry(what, delay, attempt)
                self._sleep(delay)
                continue
            except httpx.HTTPError as exc:
                what = f"request failed {type(exc).__name__}: {_SCRUBBER.scrub(str(exc))}"
                raise self._fail(
                    what, status=None, body="", attempts=attempt, retryable=False
                ) from None

            status, text = response.status_code, response.text
            if status == 200 and text.strip() == "ok":
                logger.debug("Slack webhook %s: delivered (attempt %d)", self.redacted_url, attempt)
                return
            what = f"HTTP {status} {text.strip()[:100]!r}"
            if status == 429 or status >= 500:
                if last:
                    raise self._fail(
                        what, status=status, body=text, attempts=attempt, retryable=True
                    )
                delay = self._backoff(attempt)
                if status == 429:
                    retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                    if retry_after is not None:
                        delay = min(retry_after, self.retry_after_cap)
                self._log_retry(what, delay, attempt)
                self._sleep(delay)
                continue
            raise self._fail(what, status=status, body=text, attempts=attempt, retryable=False)
        raise AssertionError("unreachable")  # pragma: no cover

    def _log_retry(self, what: str, delay: float, attempt: int) -> None:
        logger.warning(
            "Slack webhook %s: %s; retrying in %.1fs (attempt %d/%d)",
            self.redacted_url,
            what,
            delay,
            attempt,
            self.max_attempts,
        )
