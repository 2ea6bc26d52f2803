"""Retention on both backends: old article text and briefings go, digests and the ledger stay."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from service.storage import Database
from service.storage.retention import RetentionJob, purge
from service.storage.schema import (
    aliases,
    articles,
    briefings,
    deliveries,
    digests,
    feed_entries,
)

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _fill(db: Database, now: datetime = NOW) -> None:
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    with db.write("test") as conn:
        for n in range(5):
            conn.execute(insert(articles).values(
                content_hash=f"h{n}", text=f"old {n}", received_at=old + timedelta(minutes=n)))
        conn.execute(insert(articles).values(content_hash="r", text="recent", received_at=recent))
        conn.execute(insert(briefings).values(key="old", result="{}", created_at=old))
        conn.execute(insert(briefings).values(key="new", result="{}", created_at=recent))
        conn.execute(insert(aliases).values(alias="raw-old", key="old"))
        conn.execute(insert(aliases).values(alias="raw-new", key="new"))
        # feed entries by when a poll last found them listed
        for key, seen_at in (("url:https://a.example/1", old), ("url:https://a.example/2", old),
                             ("url:https://a.example/3", recent)):
            conn.execute(insert(feed_entries).values(key=key, feed_url="https://a.example/f",
                                                     seen_at=seen_at))
        conn.execute(insert(digests).values(day="2026-10-01", timezone="UTC", digest="{}",
                                            built_at=old))
        conn.execute(insert(deliveries).values(
            day="2026-10-01", timezone="UTC", webhook_id="w", status="delivered",
            created_at=old, updated_at=old))


def _count(db: Database, table) -> int:  # type: ignore[no-untyped-def]
    with db.read("test") as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_purge_deletes_only_what_is_older_than_the_retention(database_url: str) -> None:
    db = Database.connect(database_url)
    try:
        _fill(db)
        counts = purge(db, 30, now=NOW, batch=2)  # batches smaller than the work
        assert counts == {"articles": 5, "briefings": 1, "feed_entries": 2,
        "entry_listings": 0, "leases": 0}
        with db.read("test") as conn:
            assert list(conn.execute(select(articles.c.text)).scalars()) == ["recent"]
            assert list(conn.execute(select(briefings.c.key)).scalars()) == ["new"]
            assert list(conn.execute(select(aliases.c.alias)).scalars()) == ["raw-new"]
            assert list(conn.execute(select(feed_entries.c.key)).scalars()) == [
                "url:https://a.example/3"]
        assert _count(db, digests) == 1 and _count(db, deliveries) == 1
        assert purge(db, 30, now=NOW) == {"articles": 0, "briefings": 0,
                                          "feed_entries": 0,
        "entry_listings": 0, "leases": 0}  # idempotent
    finally:
        db.close()


def test_the_job_runs_at_start_and_reports_what_it_deleted(database_url: str) -> None:
    db = Database.connect(database_url)
    _fill(db, datetime.now(UTC))
    seen: dict[str, int] = {}
    job = RetentionJob(db, 30, interval_s=3600, on_deleted=seen.__setitem__)
    try:
        job.start()  # the first round runs at once
        for _ in range(400):
            if len(seen) == 3:
                break
            time.sleep(0.05)
    finally:
        job.stop()
        db.close()
    assert seen == {"articles": 5, "briefings": 1, "feed_entries": 2,
        "entry_listings": 0, "leases": 0}


def test_serve_applies_the_retention_on_its_schedule(make_client, make_settings) -> None:
    from service.storage.articles import Article
    from tests.storage_support import OwnStore

    store = OwnStore(make_settings())
    store.add(Article("An article from long ago."),
              received_at=datetime.now(UTC) - timedelta(days=40))
    store.add(Article("An article from yesterday."),
              received_at=datetime.now(UTC) - timedelta(days=1))
    client = make_client(retention_days=30)
    for _ in range(400):
        if store.count() == 1:
            break
        time.sleep(0.05)
    assert store.count() == 1
    store.close()
    metrics = client.get("/metrics").text
    assert 'briefing_retention_deleted_total{table="articles"} 1.0' in metrics


def test_a_briefing_a_kept_article_links_to_is_kept(database_url: str) -> None:
    """A cache hit today links a new article to a briefing written 40 days ago: the
    briefing stays; one linked only by old articles goes after them, one linked by none
    goes; aliases go with their briefing; in batches; twice deletes nothing more."""
    db = Database.connect(database_url)
    old, today = NOW - timedelta(days=40), NOW - timedelta(hours=1)
    try:
        with db.write("test") as conn:
            for key in ("hit", "stale", "orphan", "orphan-2"):
                conn.execute(insert(briefings).values(key=key, result="{}", created_at=old))
                conn.execute(insert(aliases).values(alias=f"raw-{key}", key=key))
            conn.execute(insert(articles).values(  # the article that made "hit"
                content_hash="a", text="first", received_at=old, briefing_id="hit"))
            conn.execute(insert(articles).values(  # the same article again today: a hit
                content_hash="a", text="again", received_at=today, briefing_id="hit"))
            conn.execute(insert(articles).values(
                content_hash="s", text="stale", received_at=old, briefing_id="stale"))
        counts = purge(db, 30, now=NOW, batch=1)
        assert counts == {"articles": 2, "briefings": 3, "feed_entries": 0,
        "entry_listings": 0, "leases": 0}
        with db.read("test") as conn:
            assert list(conn.execute(select(briefings.c.key)).scalars()) == ["hit"]
            assert list(conn.execute(select(aliases.c.alias)).scalars()) == ["raw-hit"]
            assert list(conn.execute(select(articles.c.text)).scalars()) == ["again"]
        assert purge(db, 30, now=NOW) == {"articles": 0, "briefings": 0, "feed_entries": 0,
        "entry_listings": 0, "leases": 0}
        # 31 days on, the article that got it is gone too, and so is the briefing.
        later = NOW + timedelta(days=31)
        assert purge(db, 30, now=later) == {"articles": 1, "briefings": 1, "feed_entries": 0,
        "entry_listings": 0, "leases": 0}
        assert _count(db, briefings) == 0 and _count(db, aliases) == 0
    finally:
        db.close()


def test_the_schema_has_the_indexes_retention_uses(database_url: str) -> None:
    from sqlalchemy import inspect, text

    db = Database.connect(database_url)
    try:
        with db.read("test") as conn:
            found = {(table, tuple(ix["column_names"])): ix["name"]
                     for table in ("feed_entries", "articles", "briefings")
                     for ix in inspect(conn).get_indexes(table)}
            assert found[("feed_entries", ("seen_at",))] == "ix_feed_entries_seen_at"
            assert found[("articles", ("briefing_id",))] == "ix_articles_briefing_id"
            assert found[("articles", ("received_at",))] == "ix_articles_received_at"
            assert found[("briefings", ("created_at",))] == "ix_briefings_created_at"
            if db.dialect == "sqlite":  # the planner uses it for the "still linked" check
                plan = " ".join(str(row[-1]) for row in conn.execute(text(
                    "EXPLAIN QUERY PLAN SELECT key FROM briefings WHERE created_at < '2' AND "
                    "NOT EXISTS (SELECT id FROM articles WHERE briefing_id = briefings.key)")))
                assert "ix_articles_briefing_id" in plan, plan
    finally:
        db.close()


def test_a_briefing_id_answered_by_a_cache_hit_survives_retention(
    make_client, database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    from sqlalchemy import update

    from tests.conftest import SEED_ARTICLE

    first = make_client(database_url=database_url)
    hit = first.post("/v1/briefings", json={"text": SEED_ARTICLE}).json()
    orphan = first.post("/v1/briefings", json={"text": SEED_ARTICLE[: len(SEED_ARTICLE) // 2]}
                        ).json()
    assert not hit["cached"] and not orphan["cached"] and hit["id"] != orphan["id"]
    db = Database.connect(database_url)
    try:
        long_ago = datetime.now(UTC) - timedelta(days=40)
        with db.write("test") as conn:  # both written 40 days ago, with their articles
            conn.execute(update(briefings).values(created_at=long_ago))
            conn.execute(update(articles).values(received_at=long_ago))
        again = first.post("/v1/briefings", json={"text": SEED_ARTICLE}).json()
        assert again["cached"] is True and again["id"] == hit["id"]  # answered today
        assert purge(db, 30) == {"articles": 2, "briefings": 1, "feed_entries": 0,
        "entry_listings": 0, "leases": 0}
        assert purge(db, 30) == {"articles": 0, "briefings": 0, "feed_entries": 0,
        "entry_listings": 0, "leases": 0}
    finally:
        db.close()
    fresh = make_client(database_url=database_url)  # no copy in any process's memory
    for client in (first, fresh):
        kept = client.get(f"/v1/briefings/{hit['id']}")
        assert kept.status_code == 200 and kept.json()["short"] == hit["short"]
    gone = fresh.get(f"/v1/briefings/{orphan['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


def test_listings_go_with_their_entry_and_dead_leases_a_day_after_expiry(
    database_url: str,
) -> None:
    from service.storage.schema import entry_listings, leases

    db = Database.connect(database_url)
    try:
        with db.write("test") as conn:
            conn.execute(insert(feed_entries).values(
                key="url:https://a.example/kept", feed_url="https://a.example/f",
                seen_at=NOW - timedelta(days=1)))
            conn.execute(insert(feed_entries).values(
                key="url:https://a.example/old", feed_url="https://a.example/f",
                seen_at=NOW - timedelta(days=40)))
            for key in ("url:https://a.example/kept", "url:https://a.example/old"):
                conn.execute(insert(entry_listings).values(
                    key=key, feed_url="https://b.example/f", listed_at=NOW - timedelta(days=40)))
            now_s = NOW.timestamp()
            conn.execute(insert(leases).values(name="feed:dead", owner="gone",
                                               expires_at=now_s - 2 * 86400))
            conn.execute(insert(leases).values(name="feed:live", owner="here",
                                               expires_at=now_s + 30))
            conn.execute(insert(leases).values(name="host:pause", owner=None,
                                               expires_at=now_s - 60))
        counts = purge(db, 30, now=NOW)
        assert (counts["feed_entries"], counts["entry_listings"], counts["leases"]) == (1, 1, 1)
        with db.read("test") as conn:
            assert list(conn.execute(select(entry_listings.c.key)).scalars()) == [
                "url:https://a.example/kept"]
            assert sorted(conn.execute(select(leases.c.name)).scalars()) == [
                "feed:live", "host:pause"]
    finally:
        db.close()
