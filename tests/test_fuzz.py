"""Fuzzing the OpenAPI schema with schemathesis: no input may produce a 5xx, and every answer
matches what the schema documents (status, content type, body)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from service.app import create_app
from service.config import Settings

_DATA = tempfile.TemporaryDirectory(prefix="briefing-fuzz-")
# No scheduler (its catch-up run would build digests during the fuzzing) and no webhook
# (whatever the shell exports): the generated calls alone decide what happens.
APP = create_app(Settings(engine="extractive", data_dir=Path(_DATA.name), daily_cron="",
                          slack_webhook_url=None, api_keys=""))


@pytest.fixture(scope="module", autouse=True)
def _running_app() -> Iterator[None]:
    """The lifespan entered once for the module, so the engine, cache and store exist for
    every generated call, and left at its end (its background threads stop: imported at
    collection, the module must not leave a running app behind for the tests after it)."""
    with TestClient(APP):
        yield

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_yields_a_server_error_or_an_undocumented_answer(
    case: schemathesis.Case,
) -> None:
    response = case.call_and_validate(checks=CHECKS)
    if response.status_code >= 400:
        body = response.json()
        assert body["error"]["code"] and body["error"]["message"]
