"""Ingest that holds across replicas: one lease table, listings, digest runs, retention's indexes.

- ``leases``: every lease the service takes in the database (a feed's poll, an entry's link
  being fetched, a host's turn, a digest's delivery), one row each: its owner and expiry
  (service/storage/leases.py). The delivery ledger's own ``owner``/``lease_until`` columns
  move there, and ``feeds.claimed_until`` goes.
- ``entry_listings``: a feed that lists an entry another feed brought in first records itself
  there instead of storing a second copy of the article.
- ``digest_runs``: the state of digest runs started over HTTP, visible from every replica.
- indexes retention uses: ``feed_entries.seen_at``, ``articles.briefing_id``.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.storage.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )
    op.create_table(
        "entry_listings",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("feed_url", sa.Text, nullable=False),
        sa.Column("listed_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", "feed_url", name="pk_entry_listings"),
    )
    op.create_index("ix_entry_listings_listed_at", "entry_listings", ["listed_at"])
    op.create_table(
        "digest_runs",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deliver", sa.Integer, nullable=False),
        sa.Column("force", sa.Integer, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("queued_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("delivery", sa.Text),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("name", "day", name="pk_digest_runs"),
    )
    op.create_index("ix_feed_entries_seen_at", "feed_entries", ["seen_at"])
    op.create_index("ix_articles_briefing_id", "articles", ["briefing_id"])
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("owner")
        batch.drop_column("lease_until")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("claimed_until")


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("claimed_until", UTCDateTime))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("owner", sa.Text))
        batch.add_column(sa.Column("lease_until", sa.Double))
    op.drop_index("ix_articles_briefing_id", table_name="articles")
    op.drop_index("ix_feed_entries_seen_at", table_name="feed_entries")
    op.drop_table("digest_runs")
    op.drop_index("ix_entry_listings_listed_at", table_name="entry_listings")
    op.drop_table("entry_listings")
    op.drop_table("leases")
