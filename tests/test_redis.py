"""Redis as the replicas' shared hot cache, single flight and rate limit; and doing without it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from service.cancellation import Cancellation
from service.errors import RateLimited
from service.metrics import Metrics
from service.ratelimit import RateLimiter, caller_identity, parse_rate
from service.storage.flight import ReplicaFlight
from service.storage.hot_cache import HotCache
from service.storage.redis_link import RedisLink, redact_redis_url
from tests.storage_support import OwnCache
from tests.tcp_proxy import TcpProxy

RESULT = {"id": "k1", "short": "A ferry sank.", "long": "A ferry sank off the coast."}


@pytest.fixture
def link(redis_url_and_prefix: tuple[str, str]) -> Iterator[RedisLink]:
    url, prefix = redis_url_and_prefix
    made = RedisLink(url, prefix=prefix, metrics=Metrics())
    yield made
    made.close()


def _replica(link: RedisLink) -> RedisLink:
    """Another replica's link to the same Redis and prefix."""
    where = link.client.connection_pool.connection_kwargs
    return RedisLink(f"redis://{where['host']}:{where['port']}/{where.get('db', 0)}",
                     prefix=link.prefix, metrics=Metrics())


def _value(metrics: Metrics, name: str, labels: dict[str, str] | None = None) -> float:
    found = metrics.registry.get_sample_value(name, labels or {})
    return found or 0.0


# --- hot cache ------------------------------------------------------------------------------


def test_what_one_replica_caches_another_reads_from_redis(link: RedisLink, tmp_path: Path) -> None:
    first = HotCache(OwnCache(tmp_path / "one.sqlite3"), link, ttl_s=60)
    second_db = OwnCache(tmp_path / "two.sqlite3")  # empty: a hit can only come from Redis
    second = HotCache(second_db, _replica(link), ttl_s=60)
    try:
        first.put("k1", RESULT, aliases=("raw1",))
        assert second.get("k1") == RESULT
        assert second.get_by_alias("raw1") == RESULT
        assert second_db.get("k1") is None
        ttl = link.client.ttl(link.key("b", "k1"))
        assert 0 < ttl <= 60  # bounded: every entry expires
    finally:
        first.inner.close()  # type: ignore[attr-defined]
        second_db.close()


def test_a_database_hit_is_copied_up_to_redis(link: RedisLink, tmp_path: Path) -> None:
    db = OwnCache(tmp_path / "c.sqlite3")
    db.put("k1", RESULT, aliases=("raw1",))
    cache = HotCache(db, link, ttl_s=60)
    try:
        assert link.client.get(link.key("b", "k1")) is None
        assert cache.get_by_alias("raw1") == RESULT
        assert link.client.get(link.key("b", "k1")) is not None
        assert link.client.get(link.key("a", "raw1")) == b"k1"
    finally:
        db.close()


def test_redis_down_serves_from_the_database_warns_and_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = TcpProxy("127.0.0.1", 6379)
    metrics = Metrics()
    link = RedisLink(f"redis://127.0.0.1:{proxy.port}/0", prefix="briefing-test-down:",
                     metrics=metrics, retry_s=0.2)
    try:
        link.client.ping()
    except redis.RedisError as exc:
        proxy.close()
        pytest.skip(f"Redis unreachable ({exc})")
    cache = HotCache(OwnCache(tmp_path / "c.sqlite3"), link, ttl_s=60)
    try:
        proxy.cut()
        with caplog.at_level(logging.WARNING, logger="service.storage.redis_link"):
            cache.put("k1", RESULT)
            assert cache.get("k1") == RESULT  # from the database
            assert cache.get("k1") == RESULT
        assert _value(metrics, "briefing_redis_up") == 0
        assert _value(metrics, "briefing_redis_errors_total", {"op": "cache_put"}) == 1
        warnings = [r for r in caplog.records if "serving from the database" in r.message]
        assert len(warnings) == 1  # once per outage, not once per request
        proxy.restore()
        time.sleep(0.3)  # the circuit lets the next call through
        assert cache.get("k1") == RESULT
        assert _value(metrics, "briefing_redis_up") == 1
        assert link.client.get(link.key("b", "k1")) is not None  # copied up again
    finally:
        link.client.delete(link.key("b", "k1"))
        cache.inner.close()  # type: ignore[attr-defined]
        proxy.close()


def test_redis_urls_are_shown_without_their_password() -> None:
    assert redact_redis_url("redis://:s3cret@cache:6379/2") == "redis://:***@cache:6379/2"
    assert redact_redis_url("redis://user:s3cret@cache/0") == "redis://user:***@cache/0"
    assert redact_redis_url("redis://cache:6379/0") == "redis://cache:6379/0"


# --- single flight across replicas ----------------------------------------------------------


class _Shared:
    """A cache both 'replicas' read: where the leader's result becomes visible."""

    def __init__(self) -> None:
        self.value: dict[str, Any] | None = None

    def lookup(self) -> dict[str, Any] | None:
        return self.value


def test_one_replica_computes_the_other_waits_for_its_result(link: RedisLink) -> None:
    shared = _Shared()
    started, finish = threading.Event(), threading.Event()
    calls: list[str] = []

    def leader_work() -> dict[str, Any]:
        calls.append("leader")
        started.set()
        assert finish.wait(10)
        shared.value = RESULT
        return RESULT

    def follower_work() -> dict[str, Any]:
        calls.append("follower")
        return {"id": "wrong"}

    answers: dict[str, tuple[dict[str, Any], bool]] = {}
    one, two = ReplicaFlight(link, lease_s=5), ReplicaFlight(_replica(link), lease_s=5)
    leader = threading.Thread(target=lambda: answers.__setitem__(
        "leader", one.run("k1", leader_work, shared.lookup)))
    leader.start()
    assert started.wait(10)
    follower = threading.Thread(target=lambda: answers.__setitem__(
        "follower", two.run("k1", follower_work, shared.lookup)))
    follower.start()
    time.sleep(0.3)
    assert "follower" not in answers  # waiting for the leader, not computing
    finish.set()
    leader.join(10)
    follower.join(10)
    assert calls == ["leader"]
    assert answers["leader"] == (RESULT, False)
    assert answers["follower"] == (RESULT, True)
    assert link.client.exists(link.key("lease", "flight:k1")) == 0  # released


def test_a_crashed_holders_lock_expires_and_another_replica_computes(link: RedisLink) -> None:
    flight = ReplicaFlight(_replica(link), lease_s=5, poll_s=0.02)
    # Timed from before the lock is set: a pause of this process (a garbage collection) after
    # the SET cannot make the lease look shorter than it is.
    started = time.monotonic()
    # A replica took the lock and died (kill -9): nobody renews or releases it.
    link.client.set(link.key("lease", "flight:k2"), "dead-replica-token", px=600)
    result, found = flight.run("k2", lambda: RESULT, lambda: None)
    assert (result, found) == (RESULT, False)
    assert time.monotonic() - started >= 0.4  # it did wait for the lease to run out


def test_a_waiting_caller_stops_waiting_when_its_request_is_cancelled(
    link: RedisLink,
) -> None:
    flight = ReplicaFlight(_replica(link), lease_s=30, poll_s=0.02)
    # Another replica holds the lock and computes for a long time (its lease is renewed).
    link.client.set(link.key("lease", "flight:k5"), "busy-replica", px=30_000)
    cancellation = Cancellation(time.monotonic() + 60)
    lookups: list[float] = []

    def lookup() -> dict[str, Any] | None:
        lookups.append(time.monotonic())
        return None

    threading.Timer(0.3, cancellation.cancel, args=("client_disconnected",)).start()
    started = time.monotonic()
    computed: list[bool] = []
    result, found = flight.run(
        "k5", lambda: computed.append(True) or RESULT, lookup,
        deadline=time.monotonic() + 60, cancelled=lambda: cancellation.cancelled)
    waited = time.monotonic() - started
    assert (result, found) == (RESULT, False) and computed == [True]
    assert 0.25 <= waited < 5  # it waited, then stopped with its caller, not at the deadline
    polls = len(lookups)
    time.sleep(0.3)
    assert len(lookups) == polls  # nothing keeps polling for a caller that has gone


def test_a_long_computation_keeps_its_lock(link: RedisLink) -> None:
    flight = ReplicaFlight(link, lease_s=0.6)
    seen: list[int] = []

    def slow() -> dict[str, Any]:
        for _ in range(4):  # 1.2 s: twice the lease
            time.sleep(0.3)
            seen.append(link.client.exists(link.key("lease", "flight:k3")))
        return RESULT

    assert flight.run("k3", slow, lambda: None) == (RESULT, False)
    assert seen == [1, 1, 1, 1]


def test_without_redis_each_replica_computes_itself() -> None:
    link = RedisLink("redis://127.0.0.1:9/0", metrics=Metrics(), timeout_s=0.2)
    try:
        assert ReplicaFlight(link).run("k4", lambda: RESULT, lambda: None) == (RESULT, False)
    finally:
        link.close()


# --- rate limit -----------------------------------------------------------------------------


def test_the_rate_limit_is_shared_by_replicas(link: RedisLink) -> None:
    one, two = RateLimiter("3/minute", link), RateLimiter("3/minute", _replica(link))
    caller = caller_identity(b"key-a", None)
    one.check(caller)
    two.check(caller)
    one.check(caller)
    with pytest.raises(RateLimited) as refused:
        two.check(caller)
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert 1 <= refused.value.retry_after_s <= 60
    two.check(caller_identity(b"key-b", None))  # another key has its own budget
    assert not any(b"key-a" in key for key in link.client.keys(link.prefix + "*"))


def test_without_redis_the_rate_limit_counts_per_replica() -> None:
    link = RedisLink("redis://127.0.0.1:9/0", metrics=Metrics(), timeout_s=0.2)
    limiter = RateLimiter("2/minute", link)
    try:
        limiter.check("key:x")
        limiter.check("key:x")
        with pytest.raises(RateLimited):
            limiter.check("key:x")
    finally:
        link.close()


def test_a_rate_that_is_not_one_says_how_to_write_it() -> None:
    with pytest.raises(ValueError, match="60/minute"):
        parse_rate("sixty a minute")
