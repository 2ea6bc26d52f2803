"""A feed that moved for good: ``feeds.moved_to`` is where a permanent redirect (301 or 308)
sent its last poll, and where the next poll goes first (service/ingest/poller.py).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("moved_to", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("moved_to")
