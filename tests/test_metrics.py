"""/metrics after real requests: load, quality and daily-digest metrics move as they should.

Each test drives the real app (TestClient, the extractive engine or a subclass of it standing
in for a model) and reads the exact sample lines of ``GET /metrics``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

import service.wiring
from service.config import Settings
from service.digest.window import day_window
from service.engines import EngineChoice, GenerationRequest
from service.engines.extractive import ExtractiveEngine
from service.storage.articles import Article
from tests.digest_support import FERRY_A, SECRET, fake_slack, run_digest
from tests.storage_support import OwnStore
from tests.test_briefing import story

ARTICLE = ("Officials in Lisbon announced a new budget plan on Monday. The council approved "
           "the plan for the harbour. Teachers and nurses welcomed the decision.")


def samples(client: TestClient) -> set[str]:
    """The sample lines of /metrics (no comments)."""
    text = client.get("/metrics").text
    return {line for line in text.splitlines() if line and not line.startswith("#")}


def use_engine(monkeypatch: pytest.MonkeyPatch, engine: ExtractiveEngine) -> None:
    monkeypatch.setattr(service.wiring, "select_engine", lambda s, p, **_: EngineChoice(engine))



# -- load ------------------------------------------------------------------------------------


class Gated(ExtractiveEngine):
    """Extractive output once the gate opens: briefings we can hold in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: object = None
    ) -> list[str]:
        self.entered.release()
        assert self.gate.wait(10), "gate never opened"
        return super().generate(requests)


def test_inflight_gauge_and_admission_429_are_counted(
    monkeypatch: pytest.MonkeyPatch, make_client: Callable[..., TestClient]
) -> None:
    engine = Gated()
    use_engine(monkeypatch, engine)
    client = make_client(max_queue=0)  # one briefing at a time, none waiting
    assert 'briefing_overloaded_total{queue="admission"} 0.0' in samples(client)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/v1/briefings", json={"text": ARTICLE})
        assert engine.entered.acquire(timeout=5)
        during = samples(client)
        refused = client.post("/v1/briefings", json={
            "text": "Rain fell in Oslo on Monday, and two roads near the harbour were closed."})
        after_refusal = samples(client)
        engine.gate.set()
        assert first.result().status_code == 200
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "overloaded"
    assert "briefing_inflight_briefings 1.0" in during
    assert 'briefing_overloaded_total{queue="admission"} 1.0' in after_refusal
    assert "briefing_inflight_briefings 1.0" in after_refusal  # the refused one never counted
    done = samples(client)
    assert "briefing_inflight_briefings 0.0" in done
    # The extractive engine has no micro-batcher: no batcher queue, no batches.
    assert not any('queue="batcher"' in line for line in done)
    assert "briefing_batch_size_count 0.0" in done


# -- quality ---------------------------------------------------------------------------------


class Fabricating(ExtractiveEngine):
    """A supported sentence and one with a number the article never mentions."""

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: object = None
    ) -> list[str]:
        return ["Officials in Lisbon announced a new budget plan. The plan adds 999 homes."
                for _ in requests]


@pytest.mark.parametrize(("mode", "action", "other"),
                         [("flag", "flagged", "dropped"), ("drop", "dropped", "flagged")])
def test_unsupported_sentences_are_counted_per_briefing_and_action(
    monkeypatch: pytest.MonkeyPatch, make_client: Callable[..., TestClient],
    mode: str, action: str, other: str,
) -> None:
    use_engine(monkeypatch, Fabricating())
    client = make_client(unsupported=mode)
    body = client.post("/v1/briefings", json={"text": ARTICLE}).json()
    assert {item["briefing"] for item in body["checks"]["unsupported"]} == {"short", "long"}
    client.post("/v1/briefings", json={"text": ARTICLE})  # a cache hit is not checked again
    found = samples(client)
    for kind in ("short", "long"):
        assert (f'briefing_unsupported_sentences_total{{action="{action}",briefing="{kind}"}}'
                " 1.0") in found
        assert (f'briefing_unsupported_sentences_total{{action="{other}",briefing="{kind}"}}'
                " 0.0") in found


class NeverShorter(ExtractiveEngine):
    """'Summaries' longer than their input: one reduction round, then the input is cut."""

    max_input_tokens = 300  # room for two map outputs: the map step runs

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: object = None
    ) -> list[str]:
        return [f"{r.text} {r.text}" for r in requests]


def test_truncated_input_and_reduce_rounds_of_computed_briefings(
    monkeypatch: pytest.MonkeyPatch, make_client: Callable[..., TestClient]
) -> None:
    use_engine(monkeypatch, NeverShorter())
    client = make_client(one_pass_max_tokens=0)  # map-reduce, not one window
    before = samples(client)
    assert "briefing_input_truncated_total 0.0" in before
    assert "briefing_reduce_rounds_count 0.0" in before
    long_text = "\n\n".join(story(n) for n in range(5))  # two windows of 300 words
    body = client.post("/v1/briefings", json={"text": long_text}).json()
    assert body["input"]["truncated"] is True and body["input"]["reduce_rounds"] == 1
    assert client.post("/v1/briefings", json={"text": long_text}).json()["cached"] is True
    found = samples(client)
    assert "briefing_input_truncated_total 1.0" in found
    assert "briefing_reduce_rounds_count 1.0" in found  # the cache hit is not observed
    assert "briefing_reduce_rounds_sum 1.0" in found
    assert 'briefing_reduce_rounds_bucket{le="0.0"} 0.0' in found
    assert 'briefing_reduce_rounds_bucket{le="1.0"} 1.0' in found


def test_an_input_that_fits_counts_zero_rounds_and_no_cut(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(engine="extractive")
    assert client.post("/v1/briefings", json={"text": ARTICLE}).status_code == 200
    found = samples(client)
    assert "briefing_input_truncated_total 0.0" in found
    assert 'briefing_reduce_rounds_bucket{le="0.0"} 1.0' in found


# -- the daily digest ------------------------------------------------------------------------


def test_digest_deliveries_and_slack_messages_are_counted(
    make_client: Callable[..., TestClient],
) -> None:
    oslo = ZoneInfo("Europe/Oslo")
    with fake_slack() as (url, rec):
        client = make_client(
            timezone="Europe/Oslo", slack_webhook_url=url, slack_allowed_hosts="127.0.0.1",
            slack_backoff_s=0.01, slack_message_interval_s=0,
        )
        assert client.post("/v1/briefings", json={"text": FERRY_A}).status_code == 200
        today = datetime.now(oslo).date()
        path = f"/v1/digests/{today}"
        assert run_digest(client, path)["run"]["delivery"]["status"] == "day_not_over"
        end = day_window(today, oslo)[1]
        client.app.state.daily.job.clock = lambda: end + timedelta(hours=7)  # type: ignore[attr-defined]
        rec.script = [(404, {}, "channel_not_found")]
        assert run_digest(client, path)["run"]["error"]["code"] == "delivery_failed"
        assert run_digest(client, path)["run"]["delivery"]["status"] == "delivered"
        assert run_digest(client, path)["run"]["delivery"]["status"] == "already_delivered"
        text = client.get("/metrics").text
    found = {line for line in text.splitlines() if not line.startswith("#")}
    assert len(rec.posted) == 1
    for status, count in (("day_not_over", 1), ("failed", 1), ("delivered", 1),
                          ("already_delivered", 1), ("busy", 0), ("error", 0)):
        assert f'briefing_digest_deliveries_total{{status="{status}"}} {count}.0' in found
    assert "briefing_slack_messages_total 1.0" in found  # the refused post is not counted
    assert SECRET not in text and "Havnes" not in text  # no webhook URL, no article text


def test_a_digest_run_by_the_scheduler_is_counted(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings],
) -> None:
    # An article of yesterday's: the scheduler digests no day before the first article.
    store = OwnStore(make_settings())
    store.add(Article(FERRY_A), received_at=datetime.now(UTC) - timedelta(days=1))
    store.close()
    with fake_slack() as (url, rec):
        # The cron fired at midnight (UTC): the catch-up at start delivers yesterday's digest.
        client = make_client(
            daily_cron="0 0 * * *", slack_webhook_url=url, slack_allowed_hosts="127.0.0.1",
            slack_backoff_s=0.01, slack_message_interval_s=0, digest_post_empty=True,
        )
        deadline = time.monotonic() + 10
        line = 'briefing_digest_deliveries_total{status="delivered"} 1.0'
        while line not in samples(client) and time.monotonic() < deadline:
            time.sleep(0.05)
        found = samples(client)
    assert line in found
    assert "briefing_slack_messages_total 1.0" in found and len(rec.posted) == 1


def test_process_and_build_info_series(make_client: Callable[..., TestClient]) -> None:
    import service

    found = samples(make_client())
    assert any(line.startswith("briefing_build_info{") and f'version="{service.__version__}"'
               in line and line.endswith(" 1.0") for line in found)
    if sys.platform.startswith("linux"):
        memory = next(line for line in found if line.startswith("briefing_process_resident"))
        assert float(memory.split()[-1]) > 1_000_000


def test_deliveries_and_alerts_are_counted_by_digest_and_destination_kind(
    make_client: Callable[..., TestClient], tmp_path: Path,
) -> None:
    from tests.test_digests_team import receiver, write

    with receiver() as slack, receiver() as hook, receiver() as broken:
        broken.script = [404] * 5  # refused, not retried
        path = write(tmp_path, f"""
[[digest]]
name = "ferries"
include = ["ferries"]
alerts = true
destinations = ["slack+http://{slack.url}/services/T/B/mtsecret", "webhook+http://{hook.url}/h"]
[[digest]]
name = "broken"
destinations = ["webhook+http://{broken.url}/b"]
""")
        client = make_client(digests_file=path, slack_allowed_hosts="127.0.0.1",
                             slack_message_interval_s=0, slack_backoff_s=0)
        zero = 'briefing_digest_destination_deliveries_total{digest="ferries",kind="slack",' \
               'outcome="failed"} 0.0'
        assert zero in samples(client)  # every configured digest and kind from the start
        assert client.post("/v1/briefings", json={"text": FERRY_A}).status_code == 200
        alert = 'briefing_digest_alerts_total{digest="ferries",kind="%s",outcome="sent"} 1.0'
        deadline = time.monotonic() + 20  # the alerts are sent beside the request
        while not {alert % "slack", alert % "webhook"} <= samples(client):
            assert time.monotonic() < deadline, sorted(samples(client))
            time.sleep(0.05)
        today = datetime.now(UTC).date().isoformat()
        for _ in range(2):  # forced: delivered twice
            assert run_digest(client, f"/v1/digests/ferries/{today}", force="true")
        run_digest(client, f"/v1/digests/ferries/{today}")  # the day is not over: no count
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        run_digest(client, f"/v1/digests/ferries/{yesterday}")  # empty: skipped, not posted
        run_digest(client, f"/v1/digests/broken/{today}", force="true")
        found = samples(client)
        text = client.get("/metrics").text
    line = 'briefing_digest_destination_deliveries_total{digest="%s",kind="%s",outcome="%s"} %s'
    for kind in ("slack", "webhook"):
        assert line % ("ferries", kind, "delivered", "2.0") in found  # forced twice
        assert line % ("ferries", kind, "skipped", "1.0") in found
        assert line % ("ferries", kind, "failed", "0.0") in found
    assert line % ("broken", "webhook", "failed", "1.0") in found
    assert "mtsecret" not in text and "Havnes" not in text
