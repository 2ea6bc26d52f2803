"""Prometheus metrics, all prefixed ``briefing_``, in a registry owned by one app instance.

A registry per app (not the global one) lets tests build many apps in one process.

Labels are small closed sets (routes, statuses, queue names, briefing kinds): never a webhook
URL, an API key or any article text.
"""

from __future__ import annotations

import platform

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
    generate_latest,
)

import service

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# What a run of the daily job ended with: DailyJob.run's delivery statuses, and the errors it
# raises (busy: another run holds the delivery lease; failed: Slack refused a message; error:
# anything else, such as an unreadable ledger or a webhook on a host that is not allowed).
DELIVERY_STATUSES = (
    "delivered", "already_delivered", "failed", "busy", "day_not_over", "not_configured",
    "not_requested", "error",
)
# A digest's delivery to one destination, and an alert to one (several digests, issue 24)
DESTINATION_OUTCOMES = ("delivered", "failed", "skipped")
ALERT_OUTCOMES = ("sent", "failed", "rate_limited", "skipped")

# How a fetch ended (service/ingest/fetch.py): fetched, answered 304, or the error's code.
FETCH_OUTCOMES = (
    "ok", "not_modified", "url_not_allowed", "fetch_failed", "fetch_timeout", "too_large",
    "unsupported_content",
)
# How a feed poll ended (service/ingest/poller.py).
POLL_STATUSES = ("ok", "not_modified", "error", "gone")
# How one call to the LLM server ended (service/engines/llm.py), and why a briefing fell back
# to the extractive engine: the last call's outcome, or no slot / no time left for a call.
LLM_OUTCOMES = (
    "ok", "timeout", "unreachable", "rate_limited", "server_error", "refused", "bad_answer",
)
LLM_FALLBACK_REASONS = (*LLM_OUTCOMES[1:], "busy", "no_time")


class Metrics:
    """The service's counters, gauges and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # briefing_process_*: CPU seconds, resident memory, open files, start time (Linux)
        ProcessCollector(namespace="briefing", registry=self.registry)
        Info("briefing_build", "The running version", registry=self.registry).info({
            "version": service.__version__,
            "python": platform.python_version(),
        })
        self.requests = Counter(
            "briefing_http_requests", "HTTP requests by route, method and status",
            ["route", "method", "status"], registry=self.registry,
        )
        self.request_seconds = Histogram(
            "briefing_http_request_duration_seconds", "HTTP request latency by route",
            ["route", "method"], registry=self.registry,
            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.cache_hits = Counter(
            "briefing_cache_hits", "Briefings answered from the cache", registry=self.registry
        )
        self.cache_misses = Counter(
            "briefing_cache_misses", "Briefings that had to be generated", registry=self.registry
        )
        self.generation_seconds = Histogram(
            "briefing_generation_duration_seconds", "Engine time per generate() call",
            ["engine", "kind"], registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.engine_info = Gauge(
            "briefing_engine_info", "The engine that serves (1 = active)",
            ["engine", "model", "fallback"], registry=self.registry,
        )
        # -- llm engine (BRIEFING_ENGINE=llm) ----------------------------------------------
        self.llm_calls = Counter(
            "briefing_llm_calls",
            "Calls to the LLM server (each retry counts), by outcome", ["outcome"],
            registry=self.registry,
        )
        for outcome in LLM_OUTCOMES:
            self.llm_calls.labels(outcome)
        self.llm_call_seconds = Histogram(
            "briefing_llm_call_duration_seconds",
            "Time of one call to the LLM server, answered or not", registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120),
        )
        self.llm_tokens = Counter(
            "briefing_llm_tokens",
            "Tokens the LLM server reported (its usage): prompt (in) and completion (out)",
            ["direction"], registry=self.registry,
        )
        for direction in ("prompt", "completion"):
            self.llm_tokens.labels(direction)
        self.llm_fallbacks = Counter(
            "briefing_llm_fallbacks",
            "Briefings the extractive engine wrote because the LLM server failed, by why",
            ["reason"], registry=self.registry,
        )
        for reason in LLM_FALLBACK_REASONS:
            self.llm_fallbacks.labels(reason)
        self.llm_up = Gauge(
            "briefing_llm_up",
            "1 when the LLM server answered the last /readyz probe (GET /models), else 0",
            registry=self.registry,
        )
        # -- load ---------------------------------------------------------------------------
        self.inflight_briefings = Gauge(
            "briefing_inflight_briefings",
            "Briefing computations admitted and not finished (running or waiting for the "
            "engine); identical concurrent requests share one",
            registry=self.registry,
        )
        self.overloaded = Counter(
            "briefing_overloaded",
            "Requests answered 429 overloaded, by the queue that was full: admission "
            "(briefings in progress) or batcher (prompts waiting for the micro-batcher)",
            ["queue"], registry=self.registry,
        )
        self.overloaded.labels("admission")
        self.batch_size = Histogram(
            "briefing_batch_size", "Prompts per batch the micro-batcher ran (seq2seq engine)",
            registry=self.registry, buckets=(1, 2, 4, 8, 16, 32),
        )
        self.batch_size_mean = Gauge(
            "briefing_batch_size_mean",
            "Mean prompts per batch the micro-batcher ran since the start (seq2seq engine; 0 "
            "before the first batch): how well batches fill",
            registry=self.registry,
        )
        self.cancelled_prompts = Counter(
            "briefing_cancelled_prompts",
            "Prompts taken back from the micro-batcher because their request ended (timed out, "
            "client gone): queued (left the queue unrun) or running (batch abandoned)",
            ["state"], registry=self.registry,
        )
        for state in ("queued", "running"):
            self.cancelled_prompts.labels(state)
        # -- quality ------------------------------------------------------------------------
        self.unsupported_sentences = Counter(
            "briefing_unsupported_sentences",
            "Briefing sentences with facts not found in the source, by briefing and action "
            "(BRIEFING_UNSUPPORTED: flagged, dropped; repair: asked_again, then replaced or "
            "dropped)",
            ["briefing", "action"], registry=self.registry,
        )
        for kind in ("short", "long"):
            for action in ("flagged", "dropped", "asked_again", "replaced"):
                self.unsupported_sentences.labels(kind, action)
        self.input_truncated = Counter(
            "briefing_input_truncated",
            "Computed briefings whose input was cut (character limit or reduction limits)",
            registry=self.registry,
        )
        self.reduce_rounds = Histogram(
            "briefing_reduce_rounds", "Map-reduce rounds per computed (non-cached) briefing",
            registry=self.registry, buckets=(0, 1, 2, 3, 4, 8),
        )
        # -- daily digest -------------------------------------------------------------------
        self.digest_deliveries = Counter(
            "briefing_digest_deliveries",
            "Runs of the daily digest job in this server (scheduler and POST /v1/digests), "
            "by delivery outcome",
            ["status"], registry=self.registry,
        )
        for status in DELIVERY_STATUSES:
            self.digest_deliveries.labels(status)
        self.slack_messages = Counter(
            "briefing_slack_messages", "Slack messages posted successfully",
            registry=self.registry,
        )
        # -- several digests (issue 24): per digest and destination kind -------------------
        self.destination_deliveries = Counter(
            "briefing_digest_destination_deliveries",
            "Deliveries of a digest's period to one destination in this server, by digest, "
            "destination kind (slack, webhook, apprise) and outcome: delivered, failed, "
            "skipped (delivered before, being delivered by another run, or an empty digest "
            "not posted)",
            ["digest", "kind", "outcome"], registry=self.registry,
        )
        self.digest_alerts = Counter(
            "briefing_digest_alerts",
            "Alerts (an article sent at once by a digest with alerts = true) to one "
            "destination in this server, by digest, destination kind and outcome: sent, "
            "failed, rate_limited (alert_max_per_hour), skipped (sent before, or being sent)",
            ["digest", "kind", "outcome"], registry=self.registry,
        )

        # -- ingest: URLs and feeds -------------------------------------------------------
        self.fetches = Counter(
            "briefing_fetches", "URL fetches (pages, feeds, entries) by outcome",
            ["outcome"], registry=self.registry,
        )
        for outcome in FETCH_OUTCOMES:
            self.fetches.labels(outcome)
        self.feed_polls = Counter(
            "briefing_feed_polls", "Feed polls by status", ["status"], registry=self.registry,
        )
        for status in POLL_STATUSES:
            self.feed_polls.labels(status)
        self.feed_entries = Counter(
            "briefing_feed_entries_ingested",
            "Feed entries stored as articles (and briefed)", registry=self.registry,
        )

        # -- shared services (PostgreSQL, Redis) and retention -------------------------------
        self.redis_up = Gauge(
            "briefing_redis_up",
            "1 while Redis (BRIEFING_REDIS_URL) answers, 0 after a failure until it does again",
            registry=self.registry,
        )
        self.redis_errors = Counter(
            "briefing_redis_errors",
            "Redis calls that failed, by operation; the service did without Redis each time "
            "(database reads, this replica's single flight and rate limit)",
            ["op"], registry=self.registry,
        )
        self.rate_limited = Counter(
            "briefing_rate_limited", "Requests answered 429 rate_limited (BRIEFING_RATE_LIMIT)",
            registry=self.registry,
        )
        self.retention_deleted = Counter(
            "briefing_retention_deleted",
            "Rows deleted by retention (BRIEFING_RETENTION_DAYS), by table",
            ["table"], registry=self.registry,
        )
        for table in ("articles", "briefings", "feed_entries", "entry_listings", "leases"):
            self.retention_deleted.labels(table)

    def count_fetch(self, outcome: str) -> None:
        self.fetches.labels(outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
