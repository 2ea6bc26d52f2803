"""The delivery ledger: claims and leases across connections, Slack errors recorded and
resumed, re-runs as no-ops, force, and concurrent deliverers posting once — on real SQLite
and PostgreSQL, with a real loopback HTTP server standing in for Slack."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from service.digest.ledger import DeliveryKey, DeliveryLedger, deliver
from service.digest.slack_messages import DigestMessageInput, DigestStory, plan_messages
from service.digest.slack_webhook import SlackWebhook
from service.errors import DeliveryBusy, DeliveryFailed
from service.storage import Database
from tests.digest_support import SECRET, SlackRecorder, fake_slack

KEY = DeliveryKey("2026-11-27", "Europe/Oslo", "0123456789abcdef")


class OwnLedger(DeliveryLedger):
    """A ledger on a database connection pool of its own: another process's view."""

    def __init__(self, url: str) -> None:
        super().__init__(Database.connect(url))

    def close(self) -> None:
        self.database.close()


@pytest.fixture
def ledger_url(database_url: str) -> str:
    return database_url


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[DeliveryLedger]:
    ledger = OwnLedger(ledger_url)
    yield ledger
    ledger.close()


@pytest.fixture
def slack() -> Iterator[tuple[str, SlackRecorder]]:
    with fake_slack() as server:
        yield server


def hook(url: str) -> SlackWebhook:
    return SlackWebhook(url, allowed_hosts={"127.0.0.1"}, backoff_base=0.01, timeout=5)


def payloads(n_stories: int) -> list[dict[str, Any]]:
    stories = [DigestStory(f"Story {i}", f"Briefing {i}.", i % 3 + 1) for i in range(n_stories)]
    return plan_messages(DigestMessageInput("Daily briefing — Fri 2026-11-27", stories))


def test_claims_leases_and_expiry_across_connections(ledger_url: str) -> None:
    a, b = OwnLedger(ledger_url), OwnLedger(ledger_url)
    try:
        assert a.claim(KEY, "A", lease_s=0.3, force=False).state == "claimed"
        assert b.claim(KEY, "B", lease_s=0.3, force=False).state == "busy"
        assert a.claim(KEY, "A", lease_s=0.3, force=False).state == "claimed"  # re-entrant
        time.sleep(0.35)  # A "crashed": its lease runs out
        assert b.claim(KEY, "B", lease_s=5, force=False).state == "claimed"
        assert not a.mark_sent(KEY, "A", 1, 5)  # A lost the lease: its writes are refused
        assert b.plan(KEY, "B", [{"text": "x"}]) and b.mark_sent(KEY, "B", 1, 5)
        assert b.finish(KEY, "B")
        done = a.claim(KEY, "A", lease_s=5, force=False)
        assert done.state == "delivered" and done.row is not None and done.row.sent == 1
        forced = a.claim(KEY, "A", lease_s=5, force=True)
        assert forced.state == "claimed" and forced.row is not None
        assert (forced.row.status, forced.row.sent, forced.row.payloads) == ("pending", 0, None)
    finally:
        a.close()
        b.close()


def test_slack_errors_are_recorded_then_resumed_without_duplicates(
    ledger: DeliveryLedger, slack: tuple[str, SlackRecorder], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url, rec = slack
    planned = payloads(60)
    assert len(planned) == 3
    planner_calls = []

    def plan() -> list[dict[str, Any]]:
        planner_calls.append(1)
        return planned

    # message 1: 429 (Retry-After honoured) then 500 then ok; message 2: channel_not_found
    rec.script = [(429, {"Retry-After": "0"}, "rate_limited"), (500, {}, "rollup_error"),
                  (200, {}, "ok"), (404, {}, "channel_not_found")]
    with hook(url) as webhook, pytest.raises(DeliveryFailed) as info:
        deliver(ledger, KEY, plan, webhook, interval_s=0)
    assert "channel_not_found" in info.value.message and "message 2" in info.value.message
    assert info.value.status == 502 and info.value.code == "delivery_failed"
    row = ledger.get(KEY)
    assert row is not None and (row.status, row.sent, row.owner) == ("failed", 1, None)
    assert "channel_not_found" in (row.last_error or "")
    assert rec.posted == planned[:1]

    # the next run resumes with message 2, from the recorded plan (the planner is not asked)
    with hook(url) as webhook:
        outcome = deliver(ledger, KEY, plan, webhook, interval_s=0)
    assert (outcome.status, outcome.sent_now, outcome.resumed_from) == ("delivered", 2, 1)
    assert rec.posted == planned and len(planner_calls) == 1
    assert len(rec.requests) == 6  # 3 for message 1, 1 refused, then 2 and 3

    # a delivered digest is not sent again ...
    with hook(url) as webhook:
        again = deliver(ledger, KEY, plan, webhook, interval_s=0)
    assert again.status == "already_delivered" and "nothing sent" in again.detail
    assert len(rec.requests) == 6
    # ... unless forced: re-planned and re-sent from the first message
    with hook(url) as webhook:
        forced = deliver(ledger, KEY, plan, webhook, force=True, interval_s=0)
    assert (forced.status, forced.sent_now) == ("delivered", 3)
    assert rec.posted == planned + planned and len(planner_calls) == 2

    shown = [str(info.value), caplog.text, repr(outcome), str(outcome.as_dict()),
             str(ledger.get(KEY))]
    for text in shown:
        assert SECRET not in text and "s3cr3t" not in text
    assert outcome.webhook.endswith("/services/***")


def test_two_concurrent_deliverers_post_once(
    ledger_url: str, slack: tuple[str, SlackRecorder]
) -> None:
    url, rec = slack
    rec.delay_s = 0.15  # each message takes a while: the runs overlap
    planned = payloads(60)
    outcomes: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2, timeout=10)

    def run() -> None:
        try:
            ledger = OwnLedger(ledger_url)  # its own connection, like another process
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            start.abort()
            return
        try:
            with hook(url) as webhook:
                start.wait()
                outcomes.append(deliver(ledger, KEY, lambda: planned, webhook, interval_s=0,
                                        lease_s=5))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            ledger.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors
    assert sorted(o.status for o in outcomes) == ["already_delivered", "delivered"]
    assert rec.posted == planned and len(rec.requests) == len(planned)


def test_concurrent_first_opens_of_a_new_database(database_url: str) -> None:
    start = threading.Barrier(4, timeout=10)
    errors: list[BaseException] = []

    def open_close() -> None:
        start.wait()
        try:
            OwnLedger(database_url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []


def test_busy_when_the_holder_keeps_its_lease(ledger: DeliveryLedger,
                                              slack: tuple[str, SlackRecorder]) -> None:
    url, rec = slack
    assert ledger.claim(KEY, "someone-else", lease_s=30, force=False).state == "claimed"
    with hook(url) as webhook, pytest.raises(DeliveryBusy) as info:
        deliver(ledger, KEY, lambda: payloads(1), webhook, wait_s=0.2, lease_s=30)
    assert info.value.status == 503 and info.value.retry_after_s == 30
    assert rec.requests == []


def test_a_failing_planner_releases_the_lease(ledger: DeliveryLedger,
                                              slack: tuple[str, SlackRecorder]) -> None:
    url, rec = slack

    def broken() -> list[dict[str, Any]]:
        raise RuntimeError("the model fell over")

    with hook(url) as webhook, pytest.raises(RuntimeError):
        deliver(ledger, KEY, broken, webhook)
    row = ledger.get(KEY)
    assert row is not None and row.owner is None and row.status == "pending"
    with hook(url) as webhook:  # the next run does not wait for a lease that nobody holds
        assert deliver(ledger, KEY, lambda: payloads(2), webhook, wait_s=0).status == "delivered"
    assert len(rec.posted) == 1
