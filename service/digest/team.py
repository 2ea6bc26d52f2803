"""Several digests (``BRIEFING_DIGESTS_FILE``): each built for its period, ranked, capped, and
delivered once to each of its destinations; alerts as articles arrive.

:class:`NamedJob` is one digest of the file:

1. period — ``day``: the local day before the run; ``week``: the seven local days ending with
   it; ``since_last``: from the end of the digest's previous period (the local day's start
   when there is none) to the run (a date asked for: to the end of that local day). Windows
   are local midnights (or the run's minute) as UTC instants, so DST days count 23 or 25 hours.
2. select — the digest's include/exclude words, feeds and languages
   (:mod:`service.digest.select`);
3. cluster into stories; a story the digest sent in its previous period is left out unless it
   has new sources, and then it is marked ``update``;
4. rank by score (publishers, recency, match: :func:`service.digest.ranking.score`, its parts
   in each story's ``score``); cap at ``max_stories``, ``max_per_source`` per publisher;
5. deliver — to each destination once, keyed (digest, period, time zone, destination id) in
   the delivery ledger: a destination that fails is retried by the next run on its own,
   without re-sending to the others.

:class:`Alerts` sends each newly stored article a digest with ``alerts = true`` takes, at
once, to its destinations: once per (article, digest, destination), keyed
``alert:<article id>`` in the same ledger, at most ``alert_max_per_hour`` per destination.
The store's listener sends them as the article is stored; the scan on the scheduler's tick
(at start, then every ``ALERT_SCAN_S``) reads the articles received since each digest's mark
in ``alert_marks``, so an article stored while no process ran gets its alert when one starts.

:class:`TeamRuntime` holds the jobs, their runs (``POST``), one cron scheduler for all of them
(with the catch-up of each digest's missed run) and the alerts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from service.config import Settings
from service.digest.compose import StoryBriefer, compose_story
from service.digest.destinations import (
    Destination,
    make_sender,
    plan_payloads,
    trial_payload,
)
from service.digest.fingerprint import FINGERPRINT_VERSION
from service.digest.job import DeliveringJob
from service.digest.ledger import DeliveryKey, DeliveryLedger, deliver
from service.digest.ranking import cap, rank_scored
from service.digest.runs import DigestRuns
from service.digest.scheduler import DESTINATION_OUTCOME, last_fire
from service.digest.specs import DigestSpec
from service.digest.stories import cluster, source_key
from service.digest.window import day_window, parse_day
from service.errors import (
    BriefingError,
    DeliveryBusy,
    DeliveryFailed,
    DigestNotFound,
    InvalidDate,
)
from service.results import (
    DestinationDelivery,
    Digest,
    DigestSpecShown,
    NamedDelivery,
    NamedDigestState,
)
from service.storage import Database
from service.storage.articles import ArticleStore, StoredArticle
from service.storage.schema import alert_marks, articles

log = logging.getLogger(__name__)

ALERT_PREFIX = "alert:"
# The alert scan (Alerts.scan) on the scheduler's tick: how often, how far before its mark it
# reads again, how far back it reads without a mark, and at most.
ALERT_SCAN_S = 30.0
ALERT_OVERLAP = timedelta(minutes=2)
ALERT_LOOKBACK = timedelta(hours=1)
ALERT_MAX_BACK = timedelta(days=1)
# An alert's outcome (what Alerts._send answers) as the metrics count it
ALERT_OUTCOME = {"delivered": "sent", "failed": "failed", "rate_limited": "rate_limited"}


@dataclass(frozen=True)
class Period:
    """What one run of a digest covers: ``key`` (the ledger's and store's ``day``), the local
    ``day`` it is named by, and ``[start, end)`` in UTC."""

    key: str
    day: date
    start: datetime
    end: datetime


class DigestUnknown(DigestNotFound):
    """A digest name that is not configured."""


class NamedJob(DeliveringJob):
    """One digest of the file: build a period, deliver it to each destination once."""

    def __init__(
        self, spec: DigestSpec, settings: Settings, store: ArticleStore, briefer: StoryBriefer,
        ledger: DeliveryLedger, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        on_delivery: Callable[[str], None] | None = None,
        on_message: Callable[[], None] | None = None,
        on_destination: Callable[[str, str, str], None] | None = None,
    ) -> None:
        super().__init__(settings, store, briefer, ledger, clock=clock, sleep=sleep,
                         on_delivery=on_delivery, on_message=on_message)
        self.spec = spec
        # told (digest, destination kind, outcome) for each destination a run delivered to
        # ("delivered"), failed ("failed") or did not post to ("skipped"): the metrics
        self._on_destination = on_destination

    # -- periods ---------------------------------------------------------------------------

    def period(self, day: date) -> Period:
        """The period named by the local ``day`` (for ``since_last``: ending with it)."""
        zone = self.spec.zone
        start, end = day_window(day, zone)
        if self.spec.period == "week":
            start = day_window(day - timedelta(days=6), zone)[0]
        elif self.spec.period == "since_last":
            return self._since_last(end)
        return Period(day.isoformat(), day, start, end)

    def period_at(self, fire: datetime) -> Period:
        """The period a run fired at ``fire`` covers."""
        if self.spec.period == "since_last":
            return self._since_last(fire.replace(second=0, microsecond=0))
        return self.period(fire.astimezone(self.spec.zone).date() - timedelta(days=1))

    def _since_last(self, end: datetime) -> Period:
        local = end.astimezone(self.spec.zone)
        key = f"{local:%Y-%m-%dT%H:%M}"
        day = (local - timedelta(microseconds=1)).date()
        start = day_window(day, self.spec.zone)[0]
        earlier = self.store.earlier_digest(self.spec.name, self.spec.timezone, key)
        if earlier is not None:
            previous = datetime.fromisoformat(earlier["window"]["end"])
            if previous < end:
                start = previous
        return Period(key, day, start.astimezone(UTC), end.astimezone(UTC))

    # -- building --------------------------------------------------------------------------

    def build(self, day: date) -> Digest:
        return self.build_period(self.period(day))

    EARLIER_PERIODS = 7  # a story sent in one of the digest's last 7 periods is not news

    def _earlier(self, period: Period) -> tuple[list[dict[str, Any]], dict[int, Any]]:
        """The stories of the digest's earlier periods (the latest ``EARLIER_PERIODS``), and
        their articles' fingerprints."""
        stories: list[dict[str, Any]] = []
        prints: dict[int, Any] = {}
        before = period.key
        for _ in range(self.EARLIER_PERIODS):
            earlier = self.store.earlier_digest(self.spec.name, self.spec.timezone, before)
            if earlier is None:
                break
            before = earlier.get("key") or earlier["date"]
            if not earlier.get("stories"):
                continue
            stories += earlier["stories"]
            window = earlier["window"]
            ids = {i for s in earlier["stories"] for i in s.get("article_ids", [])}
            prints.update({a.id: a.fingerprint for a in self.store.received_between(
                datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"]))
                if a.id in ids})
        return stories, prints

    def _seen(self, group: list[StoredArticle], stories: list[dict[str, Any]],
              prints: dict[int, Any]) -> dict[str, Any] | None:
        """The earlier story ``group`` continues, or None."""
        threshold = self.settings.digest_similarity
        for story in stories:
            ids = set(story.get("article_ids", []))
            if any(a.id in ids for a in group):
                return story
            for article in group:
                if article.fingerprint is None:
                    continue
                for old in ids:
                    fp = prints.get(old)
                    if fp is not None and article.fingerprint.similarity(fp) >= threshold:
                        return story
        return None

    def build_period(self, period: Period) -> Digest:
        """The digest of ``period``: selected, clustered, earlier stories left out (or marked
        updates), ranked, capped, composed; stored and returned."""
        spec, settings, now = self.spec, self.settings, self.clock()
        found = self.store.received_between(period.start, period.end)
        taken, strength = spec.selection.select(found)
        groups = cluster(taken, settings.digest_similarity)
        earlier, prints = self._earlier(period)
        kept: list[list[StoredArticle]] = []
        updates: set[int] = set()
        repeated = 0
        for group in groups:
            seen = self._seen(group, earlier, prints) if earlier else None
            if seen is not None:
                new = {source_key(a) for a in group} - set(seen.get("source_keys", []))
                if not new:
                    repeated += 1
                    continue
                updates.add(id(group))
            kept.append(group)
        scored = rank_scored(kept, strength, period.end.timestamp())
        chosen = cap(scored, spec.max_stories, spec.max_per_source)
        stories = []
        for group, parts in chosen:
            story = compose_story(group, self.briefer, settings)
            story["score"] = parts
            story["update"] = id(group) in updates
            story["source_keys"] = sorted({source_key(a) for a in group})
            stories.append(story)
        digest = {
            "name": spec.name,
            "title": spec.title,
            "period": spec.period,
            "key": period.key,
            "date": period.day.isoformat(),
            "timezone": spec.timezone,
            "window": {"start": period.start.isoformat(), "end": period.end.isoformat(),
                       "hours": round((period.end - period.start).total_seconds() / 3600, 2)},
            "complete": now >= period.end,
            "built_at": now.isoformat(),
            "articles": len(found),
            "articles_selected": len(taken),
            "stories_total": len(kept),
            "stories_left_out_as_sent": repeated,
            "stories": stories,
            "overview": None,
            "clustering": {"fingerprint": FINGERPRINT_VERSION,
                           "threshold": settings.digest_similarity},
        }
        self.store.save_digest(period.key, spec.timezone, digest, name=spec.name)
        log.info("digest %s %s: %d article(s), %d selected, %d story(ies), %d shown",
                 spec.name, period.key, len(found), len(taken), len(kept), len(stories))
        return digest

    # -- delivering ------------------------------------------------------------------------

    def link(self, period: Period) -> str | None:
        base = self.settings.public_url
        return f"{base.rstrip('/')}/digests/{self.spec.name}/{period.day}" if base else None

    def _key(self, period: Period, destination: Destination) -> DeliveryKey:
        return DeliveryKey(period.key, self.spec.timezone, destination.id, digest=self.spec.name)

    def check(self, day: date, *, send: bool = True) -> None:
        start, _ = day_window(day, self.spec.zone)
        if start > self.clock():
            raise InvalidDate(f"{day} has not begun in {self.spec.timezone}")

    def run(self, day: date, *, send: bool = True, force: bool = False) -> NamedDigestState:
        self.check(day)
        return self.run_period(self.period(day), send=send, force=force)

    def _report(self, status: str, destination: Destination | None = None) -> None:
        if self._on_delivery is not None:
            self._on_delivery(status)
        outcome = DESTINATION_OUTCOME.get(status)
        if destination is not None and outcome and self._on_destination is not None:
            self._on_destination(self.spec.name, destination.kind, outcome)

    def run_period(self, period: Period, *, send: bool = True,
                   force: bool = False) -> NamedDigestState:
        """Build the period's digest and deliver it to each destination once; returns
        {"digest": …, "delivery": {"status", "detail", "destinations": [...]}}."""
        spec, now = self.spec, self.clock()
        if not send or not spec.destinations:
            why = "not_requested" if spec.destinations else "not_configured"
            return {"digest": self.build_period(period), "delivery": {"status": why}}
        if now < period.end and not force:
            return {"digest": self.build_period(period), "delivery": {
                "status": "day_not_over",
                "detail": f"{spec.name} {period.key} ends at "
                          f"{period.end.astimezone(spec.zone).isoformat()}; it is delivered "
                          "after that (force delivers now)"}}
        built: dict[str, Digest] = {}

        def digest() -> Digest:
            if "digest" not in built:
                built["digest"] = self.build_period(period)
            return built["digest"]

        pending = [d for d in spec.destinations if force or not self._delivered(period, d)]
        if pending and not self.settings.digest_post_empty and not digest()["stories"]:
            for destination in pending:
                self._report("skipped", destination)
            return {"digest": digest(), "delivery": {
                "status": "skipped",
                "detail": f"no stories in {spec.name} {period.key}: an empty digest is not "
                          "posted (BRIEFING_DIGEST_POST_EMPTY=true posts it)"}}
        results = [self._deliver(period, d, digest, force=force) for d in spec.destinations]
        statuses = {r["status"] for r in results}
        overall = ("delivered" if statuses <= {"delivered", "already_delivered"}
                   else "failed" if "failed" in statuses else "busy")
        if statuses == {"already_delivered"}:
            overall = "already_delivered"
        done = sum(r["status"] in ("delivered", "already_delivered") for r in results)
        stored = built.get("digest") or self.store.load_digest(
            period.key, spec.timezone, name=spec.name) or digest()
        return {"digest": stored, "delivery": {
            "status": overall, "detail": f"{done} of {len(results)} destination(s) delivered",
            "destinations": results}}

    def _delivered(self, period: Period, destination: Destination) -> bool:
        row = self.ledger.get(self._key(period, destination))
        return row is not None and row.status == "delivered"

    def _deliver(self, period: Period, destination: Destination,
                 digest: Callable[[], dict[str, Any]], *, force: bool) -> dict[str, Any]:
        key = self._key(period, destination)
        shown = destination.public()

        def plan() -> list[dict[str, Any]]:
            return plan_payloads(destination, digest(), title=self._title(period),
                                 link=self.link(period))

        try:
            with make_sender(destination, self.settings, self._sleep) as sender:
                outcome = deliver(self.ledger, key, plan, sender, force=force,
                                  lease_s=self.settings.delivery_lease_s,
                                  interval_s=(self.settings.slack_message_interval_s
                                              if destination.kind == "slack" else 0.0),
                                  sleep=self._sleep, on_sent=self._on_message)
        except DeliveryBusy as exc:
            self._report("busy", destination)
            return {**shown, "status": "busy", "detail": exc.message}
        except DeliveryFailed as exc:
            self._report("failed", destination)
            log.error("digest %s %s: %s", self.spec.name, period.key, exc.message)
            return {**shown, "status": "failed", "detail": exc.message}
        self._report(outcome.status, destination)
        result = outcome.as_dict()
        result.pop("webhook", None)
        result.pop("webhook_id", None)
        return {**shown, **result}

    def _title(self, period: Period) -> str:
        day = period.day
        if self.spec.period == "week":
            first = day - timedelta(days=6)
            return f"{self.spec.title} — {first.isoformat()} to {day.isoformat()}"
        if self.spec.period == "since_last":
            return f"{self.spec.title} — until {period.key.replace('T', ' ')}"
        return f"{self.spec.title} — {day:%a} {day.isoformat()}"

    # -- state -----------------------------------------------------------------------------

    def first_day(self) -> date | None:
        with self.store.database.read("could not read the articles") as conn:
            first = conn.execute(select(articles.c.received_at)
                                 .order_by(articles.c.received_at).limit(1)).scalar()
        return first.astimezone(self.spec.zone).date() if first is not None else None

    def is_done(self, day: date) -> bool:
        return self.period_done(self.period(day))

    def period_done(self, period: Period) -> bool:
        stored = self.store.load_digest(period.key, self.spec.timezone, name=self.spec.name)
        complete = bool(stored and stored.get("complete"))
        if complete and stored and not stored["stories"] and not self.settings.digest_post_empty:
            return True
        if not self.spec.destinations:
            return complete
        return all(self._delivered(period, d) for d in self.spec.destinations)

    def status(self, day: date) -> NamedDelivery:
        """Each destination's delivery state for ``day``'s period (URLs redacted)."""
        period = self.period(day)
        if not self.spec.destinations:
            return {"status": "not_configured", "destinations": []}
        shown = []
        for destination in self.spec.destinations:
            row = self.ledger.get(self._key(period, destination))
            entry: DestinationDelivery = {**destination.public(),
                                     "status": row.status if row else "not_delivered"}
            if row is not None:
                entry.update(messages=len(row.payloads or []), sent=row.sent,
                             delivered_at=row.delivered_at, last_error=row.last_error)
            shown.append(entry)
        statuses = {e["status"] for e in shown}
        overall = ("delivered" if statuses == {"delivered"} else "failed"
                   if "failed" in statuses else "partial" if "delivered" in statuses
                   else "not_delivered")
        return {"status": overall, "period": period.key, "destinations": shown}

    def send_test(self) -> list[dict[str, Any]]:
        """A test message to each destination (not in the ledger)."""
        results = []
        for destination in self.spec.destinations:
            try:
                with make_sender(destination, self.settings, self._sleep) as sender:
                    sender.send(trial_payload(destination, self.spec.name, self.spec.title))
                results.append({**destination.public(), "status": "sent"})
            except Exception as exc:  # noqa: BLE001 - every failure is reported, redacted
                from service.digest.slack_webhook import _SCRUBBER

                results.append({**destination.public(), "status": "failed",
                                "detail": _SCRUBBER.scrub(str(exc))})
        return results


# =============================================================================================
# Alerts
# =============================================================================================


class Alerts:
    """Each newly stored article that a digest with ``alerts = true`` takes is sent at once to
    that digest's destinations: once per (article, digest, destination)."""

    def __init__(self, jobs: list[NamedJob], *, background: bool = True,
                 on_alert: Callable[[str, str, str], None] | None = None) -> None:
        self.jobs = [j for j in jobs if j.spec.alerts and j.spec.destinations]
        # told (digest, destination kind, outcome: sent, failed, rate_limited, skipped)
        self._on_alert = on_alert
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest-alerts") \
            if background and self.jobs else None
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return bool(self.jobs)

    def on_article(self, article_id: int) -> None:
        """The article store's listener: queue the article (or send now without a pool)."""
        if not self.jobs:
            return
        if self._pool is None:
            self.dispatch(article_id)
        else:
            self._pool.submit(self._safely, article_id)

    def _safely(self, article_id: int) -> None:
        try:
            self.dispatch(article_id)
        except Exception:  # a worker thread must not die silently
            log.exception("alerts for article %d failed", article_id)

    def _article(self, job: NamedJob, article_id: int) -> StoredArticle | None:
        with job.store.database.read("could not read the article") as conn:
            received = conn.execute(select(articles.c.received_at)
                                    .where(articles.c.id == article_id)).scalar()
        if received is None:
            return None
        for stored in job.store.received_between(received, received + timedelta(microseconds=1)):
            if stored.id == article_id:
                return stored
        return None

    def dispatch(self, article_id: int) -> list[dict[str, Any]]:
        """Send the article's alerts; returns what each (digest, destination) did."""
        results: list[dict[str, Any]] = []
        stored: StoredArticle | None = None
        for job in self.jobs:
            stored = stored or self._article(job, article_id)
            if stored is None:
                return results
            if job.spec.selection.matches(stored):
                results += self._send_all(job, stored)
        return results

    def _send_all(self, job: NamedJob, stored: StoredArticle, *,
                  scan: bool = False) -> list[dict[str, Any]]:
        results = []
        for destination in job.spec.destinations:
            result = self._send(job, stored, destination)
            # a scan meets articles sent (or capped) before: only what it did is counted
            counted = not scan or result["status"] in ("delivered", "failed")
            if self._on_alert is not None and counted:
                self._on_alert(job.spec.name, destination.kind,
                               ALERT_OUTCOME.get(result["status"], "skipped"))
            results.append({"digest": job.spec.name, **destination.public(),
                            "article_id": stored.id, **result})
        return results

    # -- the scan: alerts that survive a restart ---------------------------------------------

    def scan(self) -> list[dict[str, Any]]:
        """Send the alerts of the articles received since each digest's mark (``alert_marks``,
        in the database: kept across restarts and shared by replicas), then move the mark to
        now. The scan starts ``ALERT_OVERLAP`` before the mark (an article committed late
        with an earlier time is not missed), and at most ``ALERT_MAX_BACK`` ago; without a
        mark, ``ALERT_LOOKBACK`` ago. The ledger keeps each (article, digest, destination)
        to one message, whoever sends it (the listener, this scan, another replica)."""
        results: list[dict[str, Any]] = []
        with self._lock:
            for job in self.jobs:
                now = job.clock()
                mark = self._mark(job)
                start = now - ALERT_LOOKBACK if mark is None \
                    else max(mark - ALERT_OVERLAP, now - ALERT_MAX_BACK)
                for stored in job.store.received_between(start, now):
                    if job.spec.selection.matches(stored):
                        results += self._send_all(job, stored, scan=True)
                self._set_mark(job, now)
        return results

    def scan_safely(self) -> None:
        """The scheduler's tick: :meth:`scan`, its failures logged (the next tick retries)."""
        try:
            sent = [r for r in self.scan() if r["status"] == "delivered"]
        except Exception:
            log.exception("the alert scan failed; the next one retries")
            return
        if sent:
            log.info("alert scan: %d alert(s) sent for articles stored while none was",
                     len(sent))

    @staticmethod
    def _mark(job: NamedJob) -> datetime | None:
        with job.store.database.read("could not read the alert mark") as conn:
            found: datetime | None = conn.execute(
                select(alert_marks.c.scanned_to).where(alert_marks.c.digest == job.spec.name)
            ).scalar()
        return found

    @staticmethod
    def _set_mark(job: NamedJob, now: datetime) -> None:
        database = job.store.database
        with database.write("could not store the alert mark") as conn:
            conn.execute(database.upsert(alert_marks, ["digest"]),
                         {"digest": job.spec.name, "scanned_to": now})

    def _send(self, job: NamedJob, stored: StoredArticle,
              destination: Destination) -> dict[str, Any]:
        spec = job.spec
        key = DeliveryKey(f"{ALERT_PREFIX}{stored.id}", spec.timezone, destination.id,
                          digest=spec.name)
        row = job.ledger.get(key)
        if row is not None and row.status == "delivered":
            return {"status": "already_delivered"}
        if row is None:
            hour_ago = job.clock() - timedelta(hours=1)
            sent = job.ledger.count_since(spec.name, destination.id, ALERT_PREFIX, hour_ago)
            if sent >= spec.alert_max_per_hour:
                log.warning("alert for article %d to %s (digest %s) not sent: "
                            "alert_max_per_hour=%d reached", stored.id, destination,
                            spec.name, spec.alert_max_per_hour)
                return {"status": "rate_limited"}

        def plan() -> list[dict[str, Any]]:
            story = compose_story([stored], job.briefer, job.settings)
            now = job.clock()
            digest = {"name": spec.name, "date": now.astimezone(spec.zone).date().isoformat(),
                      "timezone": spec.timezone, "complete": True, "built_at": now.isoformat(),
                      "stories": [story], "stories_total": 1, "overview": None, "alert": True}
            return plan_payloads(destination, digest, title=f"Alert: {spec.title}",
                                 link=story.get("url"))

        try:
            with make_sender(destination, job.settings, job._sleep) as sender:
                outcome = deliver(job.ledger, key, plan, sender,
                                  lease_s=job.settings.delivery_lease_s, interval_s=0.0,
                                  sleep=job._sleep)
        except (DeliveryBusy, DeliveryFailed) as exc:
            log.warning("alert for article %d (digest %s): %s", stored.id, spec.name,
                        exc.message)
            return {"status": "busy" if isinstance(exc, DeliveryBusy) else "failed",
                    "detail": exc.message}
        return {"status": outcome.status}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


# =============================================================================================
# The runtime: jobs, runs, the scheduler
# =============================================================================================


class TeamScheduler:
    """Each digest's cron (in its time zone), and at start the catch-up of each one's latest
    missed run (not before the service's first article)."""

    def __init__(self, jobs: list[NamedJob], *, clock: Callable[[], datetime] | None = None,
                 alert_scan: Callable[[], None] | None = None,
                 alert_scan_s: float = ALERT_SCAN_S) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        # the alerts' scan: at start (what arrived while no process ran), then every tick
        self._alert_scan = alert_scan
        self._alert_scan_s = alert_scan_s
        self.entries = [(job, CronTrigger.from_crontab(job.spec.schedule,
                                                        timezone=job.spec.zone))
                        for job in jobs if job.spec.schedule]
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})

    def due(self, job: NamedJob, trigger: CronTrigger) -> Period | None:
        fire = last_fire(trigger, self._clock().astimezone(job.spec.zone))
        return job.period_at(fire) if fire is not None else None

    def start(self, *, catch_up: bool = True) -> None:
        for job, trigger in self.entries:
            self._scheduler.add_job(self._fire, trigger, args=(job, trigger, "scheduled"),
                                    id=f"digest-{job.spec.name}", name=f"digest {job.spec.name}")
            if catch_up:
                self._scheduler.add_job(self._fire, args=(job, trigger, "catch-up"),
                                        id=f"digest-{job.spec.name}-catch-up")
        if self._alert_scan is not None:
            self._scheduler.add_job(self._alert_scan, "interval", seconds=self._alert_scan_s,
                                    next_run_time=datetime.now(UTC), id="digest-alerts-scan",
                                    name="digest alerts scan")
        self._scheduler.start()
        log.info("digests scheduled: %s", ", ".join(
            f"{j.spec.name} ({j.spec.schedule!r} in {j.spec.timezone})" for j, _ in self.entries)
            or "none")

    def _fire(self, job: NamedJob, trigger: CronTrigger, why: str) -> None:
        name = job.spec.name
        try:
            period = self.due(job, trigger)
            if period is None:
                return
            first = job.first_day()
            if first is None or period.day < first:
                log.info("digest %s %s for %s: skipped: before the first article", name, why,
                         period.key)
                return
            if why == "catch-up" and job.period_done(period):
                return
            result = job.run_period(period)
        except BriefingError as exc:
            log.error("digest %s %s failed: %s", name, why, exc.message)
            return
        except Exception:
            log.exception("digest %s %s failed", name, why)
            return
        delivery = result.get("delivery", {})
        log.info("digest %s %s for %s: %s", name, why, period.key,
                 delivery.get("detail") or delivery.get("status"))

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)


class TeamRuntime:
    """The digests of ``BRIEFING_DIGESTS_FILE`` in ``briefing serve``: their jobs, runs,
    scheduler and alerts."""

    def __init__(self, jobs: list[NamedJob], database: Database, *, lease_s: float,
                 schedule: bool = True, alerts_in_background: bool = True,
                 on_alert: Callable[[str, str, str], None] | None = None,
                 alert_scan_s: float = ALERT_SCAN_S) -> None:
        self.jobs = {job.spec.name: job for job in jobs}
        self.runs = {name: DigestRuns(job, database, name=name, lease_s=lease_s)
                     for name, job in self.jobs.items()}
        self.alerts = Alerts(jobs, background=alerts_in_background, on_alert=on_alert)
        self.scheduler = TeamScheduler(
            jobs, alert_scan=self.alerts.scan_safely if self.alerts.active else None,
            alert_scan_s=alert_scan_s) if schedule else None
        if self.scheduler is not None:
            self.scheduler.start()

    def job(self, name: str) -> NamedJob:
        try:
            return self.jobs[name]
        except KeyError:
            raise DigestUnknown(f"no digest named {name!r}: the digests are "
                                f"{', '.join(self.jobs) or 'none'}") from None

    def list(self) -> list[DigestSpecShown]:
        return [job.spec.public() for job in self.jobs.values()]

    def show(self, name: str, day_text: str) -> NamedDigestState:
        job = self.job(name)
        day = parse_day(day_text)
        period = job.period(day)
        digest = job.store.load_digest(period.key, job.spec.timezone, name=name)
        run = self.runs[name].status(day)
        if digest is None and run is None:
            raise DigestNotFound(f"no digest {name} for {day} ({job.spec.timezone}) yet: it "
                                 f"is built by its schedule, or now by POST "
                                 f"/v1/digests/{name}/{day}")
        return {"digest": digest, "delivery": job.status(day), "run": run}

    def start(self, name: str, day_text: str, *, send: bool = True,
              force: bool = False) -> NamedDigestState:
        self.job(name)
        self.runs[name].start(parse_day(day_text), send=send, force=force)
        return self.show(name, day_text)

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        for runs in self.runs.values():
            runs.close()
        self.alerts.close()


def open_jobs(specs: list[DigestSpec], settings: Settings, store: ArticleStore,
              briefer: StoryBriefer, ledger: DeliveryLedger, **hooks: Any) -> list[NamedJob]:
    return [NamedJob(spec, settings, store, briefer, ledger, **hooks) for spec in specs]


__all__ = ["ALERT_PREFIX", "Alerts", "DigestUnknown", "NamedJob", "Period", "TeamRuntime",
           "TeamScheduler", "open_jobs"]
