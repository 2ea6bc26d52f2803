"""The first schema: articles, the briefing cache, digests and the delivery ledger.

Adopts SQLite files written before migrations existed (the same tables, made with CREATE
TABLE IF NOT EXISTS): tables that are there are kept with their rows, columns added since are
added, and only what is missing is created.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.storage.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "articles" not in existing:
        op.create_table(
            "articles",
            sa.Column("id", _ID, primary_key=True, autoincrement=True),
            sa.Column("content_hash", sa.String(64), nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("title", sa.Text),
            sa.Column("source", sa.Text),
            sa.Column("url", sa.Text),
            sa.Column("published_at", sa.Text),
            sa.Column("received_at", UTCDateTime, nullable=False),
            sa.Column("briefing_id", sa.String(64)),
            sa.Column("fingerprint", sa.LargeBinary),
            sa.Column("fingerprint_version", sa.String(32)),
            sa.PrimaryKeyConstraint("id", name="pk_articles"),
        )
        op.create_index("ix_articles_received_at", "articles", ["received_at"])
    else:  # a file from before migrations: add what later releases added
        have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("articles")}
        for name, kind in (("fingerprint", sa.LargeBinary()),
                           ("fingerprint_version", sa.String(32))):
            if name not in have:
                op.add_column("articles", sa.Column(name, kind))
        op.execute("DROP INDEX IF EXISTS articles_received")
        op.create_index("ix_articles_received_at", "articles", ["received_at"])
    if "briefings" not in existing:
        op.create_table(
            "briefings",
            sa.Column("key", sa.String(64), nullable=False),
            sa.Column("result", sa.Text, nullable=False),
            sa.Column("created_at", UTCDateTime, nullable=False),
            sa.PrimaryKeyConstraint("key", name="pk_briefings"),
        )
    else:  # older files kept seconds since the epoch
        op.execute(
            "UPDATE briefings SET created_at ="
            " strftime('%Y-%m-%dT%H:%M:%f000+00:00', created_at, 'unixepoch')"
            " WHERE typeof(created_at) IN ('real', 'integer')"
        )
    op.create_index("ix_briefings_created_at", "briefings", ["created_at"])
    if "aliases" not in existing:
        op.create_table(
            "aliases",
            sa.Column("alias", sa.String(64), nullable=False),
            sa.Column("key", sa.String(64), nullable=False),
            sa.PrimaryKeyConstraint("alias", name="pk_aliases"),
        )
    op.create_index("ix_aliases_key", "aliases", ["key"])
    if "digests" not in existing:
        op.create_table(
            "digests",
            sa.Column("day", sa.String(10), nullable=False),
            sa.Column("timezone", sa.String(64), nullable=False),
            sa.Column("digest", sa.Text, nullable=False),
            sa.Column("built_at", UTCDateTime, nullable=False),
            sa.PrimaryKeyConstraint("day", "timezone", name="pk_digests"),
        )
    if "deliveries" not in existing:
        op.create_table(
            "deliveries",
            sa.Column("day", sa.String(10), nullable=False),
            sa.Column("timezone", sa.String(64), nullable=False),
            sa.Column("webhook_id", sa.String(64), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("payloads", sa.Text),
            sa.Column("total", sa.Integer),
            sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
            sa.Column("owner", sa.Text),
            sa.Column("lease_until", sa.Double),
            sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
            sa.Column("last_error", sa.Text),
            sa.Column("created_at", UTCDateTime, nullable=False),
            sa.Column("updated_at", UTCDateTime, nullable=False),
            sa.Column("delivered_at", UTCDateTime),
            sa.PrimaryKeyConstraint("day", "timezone", "webhook_id", name="pk_deliveries"),
        )


def downgrade() -> None:
    for table in ("deliveries", "digests", "aliases", "briefings", "articles"):
        op.drop_table(table)
