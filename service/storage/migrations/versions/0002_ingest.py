"""Articles that come by themselves: where an article came from, and the feeds followed.

``articles`` gains ``canonical_url``, ``site_name`` and ``feed_url``; ``feeds`` and
``feed_entries`` hold the feed state (service/storage/feeds.py).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.storage.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("canonical_url", "site_name", "feed_url"):
        op.add_column("articles", sa.Column(name, sa.Text))
    op.create_table(
        "feeds",
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("added_at", UTCDateTime, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_polled_at", UTCDateTime),
        sa.Column("last_status", sa.String(16)),
        sa.Column("http_status", sa.Integer),
        sa.Column("error_code", sa.String(32)),
        sa.Column("error_message", sa.Text),
        sa.Column("warning", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_poll_at", UTCDateTime),
        sa.Column("gone", sa.Integer, nullable=False, server_default="0"),
        sa.Column("entries_seen", sa.Integer, nullable=False, server_default="0"),
        sa.Column("entries_ingested", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_until", UTCDateTime),
        sa.PrimaryKeyConstraint("url", name="pk_feeds"),
    )
    op.create_table(
        "feed_entries",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("feed_url", sa.Text, nullable=False),
        sa.Column("article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column("seen_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_feed_entries"),
    )
    op.create_index("ix_feed_entries_feed_url", "feed_entries", ["feed_url"])


def downgrade() -> None:
    op.drop_index("ix_feed_entries_feed_url", table_name="feed_entries")
    op.drop_table("feed_entries")
    op.drop_table("feeds")
    with op.batch_alter_table("articles") as batch:
        for name in ("feed_url", "site_name", "canonical_url"):
            batch.drop_column(name)
