"""Storage: the schema and its migrations, SQLite or PostgreSQL behind one interface.

:mod:`~service.storage.schema` defines the tables once; :mod:`~service.storage.database`
opens ``BRIEFING_DATABASE_URL`` and applies the migrations in ``migrations/``.
"""

from service.storage.database import (
    Database,
    current_revision,
    database_url,
    head_revision,
    redact,
    upgrade,
)

__all__ = ["Database", "current_revision", "database_url", "head_revision", "redact", "upgrade"]
