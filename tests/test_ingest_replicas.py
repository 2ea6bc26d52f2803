"""Ingest across replicas: one fetch and one article per link, polite to each host, new
entries first, and BRIEFING_FEEDS applied by `serve` only.

Two "replicas" are two BriefingService + Ingest pairs in this process, each with its own
database engine and Redis connection, sharing what two processes share: one PostgreSQL and
one Redis (CI=true makes them mandatory), or one SQLite file.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from service.cli import main
from service.config import Settings, get_settings
from service.digest.build import build_digest
from service.digest.compose import StoryBriefer
from service.metrics import Metrics
from service.storage.schema import articles, entry_listings
from service.wiring import Wiring
from tests.feed_samples import page, rss
from tests.loopback_site import LoopbackSite, Reply
from tests.servers import postgres_database, redis_prefix

# Four stories that share no words worth clustering on: four stories in the digest.
STORIES = {
    "/harbour": ("Harbour to be deepened",
                 "The port authority of Vellmar will deepen the harbour channel to fourteen "
                 "metres. Dredging starts in March and lasts two years. Larger container "
                 "ships will then dock without waiting for the tide."),
    "/market": ("Tram depot becomes a market",
                "The old tram depot on Mill Street reopens in May as a covered market. "
                "Forty stalls will sell food from local farms. The city paid for a new roof "
                "and kept the iron columns."),
    "/library": ("Library opens on Sundays",
                 "From January the central library opens on Sundays from noon to five. "
                 "Volunteers from the reading club staff the desk. The council expects "
                 "families to use the children's floor most."),
    "/ferry": ("Night ferry returns",
               "The night ferry between Osterby and the islands sails again after a winter "
               "pause. Tickets cost the same as last year. The first crossing leaves at "
               "eleven on Friday."),
}


class Politeness:
    """Route wrapper: counts requests in flight per host and records when each started and
    ended, so a test can see overlaps and pauses."""

    def __init__(self, hold_s: float = 0.05) -> None:
        self.hold_s = hold_s
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.spans: list[tuple[float, float, str]] = []

    def wrap(self, reply: Reply) -> Callable[[BaseHTTPRequestHandler], Reply]:
        def answer(handler: BaseHTTPRequestHandler) -> Reply:
            with self.lock:
                self.in_flight += 1
                self.most = max(self.most, self.in_flight)
            started = time.monotonic()
            time.sleep(self.hold_s)  # a slow site: overlapping requests would show
            with self.lock:
                self.in_flight -= 1
                self.spans.append((started, time.monotonic(), handler.path))
            return reply

        return answer


def shared_feeds(site: LoopbackSite, polite: Politeness) -> tuple[str, str]:
    """Two feeds that list the same three links (one with tracking parameters, one with
    an upper-case scheme and a fragment), and the first one a link of its own."""
    for path, (title, text) in STORIES.items():
        site.route(path, polite.wrap(Reply(body=page(title, text))))

    def item(path: str, guid: str, suffix: str = "") -> dict[str, str]:
        return {"title": STORIES[path][0], "link": site.url(path) + suffix, "guid": guid}

    coast = site.route("/coast.rss", polite.wrap(Reply(
        body=rss("Coast Post", [item("/harbour", "c1"), item("/market", "c2"),
                                item("/library", "c3"), item("/ferry", "c4")]),
        content_type="application/rss+xml")))
    wire = site.route("/wire.rss", polite.wrap(Reply(
        body=rss("Harbour Wire", [
            item("/harbour", "w1", "?utm_source=wire&utm_medium=rss"),
            {"title": STORIES["/market"][0],
             "link": site.url("/market").replace("http://", "HTTP://") + "#top", "guid": "w2"},
            item("/library", "w3")]),
        content_type="application/rss+xml")))
    return coast, wire


def fetched(site: LoopbackSite) -> dict[str, int]:
    """How often each story's page was requested, by whatever link."""
    paths = [seen.path.split("?")[0] for seen in site.requests]
    return {path: paths.count(path) for path in STORIES}


class Replica:
    def __init__(self, settings: Settings) -> None:
        self.metrics = Metrics()
        self.wiring = Wiring.open(settings, self.metrics)
        self.service = self.wiring.briefing
        self.ingest = self.wiring.ingest()
        self.ingest.apply_configured_feeds()

    def close(self) -> None:
        self.ingest.close()
        self.wiring.close()


@pytest.fixture(params=["sqlite", "postgresql+redis"])
def replica_settings(request: pytest.FixtureRequest, make_settings: Callable[..., Settings],
                     tmp_path: Path) -> Iterator[Callable[..., Settings]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        yield lambda **values: make_settings(database_url=url, **values)
        return
    with postgres_database() as url, redis_prefix() as (redis_url, prefix):
        yield lambda **values: make_settings(database_url=url, redis_url=redis_url,
                                             redis_prefix=prefix, **values)


def test_two_replicas_polling_feeds_that_share_links_fetch_each_link_once(
    replica_settings: Callable[..., Settings], site: LoopbackSite,
) -> None:
    polite = Politeness()
    coast, wire = shared_feeds(site, polite)
    settings = replica_settings(feeds=f"{coast},{wire}", fetch_allow_hosts="127.0.0.1",
                                fetch_timeout_s=20, fetch_host_interval_s=0.05)
    replicas = [Replica(settings), Replica(settings)]
    try:
        barrier = threading.Barrier(2)
        results: list[Any] = []

        def poll(replica: Replica) -> None:
            barrier.wait()
            results.extend(replica.ingest.poller.poll(due_only=False))

        threads = [threading.Thread(target=poll, args=(r,)) for r in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        # each page fetched once, whichever feed and replica reached it first
        assert fetched(site) == dict.fromkeys(STORIES, 1)
        database = replicas[0].wiring.database
        assert database is not None
        with database.read("test") as conn:
            stored = conn.execute(select(articles.c.url, articles.c.feed_url)).all()
        assert len(stored) == 4  # one article per link
        # polite: never two requests to the host at once, across both replicas, and a pause
        assert polite.most == 1
        spans = sorted(polite.spans)
        assert all(b[0] - a[1] >= 0.04 for a, b in zip(spans, spans[1:], strict=False))
        assert sum(r.ingested for r in results) == 4
        # the digest counts one publisher per story, not one per listing
        day = datetime.now(settings.zone).date()
        digest = build_digest(settings, replicas[0].service.store,
                              StoryBriefer.for_service(replicas[0].service), day)
        assert digest["articles"] == 4
        assert [story["sources"] for story in digest["stories"]] == [1, 1, 1, 1]
        # a second round finds nothing new and fetches no page again; by then the feed that
        # came second for a link has recorded itself as a listing of it (at once when the
        # first one had stored it, else at this poll)
        for replica in replicas:
            assert all(r.ingested == 0 for r in replica.ingest.poller.poll(due_only=False))
        assert fetched(site) == dict.fromkeys(STORIES, 1)
        with database.read("test") as conn:
            listings = conn.execute(select(func.count()).select_from(entry_listings)).scalar()
        assert listings == 3
        feeds = {f["url"]: f for f in replicas[1].ingest.feed_list()["feeds"]}
        assert feeds[coast]["entries_seen"] == 4 and feeds[wire]["entries_seen"] == 3
    finally:
        for replica in replicas:
            replica.close()


def test_a_feed_listed_oldest_first_yields_its_newest_entries(
    make_settings: Callable[..., Settings], site: LoopbackSite,
) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    items = [{"title": f"Item {n}", "link": site.url(f"/item/{n}"), "guid": f"i{n}",
              "pubDate": (start + timedelta(hours=n)).strftime("%a, %d %b %Y %H:%M:%S +0000")}
             for n in range(60)]  # oldest first
    for n in range(60):
        site.route(f"/item/{n}", Reply(body=page(
            f"Item {n}", f"Item {n} of the council minutes says budget line {n} was approved "
            f"by a vote of {n} to nil. The treasurer noted the figure in the annex.")))
    url = site.route("/minutes.rss", Reply(body=rss("Minutes", items),
                                           content_type="application/rss+xml"))
    replica = Replica(make_settings(feeds=url, fetch_allow_hosts="127.0.0.1",
                                    feeds_max_entries=10))
    try:
        [result] = replica.ingest.poller.poll(due_only=False)
        assert result.ingested == 10
        database = replica.wiring.database
        assert database is not None
        with database.read("test") as conn:
            titles = set(conn.execute(select(articles.c.title)).scalars())
        assert titles == {f"Item {n}" for n in range(50, 60)}  # the ten newest
        [result] = replica.ingest.poller.poll(due_only=False)  # the next ten
        with database.read("test") as conn:
            titles = set(conn.execute(select(articles.c.title)).scalars())
        assert result.ingested == 10 and titles == {f"Item {n}" for n in range(40, 60)}
    finally:
        replica.close()


def test_only_serve_applies_briefing_feeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = "https://a.example/rss", "https://b.example/rss"
    settings = make_settings(feeds=f"{first},{second}", feeds_poll_s=0)
    serving = Replica(settings)  # as `briefing serve` starts
    try:
        assert [f.url for f in serving.ingest.feeds.all()] == [first, second]
    finally:
        serving.close()
    # a shell without BRIEFING_FEEDS: list, poll and remove change nothing else
    for name, value in {"BRIEFING_ENGINE": "extractive", "BRIEFING_DATA_DIR":
                        str(settings.data_dir), "BRIEFING_FEEDS": "",
                        "BRIEFING_DAILY_CRON": "", "BRIEFING_FEEDS_POLL_S": "0"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        assert main(["feeds", "list"]) == 0
        assert main(["feeds", "list", "--json"]) == 0
        again = Replica(make_settings(feeds=f"{first},{second}", feeds_poll_s=0))
        try:
            assert [f.url for f in again.ingest.feeds.all()] == [first, second]
        finally:
            again.close()
    finally:
        get_settings.cache_clear()
    # replicas with different lists: the last one started wins, the other logs the difference
    older = Replica(make_settings(feeds=f"{first},{second}", feeds_poll_s=0))
    newer = Replica(make_settings(feeds=first, feeds_poll_s=0))
    try:
        assert [f.url for f in newer.ingest.feeds.all()] == [first]
        caplog.set_level(logging.WARNING, logger="service.ingest.runtime")
        assert older.ingest.check_configured_feeds() == ([second], [])
        assert older.ingest.check_configured_feeds() == ([second], [])
        warned = [r for r in caplog.records if "differs" in r.getMessage()]
        assert len(warned) == 1 and second in warned[0].getMessage()  # once, not each poll
        assert [f.url for f in older.ingest.feeds.all()] == [first]  # not changed back
    finally:
        older.close()
        newer.close()


def test_a_poll_stops_at_its_lease_deadline_and_the_next_poll_goes_on(
    make_settings: Callable[..., Settings], site: LoopbackSite,
) -> None:
    items = []
    for n in range(6):
        site.route(f"/slow/{n}", Reply(body=page(
            f"Slow {n}", f"Slow page {n} reports that the pier repair {n} is done. The works "
                         f"took {n + 2} weeks and cost less than planned."), stall_s=0.3))
        items.append({"title": f"Slow {n}", "link": site.url(f"/slow/{n}"), "guid": f"s{n}"})
    url = site.route("/slow.rss", Reply(body=rss("Slow", items),
                                        content_type="application/rss+xml"))
    replica = Replica(make_settings(feeds=url, fetch_allow_hosts="127.0.0.1"))
    try:
        replica.ingest.poller.poll_budget_s = 0.8  # the poll's lease bounds its work
        started = time.monotonic()
        [first] = replica.ingest.poller.poll(due_only=False)
        assert time.monotonic() - started < 3  # not 6 × 0.3 s and more
        assert 1 <= first.ingested < 6
        assert any("ran out" in note for note in first.notes)
        replica.ingest.poller.poll_budget_s = 60
        [second] = replica.ingest.poller.poll(due_only=False)
        assert first.ingested + second.ingested == 6  # the rest, none twice
    finally:
        replica.close()
