"""Alerts that survive a restart: ``alert_marks``, where each digest's alert scan has read
the articles to (``scanned_to``). The scan on the scheduler's tick reads the articles
received since, so an article stored while no process ran gets its alert when one starts;
the delivery ledger keeps each (article, digest, destination) to one message.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.storage.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_marks",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("scanned_to", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_alert_marks"),
    )


def downgrade() -> None:
    op.drop_table("alert_marks")
