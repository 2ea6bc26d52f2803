"""Alembic's entry point: runs migrations on the connection ``service.storage`` hands over.

``briefing db upgrade`` and every start call :func:`service.storage.database.upgrade`, which
opens the transaction, takes the migration lock and passes its connection in
``config.attributes["connection"]``. Run as plain ``alembic`` (for ``alembic revision``), it
connects to ``BRIEFING_DATABASE_URL`` itself.
"""

from __future__ import annotations

from alembic import context

from service.storage.schema import metadata


def _configure_and_run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them; Alembic writes that
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _configure_and_run(connection)
else:
    from service.config import get_settings
    from service.storage.database import Database

    database = Database.open(get_settings(), migrate=False)
    try:
        with database.engine.begin() as conn:
            _configure_and_run(conn)
    finally:
        database.close()
