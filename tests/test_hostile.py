"""Hostile input never yields a 5xx: any bytes, any JSON shape gets 200 or a coded 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.app import create_app
from service.config import Settings

TEXT = {"Content-Type": "text/plain"}
JSON = {"Content-Type": "application/json"}
# Long enough to brief (service.preprocess.minimum.MIN_WORDS).
RATES = "The central bank raised its main interest rate on Tuesday, the third rise this year."


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(engine="extractive", data_dir=tmp_path_factory.mktemp("hostile"),
                        daily_cron="", slack_webhook_url=None, api_keys="")
    with TestClient(create_app(settings)) as c:
        yield c


def _coded(response) -> int:
    assert response.status_code < 500, response.text[:300]
    if response.status_code != 200:
        error = response.json()["error"]
        assert error["code"] and error["message"]
    return response.status_code


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"The mayor spoke to the council.\x00\x07\x1b Then she left the hall early.", 200),
        ("\u202eThe council met on Monday.\u202c It agreed to build a new library.".encode(),
         200),
        ("😀🎉🔥".encode(), 422),  # not_prose: no words
        (f"\ufeff{RATES}".encode(), 200),
        (RATES.encode("utf-16-le"), 200),  # no BOM, no charset
        (RATES.encode("utf-16-be"), 200),
        (RATES.encode("utf-16"), 200),
        (b"\xff\xfe\x00\xd8", 400),  # a BOM then a lone surrogate
        (b"\x80\x81\xfe", 400),
        (f"<html><script>alert(1)</script><p>{RATES}</p></html>".encode(), 200),
        (("line\n" * 100_000).encode(), 422),  # not_prose: one word over and over
        ("\n\n\n\t \xa0".encode(), 422),
    ],
)
def test_odd_text_bodies(client: TestClient, body: bytes, status: int) -> None:
    assert _coded(client.post("/v1/briefings", content=body, headers=TEXT)) == status


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 400),  # nesting deeper than the parser allows
        (b'{"text": ' + b"[" * 500 + b"]" * 500 + b"}", 422),
        # The second wins (the first alone would be too short to brief).
        (b'{"text": "first. story.", "text": "' + RATES.encode() + b'"}', 200),
        (b'"just a string"', 422),
        (b"null", 422),
        (b'{"text": 12}', 422),
        (b'{"text": "ok.", "title": "' + b"t" * 5000 + b'"}', 422),
        (b'{"text": "ok.", "lengths": "short"}', 422),
        (b"\xef\xbb\xbf" + b'{"text": "' + RATES.encode() + b'"}', 200),  # a BOM before JSON
    ],
)
def test_odd_json_bodies(client: TestClient, body: bytes, status: int) -> None:
    response = client.post("/v1/briefings", content=body, headers=JSON)
    assert _coded(response) == status
    if status == 422 and b"t" * 5000 in body:
        assert "title" in response.json()["error"]["message"]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.binary(max_size=400), as_json=st.booleans())
def test_any_bytes_get_200_or_a_coded_4xx(client: TestClient, body: bytes, as_json: bool) -> None:
    _coded(client.post("/v1/briefings", content=body, headers=JSON if as_json else TEXT))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers()
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=json_values, text=st.text(max_size=200))
def test_any_json_shape_gets_200_or_a_coded_4xx(client: TestClient, value, text: str) -> None:
    _coded(client.post("/v1/briefings", content=json.dumps(value), headers=JSON))
    _coded(client.post("/v1/briefings", json={"text": text, "title": value}))
