"""Opening the services, stage by stage, while the port already answers.

The app's lifespan makes one :class:`Startup` per start (``app.state.startup``) and runs
:meth:`Startup.run`: on a thread of its own under ``briefing serve``, so uvicorn opens the
port at once and ``/readyz`` can say ``starting`` (with the stage) while the model loads; or
before the lifespan's startup ends, for an app embedded in-process (the tests' clients, the
benchmarks), which is then ready as soon as it has started. Until the services are open,
every route that needs them answers 503 ``starting`` with Retry-After
(:meth:`Startup.check`, called by the route dependencies in :mod:`service.api.deps`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from service.articles import ArticleListing
from service.briefing import BriefingService
from service.config import Settings
from service.digest.scheduler import DailyRuntime
from service.errors import BriefingError, ServiceError, Starting
from service.ingest.runtime import Ingest
from service.metrics import Metrics
from service.preprocess.language import load_identifier
from service.ratelimit import RateLimiter
from service.results import Ready
from service.storage.retention import RetentionJob
from service.wiring import Wiring

log = logging.getLogger(__name__)

Status = Literal["starting", "ready", "failed", "stopping"]

# How long a shutdown that comes during the start waits for the stage in progress (a model
# load cannot be interrupted) before the process exits without it.
STOP_WAIT_S = 10.0
# Retry-After of the 503 `starting` answers.
RETRY_AFTER_S = 5


@dataclass
class Opened:
    """What a start opened (all of it once ready; part of it when a start is abandoned):
    the shared parts (``wiring``) and the subsystems built over them."""

    wiring: Wiring | None = None
    service: BriefingService | None = None
    articles: ArticleListing | None = None
    daily: DailyRuntime | None = None
    rate_limiter: RateLimiter | None = None
    retention: RetentionJob | None = None
    ingest: Ingest | None = None

    def close(self) -> None:
        """Close in the reverse order of opening; each part finishes its work in progress."""
        if self.ingest is not None:
            self.ingest.close()  # after the feed being polled
        if self.retention is not None:
            self.retention.stop()
        if self.daily is not None:
            self.daily.close()  # a running digest finishes first
        if self.wiring is not None:
            # The micro-batcher finishes what is queued before the cache and store close.
            self.wiring.close()


class StartStopped(Exception):
    """The app began to stop before its start was done."""


class Startup:
    """One start of the app: its status, the stage in progress, and what it opened."""

    def __init__(
        self, settings: Settings, metrics: Metrics, *,
        on_failed: Callable[[str], None] | None = None, stop_wait_s: float | None = None,
        prepare_routes: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.prepare_routes = prepare_routes  # the app's routes' first-match work, done early
        self.on_failed = on_failed  # told the reason when a start fails (serve exits then)
        self.stop_wait_s = STOP_WAIT_S if stop_wait_s is None else stop_wait_s
        self.status: Status = "starting"
        self.stage = "waiting for the server to run the app's startup"
        self.error: str | None = None
        self.opened = Opened()
        self._began = time.monotonic()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._failure: BaseException | None = None

    # -- what requests see ---------------------------------------------------------------

    def elapsed_s(self) -> float:
        return time.monotonic() - self._began

    def describe(self) -> Ready:
        """``/readyz`` while not ready: the status, and the stage and time, or the error."""
        if self.status == "starting":
            return {"status": "starting", "stage": self.stage,
                    "elapsed_s": round(self.elapsed_s(), 1)}
        if self.status == "failed":
            return {"status": "failed", "stage": self.stage, "error": self.error}
        return {"status": self.status}

    def check(self) -> None:
        """Nothing once ready; otherwise the error a request that needs the services gets."""
        status = self.status
        if status == "ready":
            return
        if status == "starting":
            raise Starting(
                f"the service is starting, {self.elapsed_s():.0f}s so far: {self.stage}. "
                f"Retry in {RETRY_AFTER_S}s", retry_after_s=RETRY_AFTER_S,
            )
        if status == "failed":
            raise ServiceError(f"the service did not start: {self.error}")
        raise ServiceError("the service is shutting down")

    # -- the start -----------------------------------------------------------------------

    def run(self, publish: Callable[[Opened], None]) -> None:
        """Open everything, stage by stage, then ``publish`` it (under the lock that
        :meth:`stop` takes, so a stop sees either a ready app or an unfinished start).

        Never raises: a failure closes what was opened, is logged, kept (``status`` failed,
        ``error``) and told to ``on_failed``; a stop during the start closes what was opened.
        """
        try:
            self._open()
            with self._lock:
                if self._stopping.is_set():
                    raise StartStopped
                publish(self.opened)
                self.status = "ready"
            log.info("ready in %.1fs", self.elapsed_s())
        except StartStopped:
            log.info("the start stopped while %s; closing what it opened", self.stage)
            self._close_opened()
        except Exception as exc:
            # A BriefingError says what to do; anything else is a bug, whose traceback is
            # logged at --log-level debug. One paragraph, however many lines a library's
            # error has (a tokenizer's runs to six).
            if isinstance(exc, BriefingError):
                message, trace = exc.message, None
            else:
                message, trace = f"{type(exc).__name__}: {exc}", exc
            message = " ".join(message.split())
            if trace is not None and not log.isEnabledFor(logging.DEBUG):
                message, trace = f"{message} (--log-level debug logs the traceback)", None
            log.error("the service did not start (while %s): %s", self.stage, message,
                      exc_info=trace)
            self._close_opened()
            with self._lock:
                stopping = self._stopping.is_set()
                self.status = "failed"
                self.error = message
                self._failure = exc
            if self.on_failed is not None and not stopping:
                self.on_failed(message)
        finally:
            self._done.set()

    def raise_failure(self) -> None:
        """Re-raise what made the start fail (an in-process start fails as it did inline)."""
        if self._failure is not None:
            raise self._failure

    def stop(self) -> bool:
        """The app is stopping: True when it was ready (the caller closes ``opened``); else
        the start in progress stops after its current stage and closes what it opened."""
        with self._lock:
            was_ready = self.status == "ready"
            if self.status in ("starting", "ready"):
                self.status = "stopping"
            self._stopping.set()
        return was_ready

    def wait(self, timeout_s: float) -> bool:
        """Wait for the start to end (done, failed or stopped); False if it has not."""
        return self._done.wait(timeout_s)

    def _stage(self, stage: str) -> None:
        if self._stopping.is_set():
            raise StartStopped
        self.stage = stage
        log.info("starting: %s", stage)

    def _open(self) -> None:
        settings, metrics, opened = self.settings, self.metrics, self.opened
        if settings.engine == "extractive":
            self._stage("opening storage (extractive engine: no model to load)")
        elif settings.engine == "llm":
            self._stage(f"opening storage (llm engine: {settings.llm_model!r} on "
                        f"{settings.llm_base_url}, asked per briefing)")
        else:
            self._stage(f"loading the model {settings.model!r} (at most "
                        f"{settings.model_load_timeout_s:g}s), then opening storage")
        # The language identifier's model loads beside the model and storage (its
        # decompression runs while they load); the warm-up below needs it.
        identifier = threading.Thread(target=load_identifier, name="load-language-model",
                                      daemon=True)
        identifier.start()
        opened.wiring = wiring = Wiring.open(settings, metrics)
        identifier.join()
        opened.service = wiring.briefing
        opened.articles = wiring.listing
        # What loads on first use (language identification, splitter rules, check patterns)
        # loads now: the first request after ready costs what the next ones do.
        self._stage("warming the request path")
        try:
            began = time.perf_counter()
            if self.prepare_routes is not None:
                self.prepare_routes()
            routes_s = time.perf_counter() - began
            path_s = wiring.briefing.warm()
            log.info("request path warmed in %.0f ms (the routes %.0f ms)",
                     (routes_s + path_s) * 1000, routes_s * 1000)
        except Exception:  # only a warm-up: the first request then pays for what it loads
            log.warning("warming the request path failed", exc_info=True)
        # The daily digest job (and its scheduler when BRIEFING_DAILY_CRON is set).
        self._stage("starting the daily digest job")
        opened.daily = wiring.daily()
        # Shared with the other replicas through Redis when it is configured.
        opened.rate_limiter = wiring.rate_limiter()
        retention = wiring.retention()
        if retention is not None:
            self._stage("starting the retention job")
            opened.retention = retention
            retention.start()
        # Pages by URL, and the feeds with their poller (BRIEFING_FEEDS_POLL_S; 0: off).
        self._stage("starting feeds")
        opened.ingest = wiring.ingest()
        opened.ingest.start_polling()

    def _close_opened(self) -> None:
        try:
            self.opened.close()
        except Exception:  # the start's own failure (or stop) is what matters
            log.exception("closing what the start had opened failed")
        self.opened = Opened()


__all__ = ["Opened", "RETRY_AFTER_S", "STOP_WAIT_S", "Startup"]
