"""Feed state on both backends: claims, polls recorded, entries seen once, schedule."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from service.storage import Database
from service.storage.feeds import FeedStore, PollRecord

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
    first = store.claim(FEED, T0, ttl_s=0.3, due_only=True)
    assert first is not None
    assert store.claim(FEED, T0, ttl_s=60, due_only=True) is None  # another replica
    time.sleep(0.35)  # the first poller died: its lease ran out
    second = store.claim(FEED, T0, ttl_s=60, due_only=True)
    assert second is not None
    first.release()  # the stale holder cannot release the new holder's lease
    assert store.claim(FEED, T0, ttl_s=60, due_only=True) is None
    store.record(FEED, T0, PollRecord("ok", T0 + timedelta(seconds=900), 200, title="Coast",
                                      etag='"1"', ingested=3))
    second.release()
    state = store.get(FEED)
    assert state and (state.title, state.etag, state.entries_ingested, state.failures) == (
        "Coast", '"1"', 3, 0)
    assert state.last_polled_at == T0 and store.next_due() == T0 + timedelta(seconds=900)
    assert store.claim(FEED, T0 + timedelta(seconds=899), ttl_s=60, due_only=True) is None
    claim = store.claim(FEED, T0 + timedelta(seconds=899), ttl_s=60, due_only=False)
    assert claim is not None
    store.record(FEED, T0, PollRecord("not_modified", T0 + timedelta(seconds=900), 304))
    claim.release()
    assert store.get(FEED).etag == '"1"'  # type: ignore[union-attr]  # a 304 keeps them
    store.record(FEED, T0, PollRecord("error", T0 + timedelta(hours=2), 503,
                                      error_code="fetch_failed", error_message="busy"))
    store.record(FEED, T0, PollRecord("error", T0 + timedelta(hours=4), 503,
                                      error_code="fetch_failed", error_message="busy"))
    state = store.get(FEED)
    assert state and state.failures == 2 and state.as_dict()["last_error"] == {
        "code": "fetch_failed", "message": "busy"}
    assert store.claim(FEED, T0 + timedelta(hours=1), ttl_s=60, due_only=False) is None
    store.record(FEED, T0, PollRecord("gone", None, 410, error_code="gone",
                                      error_message="gone"))
    assert store.get(FEED).gone  # type: ignore[union-attr]
    assert store.claim(FEED, T0 + timedelta(days=30), ttl_s=60, due_only=False) is None
    assert store.next_due() is None


def test_a_link_is_claimed_once_and_other_feeds_list_it(store: FeedStore) -> None:
    other = "https://b.example/rss"
    store.add(FEED, origin="cli", now=T0)
    store.add(other, origin="cli", now=T0)
    key = "url:https://news.example/story"
    claim = store.claim_entry(key, ttl_s=60)
    assert claim is not None and store.claim_entry(key, ttl_s=60) is None
    store.mark_seen(FEED, [f"guid:{FEED}\n1", key], 7, T0)
    claim.release()
    assert store.known([key, "url:https://news.example/other"], other) == {key: False}
    assert store.known([key], FEED) == {key: True}
    assert store.add_listings([key], other, T0) == 1
    assert store.add_listings([key], other, T0) == 0  # recorded once
    assert store.known([key], other) == {key: True}
    assert store.listings(key) == [FEED, other]
    assert store.article_of([key]) == 7
    assert [s.entries_seen for s in store.all()] == [1, 1]


def test_entries_are_seen_by_any_of_their_keys(store: FeedStore) -> None:
    store.add(FEED, origin="cli", now=T0)
    keys = [f"guid:{FEED}\n1", "url:https://coast.example/a"]
    assert not store.seen(keys) and not store.seen([])
    store.mark_seen(FEED, keys, 7, T0)
    store.mark_seen(FEED, keys, 7, T0)  # again: nothing new
    assert store.seen(["url:https://coast.example/a"])
    assert store.get(FEED).entries_seen == 1  # type: ignore[union-attr]
