"""Fuzzing the OpenAPI schema with schemathesis: no input may produce a 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from service.api import create_app
from service.config import Settings

_DATA = tempfile.TemporaryDirectory(prefix="briefing-fuzz-")
APP = create_app(Settings(engine="extractive", data_dir=Path(_DATA.name)))
# Enter the lifespan once, so the engine, cache and store exist for every generated call.
_CLIENT = TestClient(APP).__enter__()

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_yields_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        body = response.json()
        assert body["error"]["code"] and body["error"]["message"]
