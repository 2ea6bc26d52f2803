"""Run the daily job inside ``briefing serve``: on a cron schedule, and once at start if missed.

``BRIEFING_DAILY_CRON`` (default ``0 7 * * *``) is evaluated in ``BRIEFING_TIMEZONE`` by
APScheduler's cron trigger, so "07:00" stays 07:00 local across DST changes. A run at local
time T digests the local day before T's date. Empty cron: no scheduler.

Catch-up: at start, the scheduler looks for the latest time the cron should have fired (up
to 8 days back); if that run's day is not done (delivered, or built when there is no
webhook), it runs now. Only the latest missed day is caught up, not every day of a long
outage: a channel flooded with a week of old digests helps nobody; older days can be sent
with ``briefing daily --date``. Concurrent runs (catch-up, cron, CLI, other replicas) are
safe: the delivery ledger lets one of them post.

The service's first day: neither the catch-up nor the cron digests a day before the local day
the service stored its first article (the earliest ``received_at`` among the articles: the
service cannot have heard of anything before it). So the first start of a new installation
posts nothing for the day before it was installed, and an installation without articles
posts nothing at all. ``briefing daily`` and ``POST /v1/digests/{date}``, asked for a day,
build it whatever it is (an empty one is posted only with ``BRIEFING_DIGEST_POST_EMPTY``).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from service.config import Settings
from service.digest.compose import StoryBriefer
from service.digest.job import DailyJob, make_webhook
from service.digest.ledger import DeliveryLedger
from service.digest.runs import DAILY, DigestRuns
from service.digest.specs import default_digest
from service.digest.window import parse_day
from service.errors import BriefingError, DeliveryBusy, DigestNotFound
from service.metrics import Metrics
from service.results import DigestList, DigestSpecShown, DigestState, NamedDigestState
from service.storage import Database
from service.storage.articles import ArticleStore

log = logging.getLogger(__name__)

_LOOKBACKS = (timedelta(hours=2), timedelta(days=1), timedelta(days=8))


class Job(Protocol):
    def run(self, day: date) -> Any: ...

    def is_done(self, day: date) -> bool: ...

    def first_day(self) -> date | None: ...


def last_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest time ``trigger`` fires at or before ``now`` (up to 8 days back)."""
    for lookback in _LOOKBACKS:
        found = None
        fire = trigger.get_next_fire_time(None, now - lookback)
        while fire is not None and fire <= now:
            found = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        if found is not None:
            return found
    return None


class DailyScheduler:
    """Fires the daily job on the cron schedule and catches up a missed run at start."""

    def __init__(self, settings: Settings, job: Job, *, clock: Any = None) -> None:
        if not settings.daily_cron:
            raise ValueError("BRIEFING_DAILY_CRON is empty: there is nothing to schedule")
        self.zone = settings.zone
        self.cron = settings.daily_cron
        self.trigger = CronTrigger.from_crontab(settings.daily_cron, timezone=self.zone)
        self.job = job
        self._clock = clock or (lambda: datetime.now(UTC))
        self._scheduler = BackgroundScheduler(
            timezone=self.zone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )

    def due_day(self, fire: datetime) -> date:
        """The day a run fired at ``fire`` digests: the local day before."""
        return fire.astimezone(self.zone).date() - timedelta(days=1)

    def missed_day(self) -> date | None:
        """The day of the latest run that should have happened, when it is not done and not
        before the service's first day."""
        fire = last_fire(self.trigger, self._clock().astimezone(self.zone))
        if fire is None:
            return None
        day = self.due_day(fire)
        if self._before_first_day(day) or self.job.is_done(day):
            return None
        return day

    def _before_first_day(self, day: date) -> str | None:
        """Why ``day`` is not digested by the scheduler (before the first article stored),
        or None."""
        first = self.job.first_day()
        if first is None:
            return "no article has been stored yet"
        if day < first:
            return f"the first article was stored on {first}"
        return None

    def start(self, *, catch_up: bool = True) -> None:
        self._scheduler.add_job(self._scheduled, self.trigger, id="daily-digest",
                                name="daily digest")
        if catch_up:
            self._scheduler.add_job(self._catch_up, id="daily-digest-catch-up",
                                    name="daily digest catch-up")  # runs once, now
        self._scheduler.start()
        next_fire = self.trigger.get_next_fire_time(None, self._clock().astimezone(self.zone))
        log.info("daily digest scheduled (%r in %s); next run %s", self.cron, self.zone,
                 next_fire.isoformat() if next_fire else "never")

    def shutdown(self) -> None:
        """Stop; a run in progress finishes first (its lease would expire anyway)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def _scheduled(self) -> None:
        fire = last_fire(self.trigger, self._clock().astimezone(self.zone))
        self._run(self.due_day(fire) if fire else self.due_day(self._clock()), "scheduled")

    def _catch_up(self) -> None:
        try:
            fire = last_fire(self.trigger, self._clock().astimezone(self.zone))
            day = self.due_day(fire) if fire is not None else None
            early = self._before_first_day(day) if day is not None else None
            done = day is None or early is not None or self.job.is_done(day)
        except BriefingError as exc:
            log.error("daily digest catch-up: %s", exc.message)
            return
        if early:
            log.info("daily digest: no catch-up for %s: %s", day, early)
            return
        if done or day is None:
            log.info("daily digest: no missed run to catch up")
            return
        log.info("daily digest: the run for %s was missed; catching up now", day)
        self._run(day, "catch-up")

    def _run(self, day: date, why: str) -> None:
        try:
            early = self._before_first_day(day)
            if early:
                log.info("daily digest %s for %s: skipped: %s", why, day, early)
                return
            result = self.job.run(day)
        except DeliveryBusy as exc:  # another process is posting it
            log.info("daily digest %s for %s: %s", why, day, exc.message)
            return
        except BriefingError as exc:  # logged with its redacted message; the next run retries
            log.error("daily digest %s for %s failed: %s", why, day, exc.message)
            return
        except Exception:  # a scheduler thread must not die silently
            log.exception("daily digest %s for %s failed", why, day)
            return
        delivery = result.get("delivery", {}) if isinstance(result, dict) else {}
        log.info("daily digest %s for %s: %s", why, day,
                 delivery.get("detail") or delivery.get("status", "done"))


# A run's (or one destination's) delivery status as the per-destination metric counts it;
# a run that posts nothing by design (not_requested, day_not_over, not_configured) is none.
DESTINATION_OUTCOME = {
    "delivered": "delivered", "failed": "failed", "error": "failed",
    "already_delivered": "skipped", "busy": "skipped", "skipped": "skipped",
}


def _counting(metrics: Metrics | None) -> dict[str, Any]:
    """DailyJob's ``on_delivery`` and ``on_message`` hooks, counting into ``metrics``."""
    if metrics is None:
        return {}
    deliveries, messages = metrics.digest_deliveries, metrics.slack_messages
    per_destination = metrics.destination_deliveries
    for outcome in ("delivered", "failed", "skipped"):
        per_destination.labels(DAILY, "slack", outcome)

    def on_delivery(status: str) -> None:
        deliveries.labels(status).inc()
        # the one destination of `daily` without a digests file: its Slack webhook
        outcome = DESTINATION_OUTCOME.get(status)
        if outcome is not None:
            per_destination.labels(DAILY, "slack", outcome).inc()

    return {"on_delivery": on_delivery, "on_message": messages.inc}


class NamedDigests(Protocol):
    """The digests of ``BRIEFING_DIGESTS_FILE`` as the runtime serves them
    (:class:`service.digest.team.TeamRuntime`)."""

    def list(self) -> list[DigestSpecShown]: ...

    def show(self, name: str, day_text: str) -> NamedDigestState: ...

    def start(self, name: str, day_text: str, *, send: bool = True,
              force: bool = False) -> NamedDigestState: ...

    def close(self) -> None: ...


class DailyRuntime:
    """What ``briefing serve`` runs beside the API: the daily job, its ledger, the scheduler,
    and the runs the API starts (:class:`DigestRuns`, their state in the database: a run
    whose process stopped is taken over after ``BRIEFING_DELIVERY_LEASE_S``)."""

    def __init__(self, settings: Settings, job: DailyJob, ledger: DeliveryLedger,
                 scheduler: DailyScheduler | None, team: NamedDigests | None = None) -> None:
        self.settings = settings
        self.job = job
        self.ledger = ledger
        self.scheduler = scheduler
        self.runs = DigestRuns(job, ledger.database, name=DAILY,
                               lease_s=settings.delivery_lease_s)
        # BRIEFING_DIGESTS_FILE: its digests (service.digest.team.TeamRuntime); the implicit
        # `daily` above is then neither scheduled nor shown
        self.team = team

    @classmethod
    def open(
        cls, settings: Settings, store: ArticleStore, database: Database,
        briefer: StoryBriefer, *, schedule: bool = True, metrics: Metrics | None = None,
        team: NamedDigests | None = None,
    ) -> DailyRuntime:
        """Open the ledger in ``database``, make the job over the article ``store`` and
        ``briefer``, and start the scheduler (if a cron).

        With ``metrics``, each run's outcome and each Slack message posted are counted.
        """
        try:  # say at start, not at 07:00, that the webhook cannot be used
            webhook = make_webhook(settings)
            if webhook is not None:
                webhook.close()
        except BriefingError as exc:
            log.error("Slack delivery is off: %s", exc.message)
        ledger = DeliveryLedger(database)
        job = DailyJob(settings, store, briefer, ledger, **_counting(metrics))
        scheduler = None
        if schedule and settings.daily_cron and team is None:
            scheduler = DailyScheduler(settings, job)
            scheduler.start()
        return cls(settings, job, ledger, scheduler, team)

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.runs.close()
        if self.team is not None:
            self.team.close()

    # -- several digests (BRIEFING_DIGESTS_FILE); without it, the one `daily` -------------

    def digests(self) -> DigestList:
        """``GET /v1/digests``: each digest, its destinations redacted."""
        if self.team is not None:
            return {"digests": self.team.list()}
        return {"digests": [default_digest(self.settings).public()]}

    def show_named(self, name: str, day_text: str) -> NamedDigestState:
        """``GET /v1/digests/{name}/{date}``."""
        if self.team is not None:
            return self.team.show(name, day_text)
        self._only_daily(name)
        return self.show(day_text)

    def start_named(self, name: str, day_text: str, *, send: bool = True,
                    force: bool = False) -> NamedDigestState:
        """``POST /v1/digests/{name}/{date}``."""
        if self.team is not None:
            return self.team.start(name, day_text, send=send, force=force)
        self._only_daily(name)
        return self.start(day_text, send=send, force=force)

    @staticmethod
    def _only_daily(name: str) -> None:
        if name != DAILY:
            raise DigestNotFound(f"no digest named {name!r}: without BRIEFING_DIGESTS_FILE "
                                 "the one digest is `daily`")

    def show(self, day_text: str) -> DigestState:
        """``GET /v1/digests/{date}``: the stored digest, its delivery state, the day's latest
        run (started by any replica)."""
        if self.team is not None:
            return self.show_named(DAILY, day_text)
        day = parse_day(day_text)
        digest = self.job.store.load_digest(day.isoformat(), self.settings.timezone)
        run = self.runs.status(day)
        if digest is None and run is None:
            raise DigestNotFound(
                f"no digest for {day} ({self.settings.timezone}) yet: it is built by the daily "
                f"run, or now by POST /v1/digests/{day}"
            )
        return {"digest": digest, "delivery": self.job.status(day), "run": run}

    def start(self, day_text: str, *, send: bool = True, force: bool = False) -> DigestState:
        """``POST /v1/digests/{date}``: queue a run (build, and deliver when a webhook is
        configured) and answer at once with what ``show`` answers; a day whose run is queued
        or running in any replica gets that run (409 ``digest_run_in_progress`` for ``force``
        while an unforced run runs)."""
        if self.team is not None:
            return self.start_named(DAILY, day_text, send=send, force=force)
        day = parse_day(day_text)
        self.runs.start(day, send=send, force=force)
        return self.show(day_text)


__all__ = ["DailyRuntime", "DailyScheduler", "last_fire"]
