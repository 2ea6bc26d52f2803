"""Admission control for generation: bounded work in flight, identical requests computed once.

Generation is the expensive step; when more requests arrive than the engine can work off,
waiting longer helps nobody. A full queue answers 429 at once (backpressure) instead of piling
up threads, and identical concurrent requests share one computation (single flight).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from service.errors import Overloaded

T = TypeVar("T")


class Admission:
    """At most ``limit`` computations at once (one running plus the queue); others get 429."""

    def __init__(self, limit: int, *, retry_after_s: int = 1) -> None:
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._in_flight = 0
        self.limit = limit
        self.retry_after_s = retry_after_s

    @property
    def in_flight(self) -> int:
        """Computations admitted and not finished (running, or waiting for the engine)."""
        return self._in_flight

    def run(self, fn: Callable[[], T]) -> T:
        if not self._slots.acquire(blocking=False):
            raise Overloaded(
                f"the service is busy ({self.limit} briefings in progress or queued); "
                f"retry after {self.retry_after_s}s",
                retry_after_s=self.retry_after_s, queue="admission",
            )
        with self._lock:
            self._in_flight += 1
        try:
            return fn()
        finally:
            with self._lock:
                self._in_flight -= 1
            self._slots.release()


class SingleFlight:
    """Concurrent calls with the same key share the first caller's result (or its error)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, Future[object]] = {}

    def run(self, key: str, fn: Callable[[], T]) -> tuple[T, bool]:
        """(result, shared): ``shared`` is True when another caller did the work."""
        with self._lock:
            future = self._calls.get(key)
            leader = future is None
            if future is None:
                future = Future()
                self._calls[key] = future
        if not leader:
            return future.result(), True  # type: ignore[return-value]
        try:
            result = fn()
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            future.set_result(result)
            return result, False
        finally:
            with self._lock:
                del self._calls[key]
