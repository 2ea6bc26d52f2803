"""``BRIEFING_ENGINE=llm`` end to end through the API, against the fake server on loopback
(tests/chat_fake.py): the answer names the engine and the served model; a failing server is
answered by the extractive engine with the reason (or 503 without the fallback); /readyz
says whether the server answers."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from service.prompts import load_prompts
from tests.chat_fake import Answer, FakeChatServer
from tests.chat_model import free_port

ARTICLE = {
    "title": "Tram depot becomes a market",
    "text": "The city council of Drammel voted on Tuesday to turn the old tram depot on Dock "
            "Street into a covered market with sixty stalls. Construction starts in June and "
            "is expected to cost 12 million euros, the mayor said.",
}


def metric(client: TestClient, line_start: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{line_start} not in /metrics")


def test_a_briefing_from_the_llm_server(
    llm_client: Callable[..., TestClient], fake: FakeChatServer
) -> None:
    client = llm_client()
    answer = client.post("/v1/briefings", json=ARTICLE)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["engine"] == "llm" and body["model"] == "fake-model:7b"
    assert body["prompt_version"] == load_prompts(family="llm").version
    assert body["short"] and body["long"] and not body["cached"]
    assert "fallback_reason" not in body
    # the short and the long briefing are both written from the article, at once
    posts = fake.posts()
    assert len(posts) == 2
    assert all("Dock Street" in (p.body or {})["messages"][-1]["content"] for p in posts)
    again = client.post("/v1/briefings", json=ARTICLE).json()
    assert again["cached"] and again["id"] == body["id"] and len(fake.posts()) == 2
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["engine"] == "llm"
    assert ready["llm"] == {"server": fake.base_url, "reachable": True, "error": None,
                            "model_listed": False, "fallback": True}
    assert metric(client, 'briefing_llm_calls_total{outcome="ok"}') == 2
    assert metric(client, 'briefing_llm_tokens_total{direction="completion"}') == 60
    assert metric(client, "briefing_llm_up") == 1


def test_a_server_that_is_down_is_answered_by_the_extractive_engine(
    llm_client: Callable[..., TestClient],
) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"
    client = llm_client(llm_base_url=down, llm_api_key="sk-secret-123")
    answer = client.post("/v1/briefings", json=ARTICLE)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["engine"] == "extractive" and body["model"] == ""
    assert down in body["fallback_reason"] and "could not connect" in body["fallback_reason"]
    assert "Drammel" in body["short"]
    assert client.get(f"/v1/briefings/{body['id']}").json()["engine"] == "extractive"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"  # it falls back
    assert ready.json()["llm"]["reachable"] is False
    assert metric(client, 'briefing_llm_fallbacks_total{reason="unreachable"}') == 1
    assert metric(client, "briefing_llm_up") == 0
    for text in (answer.text, ready.text, client.get("/metrics").text):
        assert "sk-secret-123" not in text


def test_without_the_fallback_a_failing_server_is_503_engine_unavailable(
    llm_client: Callable[..., TestClient],
) -> None:
    client = llm_client(llm_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_fallback=False)
    answer = client.post("/v1/briefings", json=ARTICLE)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "engine_unavailable"
    assert "could not connect" in answer.json()["error"]["message"]
    assert int(answer.headers["Retry-After"]) >= 1
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable"


def test_a_fallback_is_not_cached_as_the_llm_briefing(
    llm_client: Callable[..., TestClient], fake: FakeChatServer
) -> None:
    client = llm_client()
    fake.default = Answer(status=500)
    first = client.post("/v1/briefings", json=ARTICLE).json()
    assert first["engine"] == "extractive" and "HTTP 500" in first["fallback_reason"]
    fake.default = Answer()  # the server is back
    second = client.post("/v1/briefings", json=ARTICLE).json()
    assert second["engine"] == "llm" and not second["cached"]
    assert second["id"] != first["id"]


def test_a_stalled_server_falls_back_within_the_request_timeout(
    llm_client: Callable[..., TestClient], fake: FakeChatServer
) -> None:
    client = llm_client(request_timeout_s=3)
    fake.default = Answer(stall_s=10)
    started = time.monotonic()
    answer = client.post("/v1/briefings", json=ARTICLE)
    assert time.monotonic() - started < 3.5
    assert answer.status_code == 200, answer.text
    assert answer.json()["engine"] == "extractive"
    assert "no answer within" in answer.json()["fallback_reason"]
