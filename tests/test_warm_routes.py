"""The first request after ``/readyz`` says ready pays for nothing the start could have done:
FastAPI builds each route's validators when a request is first matched against its router,
so the start matches every route once (``service.app.prepare_routes``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from tests.conftest import SEED_ARTICLE


def test_the_first_requests_after_ready_build_no_validators(
    make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = make_client()
    assert client.get("/readyz").status_code == 200
    built: list[Any] = []
    original = TypeAdapter.__init__

    def counting(self: TypeAdapter[Any], *args: Any, **kwargs: Any) -> None:
        built.append(args[0] if args else kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(TypeAdapter, "__init__", counting)
    answer = client.post("/v1/briefings", json={"text": SEED_ARTICLE})
    assert answer.status_code == 200, answer.text
    assert client.get(f"/v1/briefings/{answer.json()['id']}").status_code == 200
    assert client.get("/v1/feeds").status_code == 200
    assert client.get("/v1/digests").status_code == 200
    assert client.get("/articles").status_code == 200
    assert built == []


def test_route_dependencies_stay_on_the_event_loop(
    make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FastAPI runs a plain ``def`` dependency on the thread pool: a hop there and back for
    each one cost a cache hit more than its lookup. Ours are ``async`` (the shared rate
    limit, which may call Redis, goes to the pool itself)."""
    import fastapi.dependencies.utils as fastapi_dependencies

    client = make_client(api_keys="k")
    headers = {"Authorization": "Bearer k"}
    assert client.post("/v1/briefings", json={"text": SEED_ARTICLE},
                       headers=headers).status_code == 200
    hops: list[Any] = []
    original = fastapi_dependencies.run_in_threadpool

    async def counting(function: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(function, "__qualname__", function))
        return await original(function, *args, **kwargs)

    monkeypatch.setattr(fastapi_dependencies, "run_in_threadpool", counting)
    again = client.post("/v1/briefings", json={"text": SEED_ARTICLE}, headers=headers)
    assert again.status_code == 200 and again.json()["cached"] is True
    assert client.get("/v1/feeds", headers=headers).status_code == 200
    assert hops == []
