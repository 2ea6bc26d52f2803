"""The service on PostgreSQL and Redis: faults of either, and the shared rate limit, through
the HTTP API (real servers, reached through a proxy that a test can cut)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url

from service.app import create_app
from service.config import Settings
from tests.storage_support import OwnStore
from tests.tcp_proxy import TcpProxy


def article(n: int) -> dict[str, str]:
    return {"text": f"Story number {n} happened on Monday. Officials said {n} people came."}


@pytest.fixture
def proxied_postgres(postgres_url: str) -> Iterator[tuple[str, TcpProxy]]:
    """(URL through the proxy, the proxy) for a fresh database of this test's own."""
    url = make_url(postgres_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(False), proxy
    finally:
        proxy.close()


def _start(settings: Settings) -> TestClient:
    client = TestClient(create_app(settings))
    client.__enter__()
    return client


def test_postgresql_down_is_503_loses_nothing_and_recovers_without_a_restart(
    proxied_postgres: tuple[str, TcpProxy], make_settings: Callable[..., Settings],
    postgres_url: str,
) -> None:
    url, proxy = proxied_postgres
    settings = make_settings(database_url=url, database_timeout_s=2)
    client = _start(settings)
    try:
        first = client.post("/v1/briefings", json=article(1))
        assert first.status_code == 200
        proxy.cut()  # PostgreSQL "goes down": every connection dropped, new ones refused
        down = [client.post("/v1/briefings", json=article(n)) for n in (2, 3)]
        assert [r.status_code for r in down] == [503, 503]
        assert {r.json()["error"]["code"] for r in down} == {"storage_error"}
        gone = client.get(f"/v1/briefings/{first.json()['id']}")
        assert gone.status_code == 503 and gone.json()["error"]["code"] == "storage_error"
        proxy.restore()  # it is back: the same process serves again
        again = client.post("/v1/briefings", json=article(4))
        assert again.status_code == 200
        assert client.get(f"/v1/briefings/{first.json()['id']}").status_code == 200
    finally:
        client.__exit__(None, None, None)
    store = OwnStore(postgres_url)
    try:
        assert store.count() == 2  # every 200 is stored; the 503s were never accepted
    finally:
        store.close()


def test_redis_down_serves_from_the_database_with_a_warning_and_a_metric(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture,
) -> None:
    client = _start(make_settings(redis_url="redis://127.0.0.1:9/0", redis_timeout_s=0.2))
    try:
        with caplog.at_level(logging.WARNING, logger="service.storage.redis_link"):
            first = client.post("/v1/briefings", json=article(5))
            second = client.post("/v1/briefings", json=article(5))
        assert first.status_code == second.status_code == 200
        assert (first.json()["cached"], second.json()["cached"]) == (False, True)  # the DB
        assert any("serving from the database" in r.message for r in caplog.records)
        metrics = client.get("/metrics").text
        assert "briefing_redis_up 0.0" in metrics
        errors = [line for line in metrics.splitlines()
                  if line.startswith("briefing_redis_errors_total{")]
        assert errors and sum(float(line.rsplit(" ", 1)[1]) for line in errors) >= 1
    finally:
        client.__exit__(None, None, None)


@pytest.mark.parametrize("shared", [False, True], ids=["per-replica", "redis"])
def test_the_rate_limit_answers_429_with_retry_after_per_key(
    shared: bool, make_settings: Callable[..., Settings], request: pytest.FixtureRequest,
) -> None:
    extra: dict[str, Any] = {}
    if shared:
        redis_url, prefix = request.getfixturevalue("redis_url_and_prefix")
        extra = {"redis_url": redis_url, "redis_prefix": prefix}
    settings = make_settings(rate_limit="2/minute", api_keys="key-one,key-two", **extra)
    replicas = [_start(settings)] + ([_start(settings)] if shared else [])
    one = {"Authorization": "Bearer key-one"}
    try:
        assert replicas[0].post("/v1/briefings", json=article(6), headers=one).status_code == 200
        assert replicas[-1].post("/v1/briefings", json=article(7), headers=one).status_code == 200
        refused = replicas[0].post("/v1/briefings", json=article(8), headers=one)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        other = replicas[-1].post("/v1/briefings", json=article(8),
                                  headers={"Authorization": "Bearer key-two"})
        assert other.status_code == 200
        assert replicas[0].get("/healthz").status_code == 200  # not limited: not /v1/
        assert "briefing_rate_limited_total 1.0" in replicas[0].get("/metrics").text
    finally:
        for client in replicas:
            client.__exit__(None, None, None)
