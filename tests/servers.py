"""Real PostgreSQL and Redis for tests: a fresh database (or key prefix) per test, removed after.

The servers are the machine's (127.0.0.1:5432 with trust auth, 127.0.0.1:6379), or those named
by ``BRIEFING_TEST_POSTGRES_URL`` / ``BRIEFING_TEST_REDIS_URL``. Where one is unreachable, the
tests that need it skip with the reason; under ``CI=true`` they fail instead, so a CI machine
without the servers cannot pass by skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES_URL = os.environ.get(
    "BRIEFING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BRIEFING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(what: str, exc: BaseException) -> None:
    """Skip (or fail under CI=true) because ``what`` cannot be reached."""
    reason = f"{what} unreachable ({' '.join(str(exc).split())[:200]})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must provide it")
    pytest.skip(reason)


def _admin() -> object:
    import psycopg

    return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database's URL; dropped (connections and all) afterwards."""
    import psycopg
    from sqlalchemy import make_url

    try:
        admin = _admin()
    except psycopg.Error as exc:
        unavailable("PostgreSQL", exc)
    name = f"briefing_test_{uuid.uuid4().hex[:12]}"
    with admin:  # type: ignore[attr-defined]
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin() as admin:  # type: ignore[attr-defined]
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_prefix() -> Iterator[tuple[str, str]]:
    """(Redis URL, a key prefix of its own); every key under the prefix removed afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        unavailable("Redis", exc)
    prefix = f"briefing-test-{uuid.uuid4().hex[:12]}:"
    try:
        yield REDIS_URL, prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
        client.close()
