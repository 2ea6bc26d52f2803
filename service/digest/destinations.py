"""Where a digest goes: Slack webhooks, signed JSON webhooks, and anything Apprise reaches.

A destination is a URL in a digest's ``destinations`` (:mod:`service.digest.specs`):

- a Slack incoming webhook: an ``https://`` URL on ``BRIEFING_SLACK_ALLOWED_HOSTS``
  (``hooks.slack.com``), or ``slack+`` before any URL (still under that rule): Block Kit
  messages (:mod:`service.digest.slack_messages`);
- ``webhook+https://…``: the digest object as JSON, one POST, signed with
  ``X-Briefing-Signature: sha256=<hex HMAC-SHA256 of the body>`` when
  ``BRIEFING_WEBHOOK_SECRET`` is set (as GitHub signs its webhooks); http only on loopback;
- any other URL Apprise knows (``discord://``, ``tgram://``, ``mailto://``, ``ntfy://``,
  ``json://``, ``form://``, ``workflows://``, ``matrix://``, …), through the apprise library:
  Discord gets Markdown in messages of at most 2,000 characters, Telegram text of at most
  4,096, email one HTML message (Apprise adds its text part).

Every destination URL is a secret: it is shown redacted (scheme and host), identified by a
hash (its ``id``, the ledger's ``webhook_id``), and never logged or stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from service.digest.render import html_message, text_messages
from service.digest.slack_messages import message_input, plan_messages
from service.digest.slack_webhook import (
    _SCRUBBER,
    SlackDeliveryError,
    SlackWebhook,
    WebhookURLNotAllowed,
    _is_loopback,
    _protect,
    redact_url,
    validate_webhook_url,
    webhook_id,
)

log = logging.getLogger(__name__)

Kind = Literal["slack", "webhook", "apprise"]
SIGNATURE_HEADER = "X-Briefing-Signature"
# Characters per message where the service caps them (Apprise's name of the service)
MESSAGE_LIMITS: dict[str, int] = {"discord": 2000, "tgram": 4096, "telegram": 4096,
                                  "ntfy": 4096, "ntfys": 4096}
MARKDOWN_SERVICES = frozenset({"discord"})
HTML_SERVICES = frozenset({"mailto", "mailtos", "email"})


class DestinationNotAllowed(ValueError):
    """A destination URL that cannot be used (the message shows it redacted)."""


class DestinationError(SlackDeliveryError):
    """A payload a destination did not take (after the retries worth making)."""


def redact_destination(url: str) -> str:
    """The URL as it may be shown: scheme and host only (no credentials, path or query)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    try:
        host = urlsplit(url).hostname or ""
        urlsplit(url).port  # noqa: B018 - a token where a port should be: show no host
    except ValueError:
        host = ""
    if not scheme:
        return "<invalid URL>"
    if scheme in ("http", "https") or "+" in scheme:
        return redact_url(url) if host else f"{scheme}://***"
    return f"{scheme}://{host}/***" if host and "." in host else f"{scheme}://***"


@dataclass(frozen=True)
class Destination:
    """One destination of a digest. ``url`` is the secret target (never shown)."""

    kind: Kind
    url: str = field(repr=False)
    id: str
    shown: str
    service: str  # slack, webhook, or Apprise's scheme (discord, tgram, mailto, json, …)

    @classmethod
    def slack(cls, url: str) -> Destination:
        url = url.strip()
        return cls("slack", url, webhook_id(url), redact_url(url), "slack")

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "service": self.service, "url": self.shown}

    def __str__(self) -> str:
        return f"{self.service} {self.shown} (id {self.id})"


def parse_destination(url: str, settings: Any) -> Destination:
    """The destination a URL names, checked; :class:`DestinationNotAllowed` says why not."""
    url = url.strip()
    shown = redact_destination(url)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme:
        raise DestinationNotAllowed(f"{shown}: not a URL (scheme://…)")
    hosts = settings.slack_allowed_host_list
    try:
        if scheme.startswith("slack+"):
            target = validate_webhook_url(url[len("slack+"):], hosts)
            return Destination.slack(target)
        if scheme in ("http", "https"):
            host = (urlsplit(url).hostname or "").lower()
            if host in {h.lower() for h in hosts}:
                return Destination.slack(validate_webhook_url(url, hosts))
            raise DestinationNotAllowed(
                f"{shown}: an {scheme} URL not on BRIEFING_SLACK_ALLOWED_HOSTS "
                f"({', '.join(hosts)}): write webhook+{scheme}://… for the digest as JSON, "
                "or slack+… for a Slack-compatible webhook")
        if scheme.startswith("webhook+"):
            target = url[len("webhook+"):]
            parts = urlsplit(target)
            host = parts.hostname or ""
            if parts.scheme not in ("http", "https") or not host:
                raise DestinationNotAllowed(f"{shown}: webhook+ takes an https:// URL")
            if parts.scheme == "http" and not _is_loopback(host):
                raise DestinationNotAllowed(f"{shown}: must use https (http only on loopback)")
            return Destination("webhook", target, webhook_id(url), redact_url(target),
                               "webhook")
    except WebhookURLNotAllowed as exc:
        raise DestinationNotAllowed(str(exc)) from None
    except ValueError as exc:
        if isinstance(exc, DestinationNotAllowed):
            raise
        raise DestinationNotAllowed(f"{shown}: malformed URL") from None
    import apprise

    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        raise DestinationNotAllowed(
            f"unknown destination scheme {scheme!r} ({shown}): use a Slack webhook, "
            "webhook+https://…, or a URL Apprise supports (discord://, tgram://, mailto://, "
            "ntfy://, json://, …)")
    return Destination("apprise", url, webhook_id(url), shown, scheme)


# =============================================================================================
# What each destination is sent
# =============================================================================================


def plan_payloads(destination: Destination, digest: dict[str, Any], *, title: str,
                  link: str | None, public_url: str | None = None,
                  slack_heading: bool = True) -> list[dict[str, Any]]:
    """The messages ``destination`` is sent for ``digest``, in order (pure)."""
    if destination.kind == "slack":
        made = message_input(digest, public_url=public_url)
        if slack_heading:
            made = replace(made, heading=title, link=link)
        return plan_messages(made)
    if destination.kind == "webhook":
        return [{"title": title, "link": link, **digest}]
    if destination.service in HTML_SERVICES:
        return [html_message(digest, title, link=link)]
    return text_messages(digest, title, link=link,
                         limit=MESSAGE_LIMITS.get(destination.service),
                         markdown=destination.service in MARKDOWN_SERVICES)


# =============================================================================================
# Senders
# =============================================================================================


class _Sender:
    """Retries: transport errors, 429 and 5xx (``attempts`` in all, doubling waits)."""

    def __init__(self, destination: Destination, *, attempts: int = 4, backoff_s: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.destination = destination
        self.redacted_url = destination.shown
        self.webhook_id = destination.id
        self.attempts = attempts
        self.backoff_s = backoff_s
        self._sleep = sleep
        _protect(destination.url)

    def __enter__(self) -> _Sender:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        pass

    def _fail(self, what: str, *, status: int | None, body: str, attempts: int,
              retryable: bool) -> DestinationError:
        body = _SCRUBBER.scrub(body.strip())[:300]
        outcome = f"gave up after {attempts} attempts" if retryable else "not retried"
        return DestinationError(f"{self.destination}: {_SCRUBBER.scrub(what)}; {outcome}",
                                status=status, slack_error=body, attempts=attempts,
                                retryable=retryable)

    def _wait(self, attempt: int) -> None:
        self._sleep(min(30.0, self.backoff_s * 2 ** (attempt - 1)))


class WebhookSender(_Sender):
    """POSTs the digest's JSON, signed when a secret is set; any 2xx is delivered."""

    def __init__(self, destination: Destination, *, secret: str | None = None,
                 timeout: float = 10.0, **kw: Any) -> None:
        super().__init__(destination, **kw)
        self._secret = secret.encode("utf-8") if secret else None
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def send(self, payload: Mapping[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": "briefing-service"}
        if self._secret:
            digest = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                response = self._client.post(self.destination.url, content=body,
                                             headers=headers)
            except httpx.TransportError as exc:
                if last:
                    raise self._fail(f"transport error {type(exc).__name__}", status=None,
                                     body="", attempts=attempt, retryable=True) from None
                self._wait(attempt)
                continue
            status = response.status_code
            if 200 <= status < 300:
                return
            what = f"HTTP {status}"
            if status == 429 or status >= 500:
                if last:
                    raise self._fail(what, status=status, body=response.text,
                                     attempts=attempt, retryable=True)
                self._wait(attempt)
                continue
            raise self._fail(what, status=status, body=response.text, attempts=attempt,
                             retryable=False)


class AppriseSender(_Sender):
    """Sends through Apprise (which knows each service's API); a refused notification is
    retried, its log lines (scrubbed) are the error."""

    def send(self, payload: Mapping[str, Any]) -> None:
        import apprise

        for attempt in range(1, self.attempts + 1):
            notifier = apprise.Apprise()
            notifier.add(self.destination.url)
            with apprise.LogCapture(level=logging.WARNING) as captured:
                ok = notifier.notify(body=str(payload.get("body") or " "),
                                     title=str(payload.get("title") or ""),
                                     body_format=str(payload.get("format") or "text"))
                said = captured.getvalue() if hasattr(captured, "getvalue") else ""
            if ok:
                return
            if attempt == self.attempts:
                raise self._fail("Apprise could not deliver", status=None,
                                 body=" ".join(str(said).split()), attempts=attempt,
                                 retryable=True)
            self._wait(attempt)


def make_sender(destination: Destination, settings: Any,
                sleep: Callable[[float], None] = time.sleep) -> Any:
    """The sender for ``destination``: a :class:`SlackWebhook`, :class:`WebhookSender` or
    :class:`AppriseSender` (each a context manager with ``send``)."""
    if destination.kind == "slack":
        return SlackWebhook(destination.url, allowed_hosts=settings.slack_allowed_host_list,
                            backoff_base=settings.slack_backoff_s, sleep=sleep)
    if destination.kind == "webhook":
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        return WebhookSender(destination, secret=secret or None,
                             backoff_s=settings.slack_backoff_s, sleep=sleep)
    return AppriseSender(destination, backoff_s=settings.slack_backoff_s, sleep=sleep)


def trial_payload(destination: Destination, name: str, title: str) -> dict[str, Any]:
    """A test message for ``briefing digests test``."""
    text = f"Test message from the briefing service for the digest {title!r} ({name})."
    if destination.kind == "slack":
        return {"text": text, "unfurl_links": False, "unfurl_media": False}
    if destination.kind == "webhook":
        return {"test": True, "digest": name, "title": title, "text": text}
    return {"title": f"{title}: test", "body": text, "format": "text"}


__all__ = ["Destination", "DestinationError", "DestinationNotAllowed", "MESSAGE_LIMITS",
           "SIGNATURE_HEADER", "make_sender", "parse_destination", "plan_payloads",
           "redact_destination", "trial_payload"]
