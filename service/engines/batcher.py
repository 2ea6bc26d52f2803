"""Micro-batching between the request path and a batchable engine.

Requests from many callers queue up and run together, because one batch of eight costs far
less than eight single runs (the weights are read once per step for the whole batch).

    callers: prepare ─▶ [bounded queue] ─▶ generate thread ─▶ [queue] ─▶ decode thread
    (render, tokenize)   429 when full     length-sorted batches        futures resolved

1. prepare runs in the caller's thread (request threads are many), so tokenizing the next
   requests overlaps the batch being generated. A request that fails to prepare fails alone,
   before it is queued.
2. The generate thread takes the oldest waiting item and lets its batch gather while callers
   are still arriving: it runs as soon as the batch is full, or no caller is preparing and
   none arrived for ``_QUIET_S`` (1 ms), or at the latest ``max_wait_ms`` after the oldest
   arrived (the bound). A lone request runs at once (after its 1 ms of quiet); eight
   callers arriving together are decoded together. A batch holds items with the same
   generation settings: at most ``max_batch_size`` of them and ``max_batch_tokens`` padded
   input tokens × beams (which bounds memory: bench/batch_memory.py), chosen among the
   waiting ones by input length around the oldest (little padding; the oldest is always in,
   so nothing starves). Items whose caller has gone are dropped.
3. The decode thread turns ids into text and resolves each caller's future.

A batch that fails is retried item by item, so a failing item fails only its own request. A
full queue raises :class:`~service.errors.Overloaded` at once (backpressure, not a timeout).

A caller that stops waiting (its request timed out, its client went away: see
service/cancellation.py) takes its prompts back at once: queued ones leave the queue, so their
slots are free for the next request, and running ones are marked abandoned; a running batch
whose every prompt is abandoned stops at its next decoding step (where the runtime can stop:
torch always, CTranslate2 under greedy search; otherwise the batch ends its pass).

``on_batch``, when given, is told each batch's size as it starts, and ``on_cancelled`` how
many prompts were withdrawn (``queued``) or abandoned while running (``running``); the service
turns both into metrics, the batcher itself knows nothing of metrics.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from service.cancellation import Cancellation
from service.engines.base import BatchableEngine, GenerationRequest, Prepared
from service.errors import Overloaded, RequestCancelled, ServiceError

log = logging.getLogger(__name__)

# How many batches' worth of waiting items the length sort looks at.
_SORT_WINDOW_BATCHES = 4
# A batch runs once no prompt arrived for this long and no caller is preparing one (within
# ``max_wait_ms`` of its oldest prompt's arrival, whichever comes first).
_QUIET_S = 0.001


@dataclass
class _Item:
    prepared: Prepared
    future: Future[str]
    arrived: float  # time.monotonic()
    order: int  # arrival order, for FIFO fairness between equal times
    outputs: list[int] = field(default_factory=list)
    abandoned: bool = False  # running, but its caller has gone

    @property
    def length(self) -> int:
        return len(self.prepared.ids)


class MicroBatcher:
    """Groups prepared items into batches and runs them on an engine's own threads."""

    def __init__(
        self, engine: BatchableEngine, *, max_batch_size: int = 8, max_wait_ms: float = 5.0,
        max_queue: int = 256, max_batch_tokens: int | None = None, retry_after_s: int = 1,
        on_batch: Callable[[int], None] | None = None,
        on_cancelled: Callable[[str, int], None] | None = None, parallel_batches: int = 1,
    ) -> None:
        self.engine = engine
        # Batches the engine runs at the same time (CTranslate2's inter_threads): one
        # generate thread each; prompts due together are split between the idle ones.
        self.parallel_batches = max(1, parallel_batches)
        self._running = 0  # batches being generated now
        self.on_batch = on_batch  # called with each batch's size, on the generate thread
        self.on_cancelled = on_cancelled  # ("queued" | "running", how many prompts)
        self.max_batch_size = max_batch_size
        self.max_batch_tokens = max_batch_tokens
        self.max_wait_s = max_wait_ms / 1000
        self.max_queue = max_queue
        self.retry_after_s = retry_after_s
        self._waiting: list[_Item] = []
        self._cond = threading.Condition()
        self._order = itertools.count()
        self._decode: queue.Queue[list[_Item] | None] = queue.Queue(maxsize=2)
        self._closing = False
        self._threads: list[threading.Thread] = []
        self._preparing = 0  # callers rendering and tokenizing: prompts about to arrive
        self._last_arrival = 0.0  # time.monotonic() of the latest prompt queued
        self._batches_total = 0  # all batches run, and the prompts in them (the mean)
        self._prompts_total = 0
        self.batches_run = 0  # for tests and metrics: how many engine runs
        self.batch_sizes: list[int] = []  # the size of each run batch, newest last (bounded)

    # -- the caller's side ------------------------------------------------------------

    def submit(self, requests: Sequence[GenerationRequest]) -> list[Future[str]]:
        """Prepare and queue ``requests`` (all or none); one future per request, in order."""
        return [item.future for item in self._enqueue(requests)]

    def _enqueue(self, requests: Sequence[GenerationRequest]) -> list[_Item]:
        with self._cond:
            self._preparing += 1  # a batch gathering now waits for these prompts
        try:
            prepared = [self.engine.prepare(r) for r in requests]  # 1. prepare, here
        finally:
            with self._cond:
                self._preparing -= 1
                self._cond.notify_all()
        now = time.monotonic()
        with self._cond:
            if self._closing:
                raise ServiceError("the service is shutting down; retry on another instance")
            # A submission larger than the whole queue still runs when the queue is empty,
            # so a long article's map step can never be refused forever.
            if self._waiting and len(self._waiting) + len(prepared) > self.max_queue:
                raise Overloaded(
                    f"the generation queue is full ({len(self._waiting)} prompts waiting, "
                    f"limit {self.max_queue}); retry after {self.retry_after_s}s",
                    retry_after_s=self.retry_after_s, queue="batcher",
                )
            items = [_Item(p, Future(), now, next(self._order)) for p in prepared]
            self._waiting.extend(items)
            self._last_arrival = now
            self._start()
            self._cond.notify_all()
        return items

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: Cancellation | None = None
    ) -> list[str]:
        """Submit and wait; the first failing item's error is raised and the others are
        withdrawn. When ``cancellation`` fires (or passes its deadline) first, every item is
        withdrawn at once and its error is raised."""
        items = self._enqueue(requests)
        finished = threading.Event()
        lock = threading.Lock()
        pending = [len(items)]

        def one_done(future: Future[str]) -> None:
            failed = not future.cancelled() and future.exception() is not None
            with lock:
                pending[0] -= 1
                if failed or pending[0] == 0:
                    finished.set()

        for item in items:
            item.future.add_done_callback(one_done)
        try:
            if cancellation is None:
                finished.wait()
            elif not cancellation.wait(finished):
                raise cancellation.error()
            return [item.future.result() for item in items]
        except BaseException:
            self._withdraw(items)
            raise

    def _withdraw(self, items: Sequence[_Item]) -> None:
        """Take items back: queued ones leave the queue now, running ones are abandoned."""
        queued = running = 0
        with self._cond:
            for item in items:
                if item.future.cancel():  # not started: it never will
                    queued += 1
                elif not item.future.done():
                    item.abandoned = True
                    running += 1
            if queued:
                self._waiting = [i for i in self._waiting if not i.future.cancelled()]
                self._cond.notify_all()
        for where, count in (("queued", queued), ("running", running)):
            if count and self.on_cancelled is not None:
                try:
                    self.on_cancelled(where, count)
                except Exception:
                    log.exception("the batcher's on_cancelled observer failed")

    @property
    def mean_batch_size(self) -> float:
        """Prompts per batch run, over every batch so far (0 before the first)."""
        with self._cond:
            return self._prompts_total / self._batches_total if self._batches_total else 0.0

    @property
    def waiting(self) -> int:
        """Prompts queued and not yet in a batch."""
        with self._cond:
            return sum(1 for i in self._waiting if not i.future.cancelled())

    def close(self, timeout_s: float = 30.0) -> None:
        """Refuse new work, finish what is queued, stop the threads."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout_s)

    # -- the worker side --------------------------------------------------------------

    def _start(self) -> None:
        if self._threads:
            return
        workers = [(f"batcher-generate-{n}", self._generate_loop)
                   for n in range(self.parallel_batches)]
        for name, target in (*workers, ("batcher-decode", self._decode_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _next_batch(self) -> list[_Item] | None:
        """Block until a batch is due; None when closing and nothing is left."""
        with self._cond:
            while True:
                self._waiting = [i for i in self._waiting if not i.future.cancelled()]
                if not self._waiting:
                    if self._closing:
                        return None
                    self._cond.wait()
                    continue
                oldest = min(self._waiting, key=lambda i: i.order)
                settings = oldest.prepared.settings
                peers = [i for i in self._waiting if i.prepared.settings == settings]
                now = time.monotonic()
                remaining = oldest.arrived + self.max_wait_s - now  # the bound
                quiet = self._last_arrival + min(_QUIET_S, self.max_wait_s) - now
                settled = self._preparing == 0 and quiet <= 0  # nobody is arriving
                if (len(peers) >= self.max_batch_size or remaining <= 0 or settled
                        or self._closing):
                    # Prompts due together are shared between the generate threads that are
                    # idle (this one among them): 8 with two idle make two batches of 4.
                    idle = self.parallel_batches - self._running
                    batch = self._pick(oldest, peers, limit=-(-len(peers) // max(1, idle)))
                    chosen = {id(i) for i in batch}
                    self._waiting = [i for i in self._waiting if id(i) not in chosen]
                    self._running += 1
                    if self._waiting:  # what is left may be due for another idle thread
                        self._cond.notify_all()
                    return batch
                # woken by each arrival and each prepare that ends; else at the quiet gap's
                # end or the bound, whichever is first
                self._cond.wait(remaining if self._preparing else min(remaining, quiet))

    def _pick(self, oldest: _Item, peers: list[_Item], limit: int | None = None) -> list[_Item]:
        """Peers of similar length, the oldest always among them, within the limits:
        ``max_batch_size`` items (and ``limit``) and ``max_batch_tokens`` padded input
        tokens × beams (what the runtime keeps in memory for cross-attention grows with
        that product)."""
        most = min(self.max_batch_size, limit or self.max_batch_size)
        window = sorted(peers, key=lambda i: i.order)[: most * _SORT_WINDOW_BATCHES]
        if oldest not in window:
            window[-1] = oldest
        window.sort(key=lambda i: (i.length, i.order))
        at = window.index(oldest)
        beams = max(1, oldest.prepared.settings.num_beams)
        for size in range(min(most, len(window)), 0, -1):
            # The run of `size` neighbours in length order that holds the oldest and spans
            # the smallest range of lengths: the least padding.
            starts = range(max(0, at - size + 1), min(at, len(window) - size) + 1)
            best = min(starts, key=lambda s: window[s + size - 1].length - window[s].length)
            batch = window[best : best + size]
            if self.max_batch_tokens is None or size == 1:
                return batch
            if size * batch[-1].length * beams <= self.max_batch_tokens:
                return batch
        raise AssertionError("unreachable: a batch of one always fits")

    def _generate_loop(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                self._decode.put(None)
                return
            try:
                live = [i for i in batch if i.future.set_running_or_notify_cancel()]
                if not live:
                    continue
                self._observe(len(live))
                try:
                    self._run(live)
                except BaseException as exc:  # a bug must not leave callers waiting forever
                    log.exception("the batcher's generate step failed")
                    for item in live:
                        if not item.future.done():
                            item.future.set_exception(exc)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()
            self._decode.put(live)

    def _observe(self, size: int) -> None:
        """Tell ``on_batch`` about a batch; an observer's failure never stops the batcher."""
        if self.on_batch is None:
            return
        try:
            self.on_batch(size)
        except Exception:
            log.exception("the batcher's on_batch observer failed")

    def _run(self, batch: list[_Item]) -> None:
        """2. generate; on failure retry one by one, so only failing items fail."""
        self.batches_run += 1
        self.batch_sizes = [*self.batch_sizes[-999:], len(batch)]
        with self._cond:
            self._batches_total += 1
            self._prompts_total += len(batch)
        try:
            outputs = self.engine.run(
                [i.prepared for i in batch],
                should_stop=lambda: all(i.abandoned for i in batch),
            )
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            log.warning("a batch of %d failed (%s); running its items one by one",
                        len(batch), exc)
            for item in batch:
                if not item.abandoned:
                    self._run([item])
            return
        for item, ids in zip(batch, outputs, strict=True):
            item.outputs = ids

    def _decode_loop(self) -> None:
        generating = self.parallel_batches  # each generate thread ends with a None
        while True:
            batch = self._decode.get()
            if batch is None:
                generating -= 1
                if generating == 0:
                    return
                continue
            for item in batch:
                if item.abandoned and not item.future.done():
                    item.future.set_exception(RequestCancelled("its caller has gone"))
            pending = [i for i in batch if not i.future.done()]  # failed ones are done
            if not pending:
                continue
            try:
                texts = self.engine.decode([i.outputs for i in pending])
            except Exception as exc:  # decoded one by one below: only failing items fail
                log.warning("decoding a batch of %d failed (%s); decoding one by one",
                            len(pending), exc)
                texts = None
            for index, item in enumerate(pending):  # 3. decode; resolve each future
                if texts is not None:
                    item.future.set_result(texts[index])
                    continue
                try:
                    item.future.set_result(self.engine.decode([item.outputs])[0])
                except Exception as exc:
                    item.future.set_exception(exc)


class BatchedEngine:
    """An engine whose ``generate`` goes through a :class:`MicroBatcher`; the rest delegates."""

    def __init__(self, engine: BatchableEngine, batcher: MicroBatcher) -> None:
        self.inner = engine
        self.batcher = batcher
        self.name = engine.name
        self.model_id = engine.model_id
        self.model_revision = engine.model_revision
        self.max_input_tokens = engine.max_input_tokens
        # the model's family, window and runtime, for /readyz and the answers
        self.family = getattr(engine, "family", None)
        self.window = getattr(engine, "window", None)
        self.runtime_name = getattr(engine, "runtime_name", None)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]:
        return self.inner.split_by_tokens(text, max_tokens)

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: Cancellation | None = None
    ) -> list[str]:
        return self.batcher.generate(requests, cancellation)

    def close(self) -> None:
        self.batcher.close()


__all__ = ["BatchedEngine", "MicroBatcher"]
