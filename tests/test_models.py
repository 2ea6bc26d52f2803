"""The typed contract: every field the service sends is declared in service/api/models.py,
OpenAPI shows the real error body and the bearer scheme, and answers match their models."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typing_extensions
from fastapi.testclient import TestClient

from service.api.models import Briefing, DigestState, ErrorBody, Ready
from tests.conftest import SEED_ARTICLE
from tests.digest_support import FERRY_A, FERRY_B, LIBRARY, fake_slack, run_digest
from tests.test_briefing import story


def _is_shape(annotation: Any) -> bool:
    return isinstance(annotation, type) and typing_extensions.is_typeddict(annotation)


def _shapes_in(annotation: Any) -> list[type]:
    if _is_shape(annotation):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _shapes_in(arg)]


def undeclared(data: Any, shape: type, where: str = "") -> list[str]:
    """Keys of ``data`` (recursively) that ``shape`` (a result TypedDict) does not declare."""
    found = []
    declared = typing.get_type_hints(shape)
    for key, value in data.items():
        annotation = declared.get(key)
        if annotation is None:
            found.append(where + key)
            continue
        items = value if isinstance(value, list) else [value]
        for sub in _shapes_in(annotation):
            for item in items:
                if isinstance(item, dict):
                    found += undeclared(item, sub, f"{where}{key}.")
    return found


def test_the_checker_finds_an_undeclared_field() -> None:
    assert undeclared({"error": {"code": "x", "message": "y", "hint": "z"}}, ErrorBody) == [
        "error.hint"
    ]
    assert isinstance(types.NoneType, type)


def test_every_briefing_field_is_declared(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    # engine=auto without weights: the extractive engine serves and says why in each answer
    client = make_client(engine="auto", model=str(tmp_path / "no-such-model"))
    answers = [
        client.post("/v1/briefings", json={"text": SEED_ARTICLE, "title": "NATO"}),
        client.post("/v1/briefings", json={"text": SEED_ARTICLE, "lengths": ["short"]}),
        client.post("/v1/briefings", content=f"<html><p>{SEED_ARTICLE}</p></html>",
                    headers={"Content-Type": "text/html"}),
        client.post("/v1/briefings", content="\n\n".join(story(n) for n in range(30)),
                    headers={"Content-Type": "text/plain"}),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert undeclared(answer.json(), Briefing) == []
        shown = client.get(f"/v1/briefings/{answer.json()['id']}")
        assert undeclared(shown.json(), Briefing) == [] and shown.json()["cached"] is True
    assert undeclared(client.get("/readyz").json(), Ready) == []
    assert "fallback_reason" in answers[0].json()


def test_every_digest_field_is_declared(make_client: Callable[..., TestClient]) -> None:
    with fake_slack() as (url, rec):
        client = make_client(
            timezone="Europe/Oslo", slack_webhook_url=url, slack_allowed_hosts="127.0.0.1",
            slack_backoff_s=0.01, slack_message_interval_s=0, digest_overview=True,
        )
        for text, source in ((FERRY_A, "Fjord Times"), (FERRY_B, None), (LIBRARY, "City")):
            body = {"text": text, "source": source, "url": "https://news.example/a"}
            assert client.post("/v1/briefings", json=body).status_code == 200
        path = f"/v1/digests/{datetime.now(ZoneInfo('Europe/Oslo')).date()}"
        states = [run_digest(client, path, force=True), run_digest(client, path, force=False),
                  run_digest(client, path, deliver=False)]
    assert rec.posted
    for state in states:
        assert state["run"]["status"] == "done", state
        assert undeclared(state, DigestState) == []
        assert state["digest"]["stories"] and state["digest"]["overview"]


def test_openapi_shows_the_error_body_and_the_bearer_scheme(
    make_client: Callable[..., TestClient],
) -> None:
    schema = make_client(api_keys="k").get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            ok = next(code for code in responses if code.startswith("2"))
            assert "$ref" in str(responses[ok]) or path == "/metrics", (method, path)
            if path.startswith("/v1/"):
                assert operation["security"] == [{"HTTPBearer": []}]
                error = responses["422"]["content"]["application/json"]["schema"]
                assert error == {"$ref": "#/components/schemas/ErrorBody"}


def test_the_docs_pages_load_nothing_from_another_origin(
    make_client: Callable[..., TestClient],
) -> None:
    import re

    client = make_client(api_keys="k")  # the docs are open; the API behind them is not
    assert client.get("/redoc").status_code == 404  # ReDoc would fetch its logo from a CDN
    for path in ("/docs",):
        page = client.get(path)
        assert page.status_code == 200, path
        sources = re.findall(r"""(?:src|href)=["']([^"']+)""", page.text)
        sources += re.findall(r"""url: ?["']([^"']+)""", page.text)
        assert sources, path
        for source in sources:
            assert source.startswith("/"), (path, source)  # this server, no CDN, no fonts
            if source != "/openapi.json":
                asset = client.get(source)
                assert asset.status_code == 200 and asset.content, source
    assert "swagger-ui-bundle.js" in client.get("/docs").text
