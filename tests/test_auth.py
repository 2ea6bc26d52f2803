"""API keys: /v1/* needs a bearer key when keys are set; probes stay open."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from tests.conftest import SEED_ARTICLE


def test_keys_guard_v1_but_not_the_probes(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(api_keys="alpha-key, beta-key")
    with TestClient(create_app(settings)) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "alpha-key"},
                        {"Authorization": "Basic alpha-key"}):
            r = client.post("/v1/briefings", json={"text": SEED_ARTICLE}, headers=headers)
            assert r.status_code == 401
            assert r.json()["error"]["code"] == "unauthorized"
            assert r.headers["www-authenticate"] == "Bearer"
        r = client.get("/v1/briefings/abc")
        assert r.status_code == 401
        for key in ("alpha-key", "beta-key"):
            r = client.post("/v1/briefings", json={"text": SEED_ARTICLE},
                            headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200
        for probe in ("/healthz", "/readyz", "/metrics"):
            assert client.get(probe).status_code == 200


def test_open_when_no_keys_and_says_so(make_settings: Callable[..., Settings], caplog) -> None:
    with caplog.at_level("WARNING"):
        app = create_app(make_settings())
    assert "BRIEFING_API_KEYS is not set" in caplog.text
    with TestClient(app) as client:
        assert client.post("/v1/briefings", json={"text": SEED_ARTICLE}).status_code == 200


def test_keys_never_appear_in_settings_repr(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(api_keys="secret-key-123")
    assert "secret-key-123" not in repr(settings)
    assert settings.api_key_list == ["secret-key-123"]
