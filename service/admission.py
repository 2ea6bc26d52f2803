"""Admission control for generation: bounded work in flight, identical requests computed once.

Generation is the expensive step; when more requests arrive than the engine can work off,
waiting longer helps nobody. A full queue answers 429 at once (backpressure) instead of piling
up threads, and identical concurrent requests share one computation (single flight), which
stops once every request that wanted it has ended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TypeVar

from service.cancellation import Cancellation
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


@dataclass
class _Flight:
    future: Future[object]
    cancellation: Cancellation  # the shared computation's: cancelled when every caller left
    callers: int = 0
    deadlines: list[float | None] = field(default_factory=list)


class SingleFlight:
    """Concurrent calls with the same key share the first caller's result (or its error).

    The shared computation runs under its own :class:`Cancellation`: it ends when every
    caller has gone (each one's own cancellation fired) and at the latest of their deadlines,
    so one impatient caller neither stops the work for the others nor keeps it alive alone.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Flight] = {}

    def run(
        self, key: str, fn: Callable[[Cancellation], T], cancellation: Cancellation | None = None
    ) -> tuple[T, bool]:
        """(result, shared): ``shared`` is True when another caller did the work."""
        own = cancellation or Cancellation()
        with self._lock:
            flight = self._calls.get(key)
            leader = flight is None or flight.cancellation.cancelled
            if leader:  # none running, or one whose callers have all gone: start afresh
                flight = _Flight(Future(), Cancellation())
                self._calls[key] = flight
            assert flight is not None
            flight.callers += 1
            flight.deadlines.append(own.deadline)
            deadlines = flight.deadlines
            flight.cancellation.deadline = (
                None if None in deadlines else max(d for d in deadlines if d is not None)
            )
        leave = own.on_cancel(lambda: self._leave(flight))
        try:
            if not leader:
                done = threading.Event()
                flight.future.add_done_callback(lambda _: done.set())
                if not own.wait(done):
                    raise own.error()
                return flight.future.result(), True  # type: ignore[return-value]
            try:
                result = fn(flight.cancellation)
            except BaseException as exc:
                flight.future.set_exception(exc)
                raise
            flight.future.set_result(result)
            return result, False
        finally:
            leave()
            with self._lock:
                if leader and self._calls.get(key) is flight:
                    del self._calls[key]

    def _leave(self, flight: _Flight) -> None:
        with self._lock:
            flight.callers -= 1
            last = flight.callers == 0
        if last and not flight.future.done():
            flight.cancellation.cancel("every caller has gone")
