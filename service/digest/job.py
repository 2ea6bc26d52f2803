"""The daily job: build a day's digest, then deliver it to Slack exactly once.

:class:`DailyJob` is what the scheduler, ``briefing daily`` and ``POST /v1/digests/{date}``
run: :func:`service.digest.build.build_digest`, then :func:`service.digest.ledger.deliver`.

A digest without stories is not posted unless ``BRIEFING_DIGEST_POST_EMPTY`` is on: the run
answers ``skipped`` with the reason, and the ledger is not touched (nothing was sent).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from service.config import Settings
from service.digest.build import build_digest
from service.digest.compose import StoryBriefer
from service.digest.ledger import DeliveryKey, DeliveryLedger, deliver
from service.digest.slack_messages import day_words, message_input, plan_messages
from service.digest.slack_webhook import (
    SlackWebhook,
    WebhookURLNotAllowed,
    redact_url,
    webhook_id,
)
from service.digest.window import day_window
from service.errors import DeliveryBusy, DeliveryFailed, InvalidDate, WebhookNotAllowed
from service.results import Delivery, Digest, DigestState
from service.storage.articles import ArticleStore
from service.storage.schema import articles


def make_webhook(settings: Settings) -> SlackWebhook | None:
    """The configured webhook (validated against the allowed hosts), or None when unset."""
    if settings.slack_webhook_url is None:
        return None
    url = settings.slack_webhook_url.get_secret_value().strip()
    if not url:
        return None
    try:
        return SlackWebhook(url, allowed_hosts=settings.slack_allowed_host_list,
                            backoff_base=settings.slack_backoff_s)
    except WebhookURLNotAllowed as exc:  # its message shows the redacted URL only
        raise WebhookNotAllowed(
            f"BRIEFING_SLACK_WEBHOOK_URL: {exc} (BRIEFING_SLACK_ALLOWED_HOSTS="
            f"{settings.slack_allowed_hosts})"
        ) from None


class DeliveringJob:
    """What a digest job is built over (the daily one and each named one): the article
    store, the briefer, the delivery ledger, a clock, and the hooks the server counts
    with: ``on_delivery`` is told how each run ended (the delivery status, or ``busy``,
    ``failed`` or ``error`` when it raised); ``on_message`` is called for each message a
    destination accepted. The CLI passes neither."""

    def __init__(
        self,
        settings: Settings,
        store: ArticleStore,
        briefer: StoryBriefer,
        ledger: DeliveryLedger,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        on_delivery: Callable[[str], None] | None = None,
        on_message: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.briefer = briefer
        self.ledger = ledger
        self.clock = clock
        self._sleep = sleep
        self._on_delivery = on_delivery
        self._on_message = on_message


class DailyJob(DeliveringJob):
    """Build a day's digest and deliver it to Slack exactly once (the hooks: see
    :class:`DeliveringJob`)."""

    def _key(self, day: date) -> DeliveryKey | None:
        url = self.settings.slack_webhook_url
        if url is None or not url.get_secret_value().strip():
            return None
        return DeliveryKey(day.isoformat(), self.settings.timezone,
                           webhook_id(url.get_secret_value().strip()))

    def build(self, day: date) -> Digest:
        return build_digest(self.settings, self.store, self.briefer, day, now=self.clock())

    def messages(self, digest: Digest) -> list[dict[str, Any]]:
        """The Slack messages (webhook payloads) that deliver ``digest``; none for an empty
        day when ``BRIEFING_DIGEST_POST_EMPTY`` is off."""
        if self._skips(digest):
            return []
        return plan_messages(message_input(digest, public_url=self.settings.public_url))

    def _skips(self, digest: Digest | None) -> bool:
        """A digest that is not posted: no stories, and ``BRIEFING_DIGEST_POST_EMPTY`` off."""
        return (digest is not None and not digest["stories"]
                and not self.settings.digest_post_empty)

    def _skipped(self, digest: Digest) -> Delivery:
        day = date.fromisoformat(digest["date"])
        when = f"on {day_words(day)}" if digest.get("complete") else "so far today"
        return {"status": "skipped",
                "detail": f"no stories {when}: an empty digest is not posted "
                          "(BRIEFING_DIGEST_POST_EMPTY=true posts it)"}

    def first_day(self) -> date | None:
        """The local day the service stored its first article (None: none yet). The
        scheduler digests no day before it (see :mod:`service.digest.scheduler`)."""
        with self.store.database.read("could not read the articles") as conn:
            first = conn.execute(select(articles.c.received_at)
                                 .order_by(articles.c.received_at).limit(1)).scalar()
        return first.astimezone(self.settings.zone).date() if first is not None else None

    def is_done(self, day: date) -> bool:
        """Delivered (with a webhook), or built after the day ended (without one, or with
        no stories while empty digests are not posted)."""
        key = self._key(day)
        stored = self.store.load_digest(day.isoformat(), self.settings.timezone)
        if stored and stored.get("complete") and self._skips(stored):
            return True
        if key is not None:
            row = self.ledger.get(key)
            return row is not None and row.status == "delivered"
        return bool(stored and stored.get("complete"))

    def status(self, day: date) -> Delivery:
        """The delivery state of ``day`` as the API shows it (never the URL)."""
        key = self._key(day)
        if key is None:
            return {"status": "not_configured"}
        row = self.ledger.get(key)
        url = self.settings.slack_webhook_url
        shown = redact_url(url.get_secret_value()) if url else None
        if row is None:
            stored = self.store.load_digest(day.isoformat(), self.settings.timezone)
            if stored and stored.get("complete") and self._skips(stored):
                return {**self._skipped(stored), "webhook": shown,
                        "webhook_id": key.webhook_id}
            return {"status": "not_delivered", "webhook": shown, "webhook_id": key.webhook_id}
        return {"status": row.status, "messages": len(row.payloads or []), "sent": row.sent,
                "delivered_at": row.delivered_at, "last_error": row.last_error,
                "webhook": shown, "webhook_id": key.webhook_id}

    def run(self, day: date, *, send: bool = True, force: bool = False) -> DigestState:
        """Build ``day``'s digest and deliver it; returns {"digest": …, "delivery": …}.

        Without a webhook (or with ``send=False``) the digest is built and stored only.
        A day that has not ended yet is built but not delivered unless ``force``. A delivered
        day is not rebuilt: the stored digest is returned and nothing is posted. A digest
        without stories is built and not posted (``skipped``, with the reason) unless
        ``BRIEFING_DIGEST_POST_EMPTY`` is on.
        """
        try:
            result = self._run(day, send=send, force=force)
        except InvalidDate:  # a day that has not begun: a wrong request, not a run
            raise
        except DeliveryBusy:
            self._report("busy")
            raise
        except DeliveryFailed:
            self._report("failed")
            raise
        except Exception:
            self._report("error")
            raise
        self._report(result["delivery"]["status"])
        return result

    def _report(self, status: str) -> None:
        if self._on_delivery is not None:
            self._on_delivery(status)

    def check(self, day: date, *, send: bool = True) -> None:
        """Refuse at once what no run could do: a day that has not begun
        (:class:`InvalidDate`), a webhook that may not be used (:class:`WebhookNotAllowed`)."""
        start, _ = day_window(day, self.settings.zone)
        if start > self.clock():
            raise InvalidDate(f"{day} has not begun in {self.settings.timezone}")
        if send:
            webhook = make_webhook(self.settings)
            if webhook is not None:
                webhook.close()

    def _run(self, day: date, *, send: bool, force: bool) -> DigestState:
        now = self.clock()
        start, end = day_window(day, self.settings.zone)
        if start > now:
            raise InvalidDate(f"{day} has not begun in {self.settings.timezone}")
        webhook = make_webhook(self.settings) if send else None
        if webhook is None:
            why = "not_configured" if self._key(day) is None else "not_requested"
            return {"digest": self.build(day), "delivery": {"status": why}}
        key = self._key(day)
        assert key is not None
        with webhook:
            if now < end and not force:
                return {"digest": self.build(day), "delivery": {
                    "status": "day_not_over",
                    "detail": f"{day} ends at {end.astimezone(self.settings.zone).isoformat()}"
                              "; the digest is delivered "
                              "after that (force delivers now)",
                }}
            if not self.settings.digest_post_empty and not self.store.summaries(
                    start, end, limit=1):
                # An empty day is not posted: said before the ledger is touched, unless an
                # earlier run planned messages for it (they are sent as planned).
                row = self.ledger.get(key)
                if force or row is None or (row.payloads is None
                                            and row.status != "delivered"):
                    digest = self.build(day)
                    return {"digest": digest, "delivery": self._skipped(digest)}
            built: dict[str, Digest] = {}

            def plan() -> list[dict[str, Any]]:
                built["digest"] = digest = self.build(day)
                return self.messages(digest)

            outcome = deliver(
                self.ledger, key, plan, webhook, force=force,
                lease_s=self.settings.delivery_lease_s,
                interval_s=self.settings.slack_message_interval_s, sleep=self._sleep,
                on_sent=self._on_message,
            )
        digest = (built.get("digest")
                  or self.store.load_digest(day.isoformat(), self.settings.timezone)
                  or self.build(day))
        return {"digest": digest, "delivery": outcome.as_dict()}
