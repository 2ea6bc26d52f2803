"""The one lease helper, on each store: SQLite, PostgreSQL and Redis.

A lease has one owner at a time, is taken over only once it expired, is renewed while its
work runs, is released only by its owner, may leave a pause behind, and bounds its work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from service.metrics import Metrics
from service.storage import Database
from service.storage.leases import DatabaseLeases, FallbackLeases, Lease, LeaseStore, RedisLeases
from service.storage.redis_link import RedisLink
from tests.servers import postgres_database, redis_prefix


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path: Path
           ) -> Iterator[tuple[LeaseStore, LeaseStore]]:
    """Two handles on one store, as two replicas have (their own connections)."""
    if request.param != "redis":
        with ExitStack() as stack:
            url = (f"sqlite:///{tmp_path / 'leases.sqlite3'}" if request.param == "sqlite"
                   else stack.enter_context(postgres_database()))
            one, two = Database.connect(url), Database.connect(url)
            stack.callback(one.close)
            stack.callback(two.close)
            yield DatabaseLeases(one), DatabaseLeases(two)
        return
    with redis_prefix() as (url, prefix):
        links = [RedisLink(url, prefix=prefix, metrics=Metrics()) for _ in range(2)]
        try:
            yield RedisLeases(links[0]), RedisLeases(links[1])
        finally:
            for link in links:
                link.close()


def test_one_owner_until_it_expires_and_only_the_owner_releases(
    stores: tuple[LeaseStore, LeaseStore],
) -> None:
    a, b = stores
    assert a.acquire("feed:x", "A", 0.3)
    assert not b.acquire("feed:x", "B", 5)
    assert a.holder("feed:x") == "A" == b.holder("feed:x")
    assert not b.release("feed:x", "B") and not b.renew("feed:x", "B", 5)
    time.sleep(0.35)  # A stalled: its lease ran out
    assert b.acquire("feed:x", "B", 5)
    assert not a.renew("feed:x", "A", 5)  # A cannot extend B's lease …
    assert not a.release("feed:x", "A")  # … nor release it
    assert b.holder("feed:x") == "B"
    assert b.release("feed:x", "B") and a.holder("feed:x") is None
    assert a.acquire("feed:x", "A", 5)


def test_a_release_may_leave_a_pause(stores: tuple[LeaseStore, LeaseStore]) -> None:
    a, b = stores
    assert a.acquire("host:example.com", "A", 5)
    assert a.release("host:example.com", "A", hold_s=0.3)
    assert a.holder("host:example.com") in (None, "")  # nobody holds it …
    assert not b.acquire("host:example.com", "B", 5)  # … but it is not free yet
    time.sleep(0.35)
    assert b.acquire("host:example.com", "B", 5)


def test_a_kept_lease_outlives_its_ttl_and_bounds_its_work(
    stores: tuple[LeaseStore, LeaseStore],
) -> None:
    a, b = stores
    lease = Lease.take(a, "entry:k", ttl_s=0.3, max_s=0.8)
    assert lease is not None and Lease.take(b, "entry:k", ttl_s=5) is None
    with lease.kept():
        time.sleep(0.6)  # twice its ttl: renewed meanwhile
        assert not lease.over and Lease.take(b, "entry:k", ttl_s=5) is None
        time.sleep(0.3)
        assert lease.over  # past max_s: the work must stop …
        time.sleep(0.4)  # … and the lease is no longer renewed: it runs out
        taken = Lease.take(b, "entry:k", ttl_s=5)
        assert taken is not None
        assert not lease.renew() and lease.lost
    # leaving the block released nothing of the new owner's
    assert b.holder("entry:k") == taken.owner


def test_waiting_for_a_lease(stores: tuple[LeaseStore, LeaseStore]) -> None:
    a, b = stores
    held = Lease.take(a, "host:h", ttl_s=0.2)
    assert held is not None
    started = time.monotonic()
    assert Lease.wait(b, "host:h", ttl_s=5, until=time.monotonic() + 0.05) is None
    waited = Lease.wait(b, "host:h", ttl_s=5, until=time.monotonic() + 5)
    assert waited is not None and time.monotonic() - started >= 0.15
    cancelled = Lease.wait(a, "host:h", ttl_s=5, until=time.monotonic() + 5,
                           cancelled=lambda: True)
    assert cancelled is None


def test_fallback_to_the_database_while_redis_is_away(database_url: str) -> None:
    database = Database.connect(database_url)
    away = RedisLink("redis://127.0.0.1:9/0", metrics=Metrics(), timeout_s=0.2)
    try:
        leases = FallbackLeases(RedisLeases(away), DatabaseLeases(database))
        assert RedisLeases(away).acquire("host:h", "A", 5) is None  # away, not "taken"
        assert leases.acquire("host:h", "A", 5)
        assert DatabaseLeases(database).holder("host:h") == "A"
        assert not leases.acquire("host:h", "B", 5)
        assert leases.release("host:h", "A")
    finally:
        away.close()
        database.close()
