"""The composition root: the one place that opens the shared parts and hands them out.

:class:`Wiring` opens, once each and only when first asked for, the database (migrated),
Redis (when ``BRIEFING_REDIS_URL`` is set), the briefing cache (the database's, with the
Redis hot cache in front), the article and feed stores, the prompts and the engine; then it
builds each subsystem from the typed parts it needs:

==================  =============================================================
``briefing``        the request path (:class:`~service.briefing.BriefingService`)
``daily()``         the digest runtime (job, ledger, scheduler, runs)
``ingest()``        pages by URL and the feeds with their poller
``retention()``     the retention job (``BRIEFING_RETENTION_DAYS``)
``rate_limiter()``  the per-key rate limit (``BRIEFING_RATE_LIMIT``)
``story_briefer()`` the digest's briefings: cached ones without loading the engine
==================  =============================================================

The app's start (:mod:`service.api.startup`), the CLI's commands and the tests open one
``Wiring`` and close it when done; nothing else constructs a database, a Redis link, a cache,
a store or an engine. :meth:`Wiring.close` closes what was opened, in the reverse order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from service.articles import ArticleListing
from service.briefing import BriefingService
from service.config import Settings
from service.digest.compose import StoryBriefer
from service.digest.fingerprint import ARTICLES
from service.digest.ledger import DeliveryLedger
from service.digest.scheduler import DailyRuntime
from service.digest.specs import read_digests_file
from service.digest.team import NamedJob, TeamRuntime, open_jobs
from service.engines import EngineChoice, prompt_family, select_engine
from service.engines.batcher import BatchedEngine
from service.ingest.guard import Resolver
from service.ingest.poller import Clock
from service.ingest.runtime import Ingest
from service.metrics import ALERT_OUTCOMES, DESTINATION_OUTCOMES, Metrics
from service.preprocess.pysbd_runner import use_fast_path
from service.prompts import PromptSet, load_prompts
from service.ratelimit import RateLimiter
from service.storage import Database
from service.storage.articles import ArticleStore
from service.storage.cache import DatabaseCache
from service.storage.feeds import FeedStore
from service.storage.flight import ReplicaFlight
from service.storage.hot_cache import BriefingCache, HotCache
from service.storage.leases import DatabaseLeases, FallbackLeases, LeaseStore, RedisLeases
from service.storage.redis_link import RedisLink
from service.storage.retention import RetentionJob

log = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = ["Wiring"]


class Wiring:
    """The shared parts of one process, each opened once on first use, and the subsystems
    built over them."""

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self._closers: list[Callable[[], None]] = []  # storage and Redis, as opened

    @classmethod
    def open(cls, settings: Settings, metrics: Metrics | None = None) -> Wiring:
        """Everything a request needs, opened now: the engine (loaded), then storage."""
        wiring = cls(settings, metrics)
        try:
            wiring.briefing  # noqa: B018 - opens the engine, storage, cache and store
        except BaseException:
            wiring.close()
            raise
        return wiring

    def _opened(self, part: T, close: Callable[[], None]) -> T:
        self._closers.append(close)
        return part

    # -- shared parts ---------------------------------------------------------------------

    @cached_property
    def database(self) -> Database:
        database = Database.open(self.settings)
        log.info("storage: %s", database.url)
        return self._opened(database, database.close)

    def unmigrated_database(self) -> Database:
        """The database as it is, not migrated (``briefing db``); closed with the rest."""
        database = Database.open(self.settings, migrate=False)
        return self._opened(database, database.close)

    @cached_property
    def redis(self) -> RedisLink | None:
        settings = self.settings
        if settings.redis_url is None:
            return None
        link = RedisLink(settings.redis_url.get_secret_value(), prefix=settings.redis_prefix,
                         metrics=self.metrics, timeout_s=settings.redis_timeout_s)
        log.info("shared hot cache, single flight and rate limit: Redis at %s", link.url)
        return self._opened(link, link.close)

    @cached_property
    def cache(self) -> BriefingCache:
        """The briefing cache: the database's, with Redis in front when configured."""
        cache: BriefingCache = DatabaseCache(self.database)
        if self.redis is not None:
            cache = HotCache(cache, self.redis, ttl_s=self.settings.redis_cache_ttl_s)
        return cache

    @cached_property
    def articles(self) -> ArticleStore:
        """Accepted articles and built digests; fingerprints are the digest's."""
        return ArticleStore(self.database, ARTICLES)

    @cached_property
    def listing(self) -> ArticleListing:
        """The stored articles with their short briefings, as the API and pages list them."""
        return ArticleListing(self.settings, self.articles, self.cache)

    @cached_property
    def feeds(self) -> FeedStore:
        return FeedStore(self.database)

    @cached_property
    def leases(self) -> LeaseStore:
        """Leases in Redis when configured (the database while Redis is away), else in the
        database."""
        database_leases = DatabaseLeases(self.database)
        if self.redis is None:
            return database_leases
        return FallbackLeases(RedisLeases(self.redis), database_leases)

    @cached_property
    def replica_flight(self) -> ReplicaFlight | None:
        if self.redis is None:
            return None
        return ReplicaFlight(self.redis, lease_s=self.settings.flight_lease_s)

    @cached_property
    def prompts(self) -> PromptSet:
        return load_prompts(self.settings.prompts_dir, family=prompt_family(self.settings))

    @cached_property
    def engine_choice(self) -> EngineChoice:
        """The engine that serves (loaded), and its fallback."""
        settings, metrics = self.settings, self.metrics
        use_fast_path(settings.sentence_fast_path)
        choice = select_engine(
            settings, self.prompts, on_batch=metrics.batch_size.observe,
            on_cancelled=lambda where, n: metrics.cancelled_prompts.labels(where).inc(n),
            metrics=metrics,
        )
        engine = choice.engine
        if isinstance(engine, BatchedEngine):
            metrics.overloaded.labels("batcher")  # a zero to rate() from, before any refusal
            batcher = engine.batcher
            metrics.batch_size_mean.set_function(lambda: batcher.mean_batch_size)
        metrics.engine_info.labels(
            engine.name, engine.model_id, "yes" if choice.fallback_reason else "no"
        ).set(1)
        log.info("serving with the %s engine (model %r)", engine.name, engine.model_id or "-")
        return choice

    # -- subsystems -----------------------------------------------------------------------

    @cached_property
    def briefing(self) -> BriefingService:
        """The request path: the engine is loaded first, then storage opens."""
        choice = self.engine_choice
        return BriefingService(
            self.settings, choice, self.prompts, self.cache, self.articles, self.metrics,
            replica_flight=self.replica_flight,
        )

    def story_briefer(self) -> StoryBriefer:
        """The digest's briefings: the cache, and the request path (the engine loads only
        when a briefing must be generated)."""
        cache = self.cache
        return StoryBriefer(cache.get, lambda: self.briefing)

    def daily(self, *, schedule: bool = True) -> DailyRuntime:
        """The digest runtime over the request path; with ``schedule``, its cron. With
        ``BRIEFING_DIGESTS_FILE``, the file's digests (each scheduled) and their alerts."""
        briefer = StoryBriefer.for_service(self.briefing)
        team = self.team(briefer, schedule=schedule) if self.settings.digests_file else None
        return DailyRuntime.open(self.settings, self.articles, self.database, briefer,
                                 schedule=schedule, metrics=self.metrics, team=team)

    def digest_jobs(self, briefer: StoryBriefer | None = None, **hooks: Any) -> list[NamedJob]:
        """The digests of ``BRIEFING_DIGESTS_FILE`` as jobs (the CLI runs them)."""
        specs = read_digests_file(self.settings.digests_file, self.settings) \
            if self.settings.digests_file else []
        return open_jobs(specs, self.settings, self.articles, briefer or self.story_briefer(),
                         DeliveryLedger(self.database), **hooks)

    def team(self, briefer: StoryBriefer, *, schedule: bool = True) -> TeamRuntime:
        """The file's digests: jobs, runs, scheduler; their alerts hear each new article.
        Each destination's deliveries and alerts are counted in the metrics."""
        metrics = self.metrics
        jobs = self.digest_jobs(briefer, on_destination=lambda digest, kind, outcome:
                                metrics.destination_deliveries.labels(digest, kind,
                                                                      outcome).inc())
        for job in jobs:  # zeros to rate() from, for each digest and kind configured
            for kind in {d.kind for d in job.spec.destinations}:
                for outcome in DESTINATION_OUTCOMES:
                    metrics.destination_deliveries.labels(job.spec.name, kind, outcome)
                for outcome in ALERT_OUTCOMES if job.spec.alerts else ():
                    metrics.digest_alerts.labels(job.spec.name, kind, outcome)
        team = TeamRuntime(jobs, self.database, lease_s=self.settings.delivery_lease_s,
                           schedule=schedule,
                           on_alert=lambda digest, kind, outcome:
                           metrics.digest_alerts.labels(digest, kind, outcome).inc())
        if team.alerts.active:
            self.articles.listeners.append(team.alerts.on_article)
        return team

    def ingest(self, *, resolver: Resolver | None = None, clock: Clock | None = None) -> Ingest:
        """Pages by URL and the feeds, over the request path (the caller closes it)."""
        return Ingest(self.settings, self.briefing, self.feeds, self.leases, self.metrics,
                      resolver=resolver, clock=clock)

    def retention(self) -> RetentionJob | None:
        """The retention job (not started), or None when BRIEFING_RETENTION_DAYS is 0."""
        settings, metrics = self.settings, self.metrics
        if not settings.retention_days:
            return None
        return RetentionJob(
            self.database, settings.retention_days, interval_s=settings.retention_interval_s,
            on_deleted=lambda table, n: metrics.retention_deleted.labels(table).inc(n),
        )

    def rate_limiter(self) -> RateLimiter | None:
        """The per-key rate limit, shared through Redis when configured; None when off."""
        if not self.settings.rate_limit:
            return None
        return RateLimiter(self.settings.rate_limit, self.redis)

    def close(self) -> None:
        """Close what was opened: the engine first (the micro-batcher finishes what is
        queued while the cache and store still answer), then Redis and the database."""
        choice = self.__dict__.pop("engine_choice", None)
        if choice is not None:
            choice.engine.close()
        while self._closers:
            self._closers.pop()()
        for part in ("briefing", "cache", "listing", "articles", "feeds", "leases",
                     "replica_flight", "redis", "database"):
            self.__dict__.pop(part, None)
