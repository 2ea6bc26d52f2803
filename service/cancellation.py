"""A request's lifetime, so that its cost ends when the request does.

When a request ends — answered, past ``BRIEFING_REQUEST_TIMEOUT_S``, or its client gone —
whatever it still has in the engine is work nobody will read. A :class:`Cancellation` is
handed down the request path; the stages that wait for the engine register what to undo
(``on_cancel``: the micro-batcher withdraws the request's queued prompts and marks its
running ones abandoned), and the stages between model passes ask ``check()``.

``serve_within`` is the HTTP side: it waits for a request's work in the event loop while
watching the deadline and the client's connection, and cancels the work when either ends.
(The connection is watched by waiting for the server's ``http.disconnect`` message, not by
polling ``Request.is_disconnected``, which never sees it through Starlette's
``BaseHTTPMiddleware``.)
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from service.errors import RequestCancelled, RequestTimeout, ServiceError

log = logging.getLogger(__name__)

T = TypeVar("T")

TIMEOUT = "timeout"


class Cancellation:
    """Cancelled once, for a reason; past its ``deadline`` (``time.monotonic()``) it counts
    as cancelled for ``timeout`` even before anyone calls :meth:`cancel`."""

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()

    @property
    def reason(self) -> str | None:
        if self._reason is None and self.expired():
            return TIMEOUT
        return self._reason

    @property
    def cancelled(self) -> bool:
        return self.reason is not None

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    def cancel(self, reason: str = "cancelled") -> bool:
        """Cancel now and run the registered callbacks once; False when already cancelled."""
        with self._lock:
            if self._reason is not None:
                return False
            self._reason = TIMEOUT if self.expired() else reason
            callbacks = list(self._callbacks.values())
            self._callbacks.clear()
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one undo failing must not keep the others from running
                log.exception("a cancellation callback failed")
        return True

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` when cancelled (at once if already); returns its removal."""
        with self._lock:
            if self._reason is None:
                key = next(self._ids)
                self._callbacks[key] = callback
                return lambda: self._callbacks.pop(key, None) and None
        callback()
        return lambda: None

    def wait(self, event: threading.Event) -> bool:
        """Wait for ``event`` until cancelled or past the deadline (which cancels with
        ``timeout``); True when the event is set."""
        remove = self.on_cancel(event.set)
        try:
            while not event.wait(self.remaining()):
                self.cancel(TIMEOUT)
            return not self.cancelled
        finally:
            remove()

    def check(self) -> None:
        """Raise the matching error when cancelled; the next step must not start."""
        if self.cancelled:
            if self._reason is None:  # past the deadline: undo what is registered
                self.cancel(TIMEOUT)
            raise self.error()

    def error(self, timeout_s: float | None = None) -> ServiceError:
        """The error that ends the request; ``timeout_s``: the timeout, for the message."""
        if self.reason == TIMEOUT:
            after = f"{timeout_s:g}s " if timeout_s is not None else ""
            return RequestTimeout(
                f"the briefing took longer than {after}(BRIEFING_REQUEST_TIMEOUT_S); its work "
                "was stopped and the article is stored. Retry later, or send a shorter text"
            )
        return RequestCancelled(f"the request ended before its briefing was done ({self.reason})")


async def serve_within(
    work: Awaitable[T], cancellation: Cancellation, *, timeout_s: float,
    client_left: Awaitable[object] | None = None,
) -> T:
    """``work``'s result, or RequestTimeout after ``timeout_s``, or RequestCancelled when
    ``client_left`` completes first (the client closed the connection); either way
    ``cancellation`` is cancelled, so the work stops at its next step and frees its place in
    the queues at once."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(client_left) if client_left is not None else None
    try:
        waiting = {task} if watcher is None else {task, watcher}
        done, _ = await asyncio.wait(waiting, timeout=timeout_s,
                                     return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        if watcher is not None and watcher in done:
            cancellation.cancel("the client went away")
            raise cancellation.error()
        cancellation.cancel(TIMEOUT)
        raise cancellation.error(timeout_s)
    finally:
        if watcher is not None and not watcher.done():
            watcher.cancel()
        if not task.done():
            # The thread finishes on its own at its next step; nobody reads its outcome.
            task.add_done_callback(_discard)
            cancellation.cancel("the request ended")


async def client_left(receive: Callable[[], Awaitable[dict[str, object]]]) -> None:
    """Completes when the ASGI server says the client disconnected (call it once the body
    has been read: then a disconnect is the only message left)."""
    while (await receive()).get("type") != "http.disconnect":
        pass


def _discard(task: asyncio.Future[object]) -> None:
    if not task.cancelled():
        task.exception()


__all__ = ["Cancellation", "client_left", "serve_within"]
