"""A request's cost ends with the request: timed out or abandoned work leaves the batcher at
once, a running batch stops at its next step, and the next request is served normally.

A deliberately slow batchable engine stands in for the model: its batches that hold a prompt
about Slowtown run until every caller in them has gone (polling ``should_stop`` as a
runtime does between decoding steps); other prompts run at once.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence

import pytest
import uvicorn

import service.wiring
from service.admission import SingleFlight
from service.app import create_app
from service.cancellation import Cancellation
from service.engines import EngineChoice, GenerationRequest
from service.engines.base import Prepared
from service.engines.batcher import BatchedEngine, MicroBatcher
from service.errors import RequestCancelled, RequestTimeout
from service.prompts import GenerationSettings, Prompt
from service.storage.articles import Article

SLOW_WORD = "Slowtown"


class SlowEngine:
    """Words as tokens; a batch with a Slowtown prompt runs until it is told to stop."""

    name = "seq2seq"
    model_id = "slow"
    model_revision = "1"
    max_input_tokens = 300

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self.words: list[str] = []
        self.ran: list[list[str]] = []  # texts of each batch run, in order
        self.stopped_early = threading.Event()
        self.entered = threading.Event()

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]:
        words = text.split()
        return [" ".join(words[i : i + max_tokens]) for i in range(0, len(words), max_tokens)]

    def prepare(self, request: GenerationRequest) -> Prepared:
        ids = []
        for word in request.prompt.render(request.text).split():
            if word not in self.vocabulary:
                self.vocabulary[word] = len(self.words)
                self.words.append(word)
            ids.append(self.vocabulary[word])
        return Prepared(tuple(ids), request.prompt.generation)

    def run(self, batch: Sequence[Prepared], should_stop=None) -> list[list[int]]:
        texts = [" ".join(self.words[i] for i in p.ids) for p in batch]
        self.ran.append(texts)
        if any(SLOW_WORD in t for t in texts):
            self.entered.set()
            while should_stop is None or not should_stop():  # one "decoding step" per loop
                time.sleep(0.01)
            self.stopped_early.set()
        # A summary: the last sentence-sized piece of the input.
        return [list(p.ids[-12:]) for p in batch]

    def decode(self, outputs: Sequence[Sequence[int]]) -> list[str]:
        return [" ".join(self.words[i] for i in ids).rstrip(".") + "." for ids in outputs]

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: object = None
    ) -> list[str]:
        return self.decode(self.run([self.prepare(r) for r in requests]))


@pytest.fixture
def slow(monkeypatch) -> Iterator[SlowEngine]:
    engine = SlowEngine()
    batchers: list[MicroBatcher] = []

    def select(settings, prompts, *, on_batch=None, on_cancelled=None, metrics=None,
               ) -> EngineChoice:
        batcher = MicroBatcher(
            engine, max_batch_size=2, max_wait_ms=1, max_queue=settings.batch_max_queue,
            on_batch=on_batch, on_cancelled=on_cancelled,
        )
        batchers.append(batcher)
        return EngineChoice(BatchedEngine(engine, batcher))

    monkeypatch.setattr(service.wiring, "select_engine", select)
    yield engine
    for batcher in batchers:
        batcher.close(timeout_s=5)


def long_slow_article() -> str:
    """Forty paragraphs, far past the 300-token window: with one_pass_max_tokens=0, a map
    step of several prompts (two run at a time, the others wait in the queue)."""
    return "\n\n".join(
        f"The {SLOW_WORD} council met for session {n} on Monday evening. Members debated the "
        f"harbour budget of {n} million crowns and the new ferry timetable for the winter."
        for n in range(40)
    )


def metric(client, sample: str) -> float:
    """The value of one sample (name with labels) on /metrics."""
    for line in client.get("/metrics").text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    raise AssertionError(f"no sample {sample}")


def test_a_timed_out_request_leaves_nothing_queued_and_the_next_is_served(
    slow: SlowEngine, make_client
) -> None:
    # The slow engine never finishes a Slowtown batch, so the timeout only has to leave
    # time for a batch to start on a loaded machine (1 s did not, once).
    client = make_client(engine="seq2seq", request_timeout_s=3.0, batch_max_queue=4,
                         one_pass_max_tokens=0)
    batcher = client.app.state.service.engine.batcher
    response = client.post("/v1/briefings", json={"text": long_slow_article()})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "timeout"
    # Taken back when the request ended, not whenever the engine gets to them.
    assert batcher.waiting == 0
    assert slow.stopped_early.wait(5)  # the running batch stopped at its next step
    queued = metric(client, 'briefing_cancelled_prompts_total{state="queued"}')
    running = metric(client, 'briefing_cancelled_prompts_total{state="running"}')
    assert queued >= 1 and running >= 1
    runs_before = len(slow.ran)
    # The queue held more prompts than its limit allows for a newcomer; a leftover would
    # answer 429 here.
    ok = client.post("/v1/briefings",
                     json={"text": "Rain fell in Oslo on Monday. Two roads near the harbour were "
                           "closed for hours."})
    assert ok.status_code == 200, ok.text
    assert ok.json()["short"]
    later = [t for batch in slow.ran[runs_before:] for t in batch]
    assert later and not any(SLOW_WORD in t for t in later)  # nothing of the first ran again
    assert client.app.state.service.store.count() == 2  # the timed-out article stays stored


def test_deadline_without_the_api_also_withdraws(slow: SlowEngine, make_client) -> None:
    client = make_client(engine="seq2seq", one_pass_max_tokens=0)
    service_ = client.app.state.service
    with pytest.raises(RequestTimeout):
        service_.brief(Article(text=long_slow_article()), deadline=time.monotonic() + 0.5)
    assert service_.engine.batcher.waiting == 0
    assert slow.stopped_early.wait(5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post_and_hang_up(slow: SlowEngine, app, body: bytes) -> int:  # type: ignore[no-untyped-def]
    """Serve ``app`` on a real server, POST ``body`` to /v1/briefings and close the connection
    once the engine is working on it: the work stops and nothing stays queued. The number
    of articles stored then."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(
                b"POST /v1/briefings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            )
            assert slow.entered.wait(10)  # its map step is running
        # The connection is closed: the server notices within its polling interval.
        assert slow.stopped_early.wait(10)
        batcher = app.state.service.engine.batcher
        assert batcher.waiting == 0
        return int(app.state.service.store.count())
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_client_that_goes_away_cancels_its_work(slow: SlowEngine, make_settings) -> None:
    """A real server: the client sends its article and hangs up before the answer."""
    app = create_app(make_settings(engine="seq2seq", request_timeout_s=60,
                                   one_pass_max_tokens=0))
    assert _post_and_hang_up(slow, app, json.dumps({"text": long_slow_article()}).encode()) == 1


def test_a_client_that_goes_away_cancels_the_work_on_a_page_it_sent_by_url(
    slow: SlowEngine, make_settings, site,  # type: ignore[no-untyped-def]
) -> None:
    """By URL: the page is fetched from a loopback site and stored; the client hangs up
    while it is being briefed."""
    from tests.feed_samples import page
    from tests.loopback_site import Reply

    # (A page's text reaches the prose gate as one block: the templated paragraphs of
    # long_slow_article would read as repetition there, so each one says something else.)
    topics = ("harbour budget", "ferry timetable", "school roof", "tram depot", "library hours",
              "bridge repairs", "parking fees", "river wall", "market square", "bus lanes")
    varied = "\n\n".join(
        f"The {SLOW_WORD} council met for session {n} and spent {n + 3} hours on the "
        f"{topics[n % 10]}. Councillor {chr(65 + n % 26)}. Berg asked about {topics[(n * 3) % 10]}"
        f" costs of {n * 7 + 11} thousand crowns, and the clerk promised a report by week "
        f"{n % 52 + 1}."
        for n in range(40)
    )
    url = site.route("/story", Reply(body=page("A long story", varied)))
    app = create_app(make_settings(engine="seq2seq", request_timeout_s=60,
                                   one_pass_max_tokens=0, fetch_allow_hosts="127.0.0.1"))
    stored = _post_and_hang_up(slow, app, json.dumps({"url": url}).encode())
    assert stored == 1  # the fetched page stays stored


def test_single_flight_stops_only_when_every_caller_has_gone() -> None:
    flights = SingleFlight()
    started, seen = threading.Event(), []

    def work(cancellation: Cancellation) -> str:
        started.set()
        done = threading.Event()
        cancellation.wait(done)  # until cancelled: no result without cancellation
        seen.append(cancellation.reason)
        cancellation.check()
        return "never"

    first, second = Cancellation(), Cancellation()
    errors: list[BaseException] = []

    def call(own: Cancellation) -> None:
        try:
            flights.run("k", work, own)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(c,)) for c in (first, second)]
    threads[0].start()
    assert started.wait(5)
    threads[1].start()
    time.sleep(0.1)
    first.cancel("client gone")
    time.sleep(0.1)
    assert not seen  # the second caller still wants the result
    second.cancel("client gone")
    for thread in threads:
        thread.join(5)
    assert seen == ["every caller has gone"]
    assert len(errors) == 2 and all(isinstance(e, RequestCancelled) for e in errors)


def test_cancellation_runs_callbacks_once_and_reports_timeouts() -> None:
    calls: list[str] = []
    cancellation = Cancellation(deadline=time.monotonic() + 60)
    remove = cancellation.on_cancel(lambda: calls.append("a"))
    cancellation.on_cancel(lambda: calls.append("b"))
    remove()
    assert cancellation.cancel("client gone") and not cancellation.cancel("again")
    assert calls == ["b"]
    with pytest.raises(RequestCancelled):
        cancellation.check()
    late = Cancellation(deadline=time.monotonic() - 1)
    assert late.cancelled and late.reason == "timeout"
    with pytest.raises(RequestTimeout):
        late.check()
    assert not late.wait(threading.Event())


def test_a_withdrawn_prompt_never_runs_and_frees_its_slot() -> None:
    engine = SlowEngine()
    counted: list[tuple[str, int]] = []
    batcher = MicroBatcher(engine, max_batch_size=1, max_wait_ms=0, max_queue=2,
                           on_cancelled=lambda where, n: counted.append((where, n)))
    prompt = Prompt("reduce", "{text}", GenerationSettings(max_new_tokens=8))
    holder = Cancellation()
    try:
        result: list[BaseException] = []

        def hold() -> None:
            try:
                batcher.generate([GenerationRequest(f"{SLOW_WORD} holds the engine.", prompt)],
                                 holder)
            except BaseException as exc:
                result.append(exc)

        thread = threading.Thread(target=hold)
        thread.start()
        assert engine.entered.wait(5)
        waiting = Cancellation(deadline=time.monotonic() + 0.3)
        with pytest.raises(RequestTimeout):
            batcher.generate([GenerationRequest("one two", prompt),
                              GenerationRequest("three four", prompt)], waiting)
        assert batcher.waiting == 0 and ("queued", 2) in counted
        holder.cancel("client gone")
        thread.join(5)
        assert isinstance(result[0], RequestCancelled) and ("running", 1) in counted
        assert batcher.generate([GenerationRequest("five six", prompt)]) == ["five six."]
        assert not any("one two" in t for batch in engine.ran for t in batch)
    finally:
        batcher.close(timeout_s=5)


@pytest.mark.parametrize(("runtime", "beams"), [("torch", 4), ("torch", 1), ("ctranslate2", 1)])
def test_the_real_runtimes_stop_a_batch_at_the_next_step(
    make_settings, tiny_model_dir, runtime: str, beams: int
) -> None:
    from service.engines.seq2seq import load_seq2seq
    from service.prompts import load_prompts

    engine = load_seq2seq(
        make_settings(engine="seq2seq", model=str(tiny_model_dir), runtime=runtime),
        load_prompts(),
    )
    ids = engine.tokenizer.encode("The council met on Monday and approved the budget.",
                                  max_length=64)
    settings = GenerationSettings(max_new_tokens=40, min_new_tokens=30, num_beams=beams)
    asked = [0]

    def after_three_steps() -> bool:
        asked[0] += 1
        return asked[0] > 3

    (full,) = engine.runtime.generate_ids([ids], settings)
    (cut,) = engine.runtime.generate_ids([ids], settings, after_three_steps)
    assert len(full) >= 30
    assert len(cut) <= 4
