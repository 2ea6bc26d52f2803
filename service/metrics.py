"""Prometheus metrics, all prefixed ``briefing_``, in a registry owned by one app instance.

A registry per app (not the global one) lets tests build many apps in one process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The service's counters and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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

    def render(self) -> bytes:
        return generate_latest(self.registry)
