"""The micro-batcher: right result to the right caller, failures isolated, bounded, grouped.

A fake engine (pure Python, its "generation" echoes the text) makes every property exact and
fast; the last tests run the real tiny model through ``select_engine`` and the HTTP API.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.engines import GenerationRequest, select_engine
from service.engines.base import Prepared
from service.engines.batcher import BatchedEngine, MicroBatcher
from service.errors import Overloaded
from service.metrics import Metrics
from service.prompts import GenerationSettings, Prompt, load_prompts

PROMPTS = load_prompts()
SHORT = Prompt("short", "{text}", GenerationSettings(max_new_tokens=8))
LONG = Prompt("long", "{text}", GenerationSettings(max_new_tokens=32))
# Short articles, long enough to brief (service.preprocess.minimum.MIN_WORDS).
RAIN = "Rain fell in Oslo on Monday morning, and two roads near the harbour were closed."
LIBRARY = "The council in Leeds approved a new library on Tuesday after a long debate."
SNOW = "Snow closed roads in Graz on Wednesday, and the trams stopped for three hours."


class EchoEngine:
    """prepare: one 'token' per character; run: returns them; decode: joins them back.

    ``gate`` holds ``run`` until set; ``fail_on`` makes a batch containing that text fail
    (and that text alone fail when run by itself); ``batches`` records each run's texts.
    """

    name = "seq2seq"
    model_id = "echo"
    model_revision = "1"
    max_input_tokens = 10_000

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Semaphore(0)
        self.batches: list[list[str]] = []
        self.fail_on: set[str] = set()
        self.bad_decode: set[str] = set()

    def count_tokens(self, text: str) -> int:
        return len(text)

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]:
        return [text[i : i + max_tokens] for i in range(0, len(text), max_tokens)]

    def prepare(self, request: GenerationRequest) -> Prepared:
        if request.text == "unpreparable":
            raise ValueError("cannot tokenize this")
        return Prepared(tuple(ord(c) for c in request.text), request.prompt.generation)

    def run(self, batch: Sequence[Prepared], should_stop=None) -> list[list[int]]:
        self.entered.release()
        assert self.gate.wait(10)
        assert len({p.settings for p in batch}) == 1, "mixed settings in one batch"
        texts = ["".join(map(chr, p.ids)) for p in batch]
        self.batches.append(texts)
        if self.fail_on & set(texts):
            raise RuntimeError(f"cannot generate {sorted(self.fail_on & set(texts))}")
        return [list(p.ids) for p in batch]

    def decode(self, outputs: Sequence[Sequence[int]]) -> list[str]:
        texts = ["".join(map(chr, ids)) for ids in outputs]
        if self.bad_decode & set(texts):
            raise UnicodeError("cannot decode")
        return [f"<{t}>" for t in texts]

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: object = None
    ) -> list[str]:
        return self.decode(self.run([self.prepare(r) for r in requests]))


@pytest.fixture
def engine() -> EchoEngine:
    return EchoEngine()


@pytest.fixture
def make_batcher(engine: EchoEngine):
    made: list[MicroBatcher] = []

    def make(**options: float) -> MicroBatcher:
        batcher = MicroBatcher(engine, **options)  # type: ignore[arg-type]
        made.append(batcher)
        return batcher

    yield make
    engine.gate.set()
    for batcher in made:
        batcher.close(timeout_s=5)


def _hold(engine: EchoEngine, batcher: MicroBatcher) -> None:
    """Occupy the generate thread with one item, so the next ones queue up."""
    engine.gate.clear()
    batcher.submit([GenerationRequest("hold", SHORT)])
    assert engine.entered.acquire(timeout=5)


def test_each_caller_gets_its_own_results_from_shared_batches(
    engine: EchoEngine, make_batcher
) -> None:
    batcher = make_batcher(max_batch_size=8, max_wait_ms=20)

    def call(n: int) -> list[str]:
        return batcher.generate([GenerationRequest(f"short {n}", SHORT),
                                 GenerationRequest(f"long {n} " + "x" * n, LONG)])

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(40)))
    assert results == [[f"<short {n}>", f"<long {n} {'x' * n}>"] for n in range(40)]
    assert max(len(b) for b in engine.batches) > 1  # requests did share batches
    assert sum(len(b) for b in engine.batches) == 80
    assert all(len(b) <= 8 for b in engine.batches)


def test_a_failing_item_fails_only_its_own_request(engine: EchoEngine, make_batcher) -> None:
    batcher = make_batcher(max_batch_size=8, max_wait_ms=10)
    engine.fail_on = {"poison"}
    _hold(engine, batcher)
    futures = [batcher.submit([GenerationRequest(t, SHORT)])[0]
               for t in ("a", "poison", "b", "c")]
    engine.gate.set()
    assert [futures[i].result(5) for i in (0, 2, 3)] == ["<a>", "<b>", "<c>"]
    with pytest.raises(RuntimeError, match="poison"):
        futures[1].result(5)
    assert ["a", "b", "c", "poison"] in engine.batches  # it failed as a batch (by length)


def test_failures_in_prepare_and_decode_stay_with_their_request(
    engine: EchoEngine, make_batcher
) -> None:
    batcher = make_batcher(max_batch_size=8, max_wait_ms=10)
    with pytest.raises(ValueError, match="tokenize"):
        batcher.generate([GenerationRequest("unpreparable", SHORT)])
    engine.bad_decode = {"bad"}
    _hold(engine, batcher)
    good, bad = (batcher.submit([GenerationRequest(t, SHORT)])[0] for t in ("good", "bad"))
    engine.gate.set()
    assert good.result(5) == "<good>"
    with pytest.raises(UnicodeError):
        bad.result(5)


def test_one_request_with_a_failing_item_gets_the_error(engine: EchoEngine, make_batcher) -> None:
    batcher = make_batcher(max_batch_size=4, max_wait_ms=5)
    engine.fail_on = {"bad"}
    with pytest.raises(RuntimeError, match="bad"):
        batcher.generate([GenerationRequest("ok", SHORT), GenerationRequest("bad", SHORT)])
    assert batcher.generate([GenerationRequest("fine", SHORT)]) == ["<fine>"]


def test_batches_group_similar_lengths_and_never_mix_settings(
    engine: EchoEngine, make_batcher
) -> None:
    batcher = make_batcher(max_batch_size=2, max_wait_ms=0)
    _hold(engine, batcher)
    texts = ["a" * 40, "b", "c" * 41, "dd", "e" * 5]
    futures = batcher.submit([GenerationRequest(t, SHORT) for t in texts])
    futures += batcher.submit([GenerationRequest("long one", LONG)])
    engine.gate.set()
    assert [f.result(5) for f in futures] == [f"<{t}>" for t in [*texts, "long one"]]
    batches = [sorted(b) for b in engine.batches[1:]]
    # The oldest (40 chars) goes first, with its nearest length; then the short pair.
    assert batches[:2] == [sorted(["a" * 40, "c" * 41]), sorted(["b", "dd"])]
    assert ["long one"] in batches


def test_the_token_budget_bounds_a_batch_by_length_times_beams(
    engine: EchoEngine, make_batcher
) -> None:
    beams = Prompt("long", "{text}", GenerationSettings(max_new_tokens=8, num_beams=4))
    batcher = make_batcher(max_batch_size=8, max_wait_ms=0, max_batch_tokens=4 * 30)
    _hold(engine, batcher)
    texts = ["a" * 10, "b" * 10, "c" * 10, "d" * 10, "e" * 200]  # 3 x 10 x 4 beams = 120
    futures = batcher.submit([GenerationRequest(t, beams) for t in texts])
    engine.gate.set()
    assert [f.result(5) for f in futures] == [f"<{t}>" for t in texts]
    assert [len(b) for b in engine.batches[1:]] == [3, 1, 1]  # over budget alone still runs


def test_a_full_queue_refuses_at_once_with_overloaded(engine: EchoEngine, make_batcher) -> None:
    batcher = make_batcher(max_batch_size=2, max_wait_ms=0, max_queue=3)
    _hold(engine, batcher)
    batcher.submit([GenerationRequest(t, SHORT) for t in ("q1", "q2")])
    started = time.monotonic()
    with pytest.raises(Overloaded) as refused:
        batcher.submit([GenerationRequest(t, SHORT) for t in ("q3", "q4")])  # all or none
    # the engine is held: a refusal that waited for room would never come (generous bound so
    # a loaded machine does not flake; this checks "does not wait", not a speed)
    assert time.monotonic() - started < 10
    assert refused.value.status == 429 and refused.value.code == "overloaded"
    assert refused.value.queue == "batcher"  # the metric's label: which queue was full
    assert batcher.submit([GenerationRequest("q3", SHORT)])  # exactly full is fine
    engine.gate.set()


def test_on_batch_is_told_each_batch_size_and_feeds_the_histogram(
    engine: EchoEngine, make_batcher
) -> None:
    metrics = Metrics()
    sizes: list[int] = []

    def observe(size: int) -> None:
        sizes.append(size)
        metrics.batch_size.observe(size)

    batcher = make_batcher(max_batch_size=8, max_wait_ms=0, on_batch=observe)
    _hold(engine, batcher)
    futures = batcher.submit([GenerationRequest(t, SHORT) for t in ("q1", "q2", "q3")])
    engine.gate.set()
    assert [f.result(5) for f in futures] == ["<q1>", "<q2>", "<q3>"]
    assert sizes == [1, 3] == [len(b) for b in engine.batches]
    text = metrics.render().decode()
    for line in ('briefing_batch_size_bucket{le="1.0"} 1.0',
                 'briefing_batch_size_bucket{le="2.0"} 1.0',
                 'briefing_batch_size_bucket{le="4.0"} 2.0',
                 "briefing_batch_size_count 2.0", "briefing_batch_size_sum 4.0"):
        assert line in text.splitlines()


def test_a_failing_on_batch_observer_does_not_fail_the_batch(
    engine: EchoEngine, make_batcher
) -> None:
    def broken(size: int) -> None:
        raise RuntimeError("observer bug")

    batcher = make_batcher(max_batch_size=8, max_wait_ms=0, on_batch=broken)
    assert batcher.generate([GenerationRequest("fine", SHORT)]) == ["<fine>"]


def test_a_map_step_larger_than_the_queue_runs_when_the_queue_is_empty(
    engine: EchoEngine, make_batcher
) -> None:
    batcher = make_batcher(max_batch_size=4, max_wait_ms=0, max_queue=3)
    chunks = [GenerationRequest(f"chunk {n}", SHORT) for n in range(10)]
    assert batcher.generate(chunks) == [f"<chunk {n}>" for n in range(10)]


def test_a_lone_request_does_not_wait_for_the_bound(engine: EchoEngine, make_batcher) -> None:
    # Nobody else is preparing a prompt and none arrives: the batch of one runs at once,
    # not after max_wait_ms (a minute here; the quiet gap is a millisecond).
    batcher = make_batcher(max_batch_size=8, max_wait_ms=60_000)
    started = time.monotonic()
    assert batcher.generate([GenerationRequest("alone", SHORT)]) == ["<alone>"]
    assert time.monotonic() - started < 30
    assert engine.batches == [["alone"]]


def test_a_batch_gathers_the_prompts_of_callers_still_preparing(
    engine: EchoEngine, make_batcher
) -> None:
    # A caller is tokenizing when another's prompt is queued: the batch waits for it (within
    # max_wait_ms) and both run together.
    batcher = make_batcher(max_batch_size=8, max_wait_ms=60_000)
    preparing, release = threading.Event(), threading.Event()
    prepare = engine.prepare

    def slow_prepare(request: GenerationRequest) -> Prepared:
        if request.text == "slow":
            preparing.set()
            assert release.wait(10)
        return prepare(request)

    engine.prepare = slow_prepare  # type: ignore[method-assign]
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(batcher.generate, [GenerationRequest("slow", SHORT)])
        assert preparing.wait(5)
        fast = pool.submit(batcher.generate, [GenerationRequest("fast", SHORT)])
        deadline = time.monotonic() + 5
        while batcher.waiting < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)  # far past the quiet gap: the batch still waits for the caller
        assert engine.batches == []
        release.set()
        assert fast.result(10) == ["<fast>"] and slow.result(10) == ["<slow>"]
    assert engine.batches == [["fast", "slow"]]
    assert batcher.mean_batch_size == 2


def test_a_batch_waits_no_longer_than_the_bound_for_a_caller_still_preparing(
    engine: EchoEngine, make_batcher
) -> None:
    batcher = make_batcher(max_batch_size=8, max_wait_ms=50)
    preparing, release = threading.Event(), threading.Event()
    prepare = engine.prepare

    def slow_prepare(request: GenerationRequest) -> Prepared:
        if request.text == "slow":
            preparing.set()
            assert release.wait(10)
        return prepare(request)

    engine.prepare = slow_prepare  # type: ignore[method-assign]
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(batcher.generate, [GenerationRequest("slow", SHORT)])
        assert preparing.wait(5)
        # the caller preparing never finishes in time: the queued prompt runs at the bound
        assert batcher.generate([GenerationRequest("fast", SHORT)]) == ["<fast>"]
        release.set()
        assert slow.result(10) == ["<slow>"]
    assert engine.batches == [["fast"], ["slow"]]
    assert batcher.mean_batch_size == 1


def test_prompts_arriving_together_share_a_batch_by_settings(
    engine: EchoEngine, make_batcher
) -> None:
    # Eight callers, each a short and a long prompt, arriving while the engine is busy:
    # two full batches (one per generation settings), not many small ones.
    batcher = make_batcher(max_batch_size=8, max_wait_ms=50)
    _hold(engine, batcher)
    with ThreadPoolExecutor(8) as pool:
        calls = [pool.submit(batcher.generate, [GenerationRequest(f"s{n}", SHORT),
                                                GenerationRequest(f"l{n}", LONG)])
                 for n in range(8)]
        deadline = time.monotonic() + 5
        while batcher.waiting < 16 and time.monotonic() < deadline:
            time.sleep(0.005)
        engine.gate.set()
        assert [c.result(10) for c in calls] == [[f"<s{n}>", f"<l{n}>"] for n in range(8)]
    assert sorted(len(b) for b in engine.batches[1:]) == [8, 8]
    assert batcher.mean_batch_size == 17 / 3


def test_items_of_a_gone_caller_are_dropped(engine: EchoEngine, make_batcher) -> None:
    batcher = make_batcher(max_batch_size=8, max_wait_ms=0)
    _hold(engine, batcher)
    gone = batcher.submit([GenerationRequest("gone", SHORT)])[0]
    assert gone.cancel()
    kept = batcher.submit([GenerationRequest("kept", SHORT)])[0]
    engine.gate.set()
    assert kept.result(5) == "<kept>"
    assert not any("gone" in b for b in engine.batches)


def test_close_finishes_queued_work_then_refuses(engine: EchoEngine, make_batcher) -> None:
    batcher = make_batcher(max_batch_size=2, max_wait_ms=200)
    _hold(engine, batcher)
    queued = batcher.submit([GenerationRequest(f"q{n}", SHORT) for n in range(3)])
    closer = threading.Thread(target=batcher.close)
    closer.start()
    engine.gate.set()
    closer.join(5)
    assert [f.result(0) for f in queued] == ["<q0>", "<q1>", "<q2>"]
    with pytest.raises(Exception, match="shutting down"):
        batcher.submit([GenerationRequest("late", SHORT)])


class TwoAtOnceEngine(EchoEngine):
    """An echo engine that runs two batches at the same time and records the most that ran
    together (CTranslate2 with inter_threads=2)."""

    parallel = 2

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.both = threading.Barrier(2, timeout=5)

    def run(self, batch: Sequence[Prepared], should_stop=None) -> list[list[int]]:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if len(batch) > 1:
                self.both.wait()  # the two halves run side by side, or this times out
            return super().run(batch, should_stop)
        finally:
            with self.lock:
                self.running -= 1


def test_prompts_due_together_are_split_between_parallel_batches() -> None:
    # Eight prompts queued at once with two generate threads idle: two batches of four
    # that run at the same time (not one of eight and an idle thread).
    engine = TwoAtOnceEngine()
    batcher = MicroBatcher(engine, max_batch_size=8, max_wait_ms=50,  # type: ignore[arg-type]
                           parallel_batches=2)
    try:
        requests = [GenerationRequest(f"prompt {n}", SHORT) for n in range(8)]
        assert batcher.generate(requests) == [f"<prompt {n}>" for n in range(8)]
        assert sorted(len(b) for b in engine.batches) == [4, 4]
        assert engine.most_at_once == 2
        # A lone prompt is one batch of one, at once.
        assert batcher.generate([GenerationRequest("alone", SHORT)]) == ["<alone>"]
        assert engine.batches[-1] == ["alone"]
    finally:
        batcher.close(timeout_s=5)


def test_close_waits_for_every_parallel_batch() -> None:
    engine = TwoAtOnceEngine()
    batcher = MicroBatcher(engine, max_batch_size=8, max_wait_ms=0,  # type: ignore[arg-type]
                           parallel_batches=2)
    engine.gate.clear()
    queued = batcher.submit([GenerationRequest(f"q{n}", SHORT) for n in range(4)])
    closer = threading.Thread(target=batcher.close)
    closer.start()
    engine.gate.set()
    closer.join(5)
    assert not closer.is_alive()
    assert [f.result(0) for f in queued] == ["<q0>", "<q1>", "<q2>", "<q3>"]
    assert all(not t.is_alive() for t in batcher._threads)


# -- the real engine ---------------------------------------------------------------------


def test_select_engine_batches_the_tiny_model(
    make_settings: Callable[..., Settings], tiny_model_dir: Path
) -> None:
    settings = make_settings(engine="seq2seq", model=str(tiny_model_dir), max_wait_ms=50)
    engine = select_engine(settings, PROMPTS).engine
    assert isinstance(engine, BatchedEngine)
    try:
        texts = [f"The council met on day {n} and approved {n} new schools." for n in range(6)]

        def call(text: str) -> list[str]:
            return engine.generate([GenerationRequest(text, PROMPTS["short"]),
                                    GenerationRequest(text, PROMPTS["long"])])

        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(call, texts))
        assert all(len(r) == 2 and all(r) for r in results)
        assert engine.batcher.batches_run < 12  # fewer runs than prompts: they shared
        # Batching changes nothing a caller sees (greedy over padded batches is exact).
        alone = engine.inner.generate([GenerationRequest(texts[3], PROMPTS["short"])])
        assert results[3][0] == alone[0]
    finally:
        engine.close()


def test_the_api_answers_429_when_the_generation_queue_is_full(
    make_settings: Callable[..., Settings], tiny_model_dir: Path, monkeypatch
) -> None:
    settings = make_settings(engine="seq2seq", model=str(tiny_model_dir))
    with TestClient(create_app(settings)) as client:
        batcher = client.app.state.service.engine.batcher  # type: ignore[attr-defined]

        def full(requests: Sequence[GenerationRequest], cancellation=None) -> list[str]:
            raise Overloaded("the generation queue is full", retry_after_s=2)

        monkeypatch.setattr(batcher, "generate", full)
        response = client.post("/v1/briefings", json={"text": RAIN})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "overloaded"
    assert response.headers["Retry-After"] == "2"


def test_the_api_counts_batches_and_a_full_generation_queue_in_metrics(
    make_settings: Callable[..., Settings], tiny_model_dir: Path, monkeypatch
) -> None:
    settings = make_settings(engine="seq2seq", model=str(tiny_model_dir), batch_max_queue=1,
                             max_wait_ms=0)
    with TestClient(create_app(settings)) as client:
        batcher = client.app.state.service.engine.batcher  # type: ignore[attr-defined]
        inner = batcher.engine
        run, gate, entered = inner.run, threading.Event(), threading.Semaphore(0)

        def gated(batch: Sequence[Prepared], should_stop=None) -> list[list[int]]:
            entered.release()
            assert gate.wait(30)
            return run(batch, should_stop)

        monkeypatch.setattr(inner, "run", gated)
        with ThreadPoolExecutor(2) as pool:
            # The first briefing's prompt is being generated, the second's waits in the queue
            # (the queue takes one prompt), so the third briefing's prompt is refused.
            first = pool.submit(client.post, "/v1/briefings",
                                json={"text": RAIN})
            assert entered.acquire(timeout=10)
            second = pool.submit(client.post, "/v1/briefings",
                                 json={"text": LIBRARY})
            deadline = time.monotonic() + 10
            while not batcher._waiting and time.monotonic() < deadline:
                time.sleep(0.01)
            third = client.post("/v1/briefings", json={"text": SNOW})
            during = client.get("/metrics").text.splitlines()
            gate.set()
            assert first.result().status_code == 200 and second.result().status_code == 200
        assert third.status_code == 429 and third.json()["error"]["code"] == "overloaded"
        after = client.get("/metrics").text.splitlines()
        sizes = list(batcher.batch_sizes)
    assert 'briefing_overloaded_total{queue="batcher"} 1.0' in during
    assert 'briefing_overloaded_total{queue="admission"} 0.0' in during
    assert "briefing_inflight_briefings 2.0" in during
    assert "briefing_inflight_briefings 0.0" in after
    assert sum(sizes) == 4  # a long prompt, then a short one from it, per briefing
    assert f"briefing_batch_size_count {float(len(sizes))}" in after
    assert f"briefing_batch_size_sum {float(sum(sizes))}" in after
    assert f"briefing_batch_size_mean {sum(sizes) / len(sizes)}" in after
