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
        assert counts == {"articles": 5, "briefings": 1, "feed_entries": 2}
        with db.read("test") as conn:
            assert list(conn.execute(select(articles.c.text)).scalars()) == ["recent"]
            assert list(conn.execute(select(briefings.c.key)).scalars()) == ["new"]
            assert list(conn.execute(select(aliases.c.alias)).scalars()) == ["raw-new"]
            assert list(conn.execute(select(feed_entries.c.key)).scalars()) == [
                "url:https://a.example/3"]
        assert _count(db, digests) == 1 and _count(db, deliveries) == 1
        assert purge(db, 30, now=NOW) == {"articles": 0, "briefings": 0,
                                          "feed_entries": 0}  # idempotent
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
    assert seen == {"articles": 5, "briefings": 1, "feed_entries": 2}


def test_serve_applies_the_retention_on_its_schedule(make_client, make_settings) -> None:
    from service.store import Article
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
