"""Several digests: digests and deliveries are keyed by the digest's name too.

- ``digests.name`` and ``deliveries.digest`` (``daily`` for every row before): the primary
  keys become (name, day, timezone) and (digest, day, timezone, webhook_id), so each digest's
  period is delivered once to each of its destinations (``webhook_id`` is the destination's
  id, a hash of its URL).
- ``day`` widens to 32 characters in ``digests``, ``deliveries`` and ``digest_runs``: a
  period is ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` (since_last), an alert ``alert:<id>``.

PostgreSQL alters the tables in place; SQLite (which cannot change a primary key) copies each
table into its new form.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.storage.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _digests(name: str, *, named: bool) -> sa.Table:
    columns = [sa.Column("name", sa.String(64), nullable=False, server_default="daily")] \
        if named else []
    return sa.Table(
        name, sa.MetaData(), *columns,
        sa.Column("day", sa.String(32 if named else 10), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("built_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint(*(["name"] if named else []), "day", "timezone",
                                name="pk_digests"),
    )


def _deliveries(name: str, *, named: bool) -> sa.Table:
    columns = [sa.Column("digest", sa.String(64), nullable=False, server_default="daily")] \
        if named else []
    return sa.Table(
        name, sa.MetaData(), *columns,
        sa.Column("day", sa.String(32 if named else 10), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("webhook_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payloads", sa.Text),
        sa.Column("total", sa.Integer),
        sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime),
        sa.PrimaryKeyConstraint(*(["digest"] if named else []), "day", "timezone", "webhook_id",
                                name="pk_deliveries"),
    )


def _copy(table: str, new: sa.Table, columns: list[str]) -> None:
    """SQLite: ``table`` becomes ``new`` (its rows copied, ``columns`` of them)."""
    temp = f"_{table}_0005"
    new.name = temp  # type: ignore[misc]  # build it beside the old table
    new.create(op.get_bind())
    names = ", ".join(columns)
    op.execute(f"INSERT INTO {temp} ({names}) SELECT {names} FROM {table}")
    op.drop_table(table)
    op.rename_table(temp, table)


_DIGEST_COLUMNS = ["day", "timezone", "digest", "built_at"]
_DELIVERY_COLUMNS = ["day", "timezone", "webhook_id", "status", "payloads", "total", "sent",
                     "attempts", "last_error", "created_at", "updated_at", "delivered_at"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, key, pk in (("digests", "name", ["name", "day", "timezone"]),
                               ("deliveries", "digest",
                                ["digest", "day", "timezone", "webhook_id"])):
            op.add_column(table, sa.Column(key, sa.String(64), nullable=False,
                                           server_default="daily"))
            op.alter_column(table, "day", type_=sa.String(32))
            op.drop_constraint(f"pk_{table}", table, type_="primary")
            op.create_primary_key(f"pk_{table}", table, pk)
    else:
        _copy("digests", _digests("digests", named=True), _DIGEST_COLUMNS)
        _copy("deliveries", _deliveries("deliveries", named=True), _DELIVERY_COLUMNS)
    with op.batch_alter_table("digest_runs") as batch:
        batch.alter_column("day", type_=sa.String(32), existing_type=sa.String(10),
                           existing_nullable=False)


def downgrade() -> None:
    # only the `daily` digest's rows fit the old keys
    op.execute("DELETE FROM digests WHERE name <> 'daily'")
    op.execute("DELETE FROM deliveries WHERE digest <> 'daily'")
    op.execute("DELETE FROM digest_runs WHERE length(day) > 10")
    with op.batch_alter_table("digest_runs") as batch:
        batch.alter_column("day", type_=sa.String(10), existing_type=sa.String(32),
                           existing_nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        for table, key, pk in (("digests", "name", ["day", "timezone"]),
                               ("deliveries", "digest", ["day", "timezone", "webhook_id"])):
            op.drop_constraint(f"pk_{table}", table, type_="primary")
            op.drop_column(table, key)
            op.create_primary_key(f"pk_{table}", table, pk)
        return
    _copy("digests", _digests("digests", named=False), _DIGEST_COLUMNS)
    _copy("deliveries", _deliveries("deliveries", named=False), _DELIVERY_COLUMNS)
