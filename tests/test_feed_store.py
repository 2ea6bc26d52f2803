"""Feed state on both backends: claims, polls recorded, entries seen once, schedule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from service.feed_store import FeedStore, PollRecord
from service.storage import Database

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
FEED = "https://coast.example/feed.rss"


@pytest.fixture
def store(database_url: str) -> Iterator[FeedStore]:
    database = Database.connect(database_url)
    try:
        yield FeedStore(database)
    finally:
        database.close()


def test_feeds_are_followed_once_and_configured_ones_follow_the_setting(
    store: FeedStore,
) -> None:
    assert store.add(FEED, origin="opml", title="Coast", now=T0) is True
    assert store.add(FEED, origin="env", now=T0) is False  # kept as it was
    store.sync_configured(["https://a.example/rss", "https://b.example/rss"])
    store.sync_configured(["https://b.example/rss"])
    assert [(f.url, f.origin) for f in store.all()] == [
        (FEED, "opml"), ("https://b.example/rss", "env")]
    assert store.remove(FEED) and not store.remove(FEED)


def test_one_poller_claims_a_feed_until_it_records_the_poll(store: FeedStore) -> None:
    store.add(FEED, origin="cli", now=T0)
    assert store.next_due() == datetime.min.replace(tzinfo=UTC)
    assert store.claim(FEED, T0, lease_s=60, due_only=True)
    assert not store.claim(FEED, T0, lease_s=60, due_only=True)  # another replica
    assert store.claim(FEED, T0 + timedelta(seconds=61), lease_s=60, due_only=True)  # expired
    store.record(FEED, T0, PollRecord("ok", T0 + timedelta(seconds=900), 200, title="Coast",
                                      etag='"1"', ingested=3))
    state = store.get(FEED)
    assert state and (state.title, state.etag, state.entries_ingested, state.failures) == (
        "Coast", '"1"', 3, 0)
    assert state.last_polled_at == T0 and store.next_due() == T0 + timedelta(seconds=900)
    assert not store.claim(FEED, T0 + timedelta(seconds=899), lease_s=60, due_only=True)
    assert store.claim(FEED, T0 + timedelta(seconds=899), lease_s=60, due_only=False)
    store.record(FEED, T0, PollRecord("not_modified", T0 + timedelta(seconds=900), 304))
    assert store.get(FEED).etag == '"1"'  # type: ignore[union-attr]  # a 304 keeps them
    store.record(FEED, T0, PollRecord("error", T0 + timedelta(hours=2), 503,
                                      error_code="fetch_failed", error_message="busy"))
    store.record(FEED, T0, PollRecord("error", T0 + timedelta(hours=4), 503,
                                      error_code="fetch_failed", error_message="busy"))
    state = store.get(FEED)
    assert state and state.failures == 2 and state.as_dict()["last_error"] == {
        "code": "fetch_failed", "message": "busy"}
    assert not store.claim(FEED, T0 + timedelta(hours=1), lease_s=60, due_only=False)
    store.record(FEED, T0, PollRecord("gone", None, 410, error_code="gone",
                                      error_message="gone"))
    assert store.get(FEED).gone  # type: ignore[union-attr]
    assert not store.claim(FEED, T0 + timedelta(days=30), lease_s=60, due_only=False)
    assert store.next_due() is None


def test_entries_are_seen_by_any_of_their_keys(store: FeedStore) -> None:
    store.add(FEED, origin="cli", now=T0)
    keys = [f"guid:{FEED}\n1", "url:https://coast.example/a"]
    assert not store.seen(keys) and not store.seen([])
    store.mark_seen(FEED, keys, 7, T0)
    store.mark_seen(FEED, keys, 7, T0)  # again: nothing new
    assert store.seen(["url:https://coast.example/a"])
    assert store.get(FEED).entries_seen == 1  # type: ignore[union-attr]
