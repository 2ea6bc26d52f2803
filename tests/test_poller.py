"""Following feeds: polls, conditional requests, entries seen once, backoff, bad feeds.

A news site on loopback serves the feeds and pages; the clock is the test's, so the
schedule is tested without waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from service.briefing import BriefingService
from service.config import Settings
from service.ingest.runtime import Ingest
from service.metrics import Metrics
from service.wiring import Wiring
from tests.feed_samples import STORY_A, STORY_A_RETOLD, STORY_B, as_html, atom, page, rss
from tests.loopback_site import LoopbackSite, Reply

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Env:
    ingest: Ingest
    service: BriefingService
    clock: Clock
    metrics: Metrics
    site: LoopbackSite


@pytest.fixture
def make_env(
    site: LoopbackSite, make_settings: Callable[..., Settings]
) -> Iterator[Callable[..., Env]]:
    opened: list[tuple[Env, Wiring]] = []

    def make(resolver: Any = None, **overrides: Any) -> Env:
        values: dict[str, Any] = {"fetch_allow_hosts": "127.0.0.1", "feeds_poll_s": 900,
                                  "fetch_timeout_s": 5}
        values.update(overrides)
        settings = make_settings(**values)
        metrics = Metrics()
        wiring = Wiring.open(settings, metrics)
        clock = Clock()
        ingest = wiring.ingest(clock=clock, resolver=resolver)
        ingest.apply_configured_feeds()  # as `briefing serve` does
        env = Env(ingest, wiring.briefing, clock, metrics, site)
        opened.append((env, wiring))
        return env

    yield make
    for env, wiring in opened:
        env.ingest.close()
        wiring.close()


def conditional(body: bytes, *, etag: str | None = None, modified: str | None = None,
                content_type: str = "application/rss+xml") -> Callable[..., Reply]:
    """A feed that answers 304 to a request naming its current validator."""

    def answer(handler: BaseHTTPRequestHandler) -> Reply:
        if etag and handler.headers.get("If-None-Match") == etag:
            return Reply(304, content_type=None, length=False)
        if modified and handler.headers.get("If-Modified-Since") == modified:
            return Reply(304, content_type=None, length=False)
        headers = {"ETag": etag} if etag else {"Last-Modified": modified or ""}
        return Reply(body=body, content_type=content_type, headers=headers)

    return answer


def two_feeds(site: LoopbackSite) -> tuple[str, str]:
    """Coast Post (RSS, teasers: pages fetched) and Harbour Wire (Atom, full content)."""
    site.route("/harbour", Reply(body=page("Harbour to be deepened", STORY_A)))
    site.route("/market", Reply(body=page("Tram depot becomes a market", STORY_B)))
    coast = site.route("/coast.rss", conditional(rss("Coast Post", [
        {"title": "Harbour to be deepened", "link": site.url("/harbour"), "guid": "c-1",
         "description": "The harbour…"},
        {"title": "Tram depot becomes a market", "link": site.url("/market"), "guid": "c-2",
         "description": "A market…"},
    ]), etag='"coast-1"'))
    wire = site.route("/wire.atom", conditional(atom("Harbour Wire", [
        {"id": "tag:wire,1", "title": "Vellmar channel deepening approved",
         "link": "https://wire.example/vellmar", "content": as_html(STORY_A_RETOLD)},
    ]), modified="Mon, 30 Nov 2026 07:00:00 GMT", content_type="application/atom+xml"))
    return coast, wire


def test_new_entries_are_briefed_and_stored_with_the_feed_as_source(
    make_env: Callable[..., Env], site: LoopbackSite,
) -> None:
    coast, wire = two_feeds(site)
    env = make_env(feeds=f"{coast},{wire}")
    results = {r.url: r for r in env.ingest.poller.poll()}
    assert {u: (r.status, r.ingested) for u, r in results.items()} == {
        coast: ("ok", 2), wire: ("ok", 1)}
    assert len(site.hits("/harbour")) == 1 and len(site.hits("/market")) == 1
    assert not [r for r in site.requests if "wire.example" in r.path]  # full content used
    stored = env.service.store.summaries(T0 - timedelta(days=1))
    by_title = {a.title: a for a in stored}
    assert set(by_title) == {"Harbour to be deepened", "Tram depot becomes a market",
                             "Vellmar channel deepening approved"}
    harbour = by_title["Harbour to be deepened"]
    assert (harbour.source, harbour.feed_url, harbour.site_name) == (
        "Coast Post", coast, "Coast Post")
    assert harbour.briefing_id is not None
    assert by_title["Vellmar channel deepening approved"].source == "Harbour Wire"
    feeds = {f["url"]: f for f in env.ingest.feed_list()["feeds"]}
    assert feeds[coast]["title"] == "Coast Post" and feeds[coast]["entries_seen"] == 2
    assert feeds[coast]["validators"]["etag"] == '"coast-1"'
    assert feeds[wire]["validators"]["last_modified"] == "Mon, 30 Nov 2026 07:00:00 GMT"
    assert feeds[coast]["last_status"] == "ok" and feeds[coast]["last_error"] is None
    text = env.metrics.render().decode()
    assert "briefing_feed_entries_ingested_total 3.0" in text
    assert 'briefing_feed_polls_total{status="ok"} 2.0' in text
    assert 'briefing_fetches_total{outcome="ok"} 4.0' in text


def test_two_polls_of_unchanged_feeds_are_two_conditional_requests_answered_304(
    make_env: Callable[..., Env], site: LoopbackSite,
) -> None:
    coast, wire = two_feeds(site)
    env = make_env(feeds=f"{coast},{wire}")
    env.ingest.poller.poll()
    for _ in range(2):
        before = len(site.requests)
        env.clock.advance(900)
        results = env.ingest.poller.poll()
        assert sorted(r.status for r in results) == ["not_modified", "not_modified"]
        asked = site.requests[before:]
        assert sorted(r.path for r in asked) == ["/coast.rss", "/wire.atom"]
        assert {r.path: (r.headers.get("If-None-Match"), r.headers.get("If-Modified-Since"))
                for r in asked} == {"/coast.rss": ('"coast-1"', None),
                                    "/wire.atom": (None, "Mon, 30 Nov 2026 07:00:00 GMT")}
    assert 'briefing_fetches_total{outcome="not_modified"} 4.0' in env.metrics.render().decode()


def test_entries_seen_before_are_never_fetched_again(
    make_env: Callable[..., Env], site: LoopbackSite,
) -> None:
    site.route("/harbour", Reply(body=page("Harbour to be deepened", STORY_A,
                                           canonical=site.url("/harbour"))))
    site.route("/harbour-amp", Reply(body=page("Harbour to be deepened", STORY_A,
                                               canonical=site.url("/harbour"))))
    site.route("/market", Reply(body=page("Tram depot becomes a market", STORY_B)))
    items = [{"title": "Harbour", "link": site.url("/harbour?utm_source=rss"), "guid": "h"}]
    feed = {"body": rss("Coast Post", items)}
    url = site.route("/feed", lambda h: Reply(body=feed["body"],
                                              content_type="application/rss+xml"))
    env = make_env(feeds=url)
    assert env.ingest.poller.poll()[0].ingested == 1
    # The same story again under a new guid and a tracking parameter, another page with the
    # same canonical URL, and one new story: only the new pages are fetched.
    feed["body"] = rss("Coast Post", [
        *items,
        {"title": "Harbour again", "link": site.url("/harbour?utm_medium=x"), "guid": "h2"},
        {"title": "Harbour AMP", "link": site.url("/harbour-amp"), "guid": "h3"},
        {"title": "Market", "link": site.url("/market"), "guid": "m"},
    ])
    env.clock.advance(900)
    (result,) = env.ingest.poller.poll()
    assert result.ingested == 1
    assert len(site.hits("/harbour?utm_source=rss")) == 1
    assert not site.hits("/harbour?utm_medium=x")
    assert len(site.hits("/harbour-amp")) == 1 and len(site.hits("/market")) == 1
    env.clock.advance(900)
    env.ingest.poller.poll()
    assert len(site.hits("/harbour-amp")) == 1 and len(site.hits("/market")) == 1
    assert env.service.store.count() == 2


def test_the_schedule_polls_when_due_and_backs_off_on_errors(
    make_env: Callable[..., Env], site: LoopbackSite,
) -> None:
    state = {"reply": Reply(503, b"busy", "text/plain", headers={"Retry-After": "7200"})}
    url = site.route("/feed", lambda h: state["reply"])
    env = make_env(feeds=url)
    poller = env.ingest.poller
    assert poller.seconds_until_next() == 0  # a new feed is due at once
    assert poller.poll()[0].status == "error"
    feed = env.ingest.feeds.get(url)
    assert feed and feed.failures == 1 and feed.http_status == 503
    assert feed.next_poll_at == T0 + timedelta(seconds=7200)  # Retry-After beats 900
    assert poller.seconds_until_next(most=10_000) == 7200
    env.clock.advance(7199)
    assert poller.poll()[0].status == "skipped" and len(site.requests) == 1
    assert poller.poll(due_only=False)[0].status == "skipped"  # backing off: even by hand
    state["reply"] = Reply(500, b"oops", "text/plain")
    env.clock.advance(1)
    assert poller.poll()[0].status == "error"
    feed = env.ingest.feeds.get(url)
    assert feed and feed.failures == 2 and feed.next_poll_at == env.clock.now + timedelta(
        seconds=1800)  # doubled
    state["reply"] = Reply(body=rss("Back", []), content_type="application/rss+xml")
    env.clock.advance(1800)
    assert poller.poll()[0].status == "ok"
    feed = env.ingest.feeds.get(url)
    assert feed and feed.failures == 0 and feed.error_code is None
    assert feed.next_poll_at == env.clock.now + timedelta(seconds=900)
    env.clock.advance(899)
    assert poller.poll()[0].status == "skipped"
    env.clock.advance(1)
    assert poller.poll()[0].status == "ok"


def test_bad_feeds_are_reported_each_for_itself_and_the_others_go_on(
    make_env: Callable[..., Env], site: LoopbackSite,
) -> None:
    site.route("/market", Reply(body=page("Tram depot becomes a market", STORY_B)))
    good = site.route("/good.rss", Reply(body=rss("Good", [
        {"title": "Market", "link": site.url("/market"), "guid": "m"},
        {"title": "No link at all", "description": "Only words, nowhere to read more."},
    ]), content_type="application/rss+xml"))
    bad = {
        "/malformed.xml": Reply(body=b"<rss><channel><title>x</title><item><tit",
                                content_type="application/xml"),
        "/page.html": Reply(body=page("A blog", STORY_B)),
        "/missing.rss": Reply(404, b"no", "text/plain"),
        "/gone.rss": Reply(410, b"gone", "text/plain"),
        "/huge.rss": Reply(body=rss("Huge", [{"title": "t" * 1000, "link": "https://h.example/"}
                                             for _ in range(300)]),
                           content_type="application/rss+xml"),
        "/image.rss": Reply(body=b"\x89PNG", content_type="image/png"),
    }
    urls = [site.route(path, reply) for path, reply in bad.items()]
    env = make_env(feeds=",".join([*urls, good]), fetch_max_bytes=100_000)
    results = {r.url.rsplit("/", 1)[1]: r for r in env.ingest.poller.poll()}
    assert results["good.rss"].status == "ok" and results["good.rss"].ingested == 1
    states = {f["url"].rsplit("/", 1)[1]: f for f in env.ingest.feed_list()["feeds"]}
    codes = {name: (s["last_status"], (s["last_error"] or {}).get("code"))
             for name, s in states.items()}
    assert codes == {
        "malformed.xml": ("error", "invalid_feed"),
        "page.html": ("error", "invalid_feed"),
        "missing.rss": ("error", "fetch_failed"),
        "gone.rss": ("gone", "gone"),
        "huge.rss": ("error", "too_large"),
        "image.rss": ("error", "unsupported_content"),
        "good.rss": ("ok", None),
    }
    assert "HTML page, not a feed" in states["page.html"]["last_error"]["message"]
    assert states["missing.rss"]["http_status"] == 404
    assert "without a link" in states["good.rss"]["warning"]
    assert states["gone.rss"]["gone"] is True
    env.clock.advance(10 * 86_400)
    again = {r.url.rsplit("/", 1)[1]: r.status for r in env.ingest.poller.poll()}
    assert "gone.rss" not in again and len(site.hits("/gone.rss")) == 1
    text = env.metrics.render().decode()
    assert 'briefing_feed_polls_total{status="gone"} 1.0' in text
    assert 'briefing_feed_polls_total{status="error"}' in text


def test_one_request_at_a_time_per_host(make_env: Callable[..., Env], site: LoopbackSite) -> None:
    """Two hosts (two names for the loopback site): their feeds poll in parallel, and the
    pages one host's feed links to on the other host wait for that host's turn."""
    lock = threading.Lock()
    active: dict[str, int] = {}
    most: dict[str, int] = {}

    def slow(body: bytes, content_type: str) -> Callable[..., Reply]:
        def answer(handler: BaseHTTPRequestHandler) -> Reply:
            host = handler.headers["Host"].split(":")[0]
            with lock:
                active[host] = active.get(host, 0) + 1
                most[host] = max(most.get(host, 0), active[host])
            threading.Event().wait(0.05)
            with lock:
                active[host] -= 1
            return Reply(body=body, content_type=content_type)
        return answer

    def on(host: str, path: str) -> str:
        return f"http://{host}:{site.port}{path}"

    feeds = []
    for n in range(3):
        for host, other in (("a.test", "b.test"), ("b.test", "a.test")):
            site.route(f"/{host}/p{n}", slow(page(f"Story {host} {n}", STORY_B), "text/html"))
            site.route(f"/{host}/f{n}.rss", slow(rss(f"Feed {host} {n}", [
                {"title": f"Story {other} {n}", "link": on(other, f"/{other}/p{n}"),
                 "guid": f"{host}{n}"}]), "application/rss+xml"))
            feeds.append(on(host, f"/{host}/f{n}.rss"))
    env = make_env(feeds=",".join(feeds), feeds_concurrency=4,
                   fetch_allow_hosts="a.test,b.test",
                   resolver=lambda host, port, timeout: ["127.0.0.1"])
    assert all(r.status == "ok" for r in env.ingest.poller.poll())
    assert len(site.requests) == 12 and most == {"a.test": 1, "b.test": 1}


def test_the_poller_thread_polls_at_start_and_stops(
    make_env: Callable[..., Env], site: LoopbackSite,
) -> None:
    polled = threading.Event()

    def answer(handler: BaseHTTPRequestHandler) -> Reply:
        polled.set()
        return Reply(body=rss("T", []), content_type="application/rss+xml")

    env = make_env(feeds=site.route("/feed", answer))
    env.ingest.start_polling()
    assert polled.wait(10)
    env.ingest.close()
    assert env.ingest._thread is None


def _entry_keys(env: Env) -> dict[str, datetime]:
    from sqlalchemy import select

    from service.storage.schema import feed_entries

    with env.ingest.feeds.database.read("test") as conn:
        rows = conn.execute(select(feed_entries.c.key, feed_entries.c.seen_at)).all()
    return {key: seen_at for key, seen_at in rows}  # noqa: C416 (rows are Row objects)


def test_retention_forgets_entries_no_feed_lists_and_keeps_those_still_listed(
    make_env: Callable[..., Env], site: LoopbackSite,
) -> None:
    from service.storage.retention import purge

    site.route("/harbour", Reply(body=page("Harbour to be deepened", STORY_A)))
    site.route("/market", Reply(body=page("Tram depot becomes a market", STORY_B)))
    harbour = {"title": "Harbour", "link": site.url("/harbour"), "guid": "h"}
    market = {"title": "Market", "link": site.url("/market"), "guid": "m"}
    feed = {"items": [harbour, market]}
    url = site.route("/feed", lambda h: Reply(body=rss("Coast Post", feed["items"]),
                                              content_type="application/rss+xml"))
    env = make_env(feeds=url)
    assert env.ingest.poller.poll()[0].ingested == 2
    keys = _entry_keys(env)
    assert set(keys.values()) == {T0}
    # Three weeks on, the feed lists the harbour story only: its keys are marked listed.
    feed["items"] = [harbour]
    env.clock.advance(21 * 86400)
    assert env.ingest.poller.poll()[0].ingested == 0
    listed = _entry_keys(env)
    # each entry by its guid (resolved against the feed's URL) and by its link
    harbour_keys = {k for k in listed if k.endswith(("/harbour", "/h"))}
    assert len(harbour_keys) == 2 and len(listed) == 4
    assert harbour_keys and {listed[k] for k in harbour_keys} == {env.clock.now}
    assert {listed[k] for k in set(listed) - harbour_keys} == {T0}
    # Two weeks later, retention (30 days) forgets the market story's keys only ...
    env.clock.advance(14 * 86400)
    counts = purge(env.ingest.feeds.database, 30, now=env.clock.now)
    assert counts["feed_entries"] == len(keys) - len(harbour_keys)
    assert set(_entry_keys(env)) == harbour_keys
    # ... and the harbour story, still in the feed, is not taken for a new one.
    assert env.ingest.poller.poll()[0].ingested == 0
    assert len(site.hits("/harbour")) == 1


def test_an_unchanged_feed_keeps_its_entries_listed(
    make_env: Callable[..., Env], site: LoopbackSite,
) -> None:
    from service.storage.retention import purge

    coast, _ = two_feeds(site)
    env = make_env(feeds=coast)
    env.ingest.poller.poll()
    env.clock.advance(3600)  # polled again within a day: nothing is rewritten
    assert env.ingest.poller.poll()[0].status == "not_modified"
    assert set(_entry_keys(env).values()) == {T0}
    env.clock.advance(25 * 86400)
    assert env.ingest.poller.poll()[0].status == "not_modified"  # 304: all still listed
    assert set(_entry_keys(env).values()) == {env.clock.now}
    env.clock.advance(10 * 86400)
    assert purge(env.ingest.feeds.database, 30, now=env.clock.now)["feed_entries"] == 0
    assert len(_entry_keys(env)) == 4  # two entries, each by guid and by link


def test_a_feed_that_moved_for_good_is_polled_at_its_new_url(
    make_env: Callable[..., Env], site: LoopbackSite,
) -> None:
    site.route("/harbour", Reply(body=page("Harbour to be deepened", STORY_A)))
    items = [{"title": "Harbour", "link": site.url("/harbour"), "guid": "h"}]
    site.route("/new.rss", conditional(rss("Coast Post", items), etag='"v1"'))
    old = site.route("/old.rss", Reply(301, headers={"Location": "/new.rss"}))
    temporary = site.route("/away.rss", Reply(302, headers={"Location": "/new.rss"}))
    env = make_env(feeds=f"{old},{temporary}")
    results = {r.url: r for r in env.ingest.poller.poll()}
    assert results[old].status == "ok" and results[temporary].status == "ok"
    feeds = {f["url"]: f for f in env.ingest.feed_list()["feeds"]}
    assert feeds[old]["moved_to"] == site.url("/new.rss")
    assert feeds[temporary]["moved_to"] is None  # a 302 is no move
    env.clock.advance(900)
    before = len(site.requests)
    results = {r.url: r for r in env.ingest.poller.poll()}
    asked = [r.path for r in site.requests[before:]]
    assert asked.count("/old.rss") == 0 and asked.count("/away.rss") == 1
    assert results[old].status == "not_modified"  # its validators work at the new URL
    # The feed keeps the URL it was followed by (entries, BRIEFING_FEEDS, `feeds remove`).
    assert env.service.store.count() == 1
    assert {f["url"] for f in env.ingest.feed_list()["feeds"]} == {old, temporary}
