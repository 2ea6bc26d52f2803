"""The HTTP contract, end to end, through the real seq2seq loader with the tiny model."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from tests.conftest import SEED_ARTICLE
from tests.storage_support import OwnStore

TEXT = {"Content-Type": "text/plain"}


def test_seed_article_gets_both_briefings_from_the_seq2seq_model(
    seq2seq_client: TestClient, seq2seq_settings: Settings
) -> None:
    response = seq2seq_client.post("/v1/briefings", content=SEED_ARTICLE, headers=TEXT)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["engine"] == "seq2seq"
    assert body["model"] == seq2seq_settings.model
    assert body["short"] and body["long"]
    assert len(body["short"].split()) <= 50
    assert len(body["long"].split()) <= 200
    assert body["cached"] is False
    assert len(body["id"]) == 64
    assert len(body["prompt_version"]) == 16
    info = body["input"]
    # Title twice + 10 body paragraphs twice = 22 paragraphs in, 10 kept (the title is the
    # headline, and then its repeat).
    assert info["paragraphs_in"] == 22
    assert info["paragraphs_out"] == 10
    assert info["duplicates_removed"] == 10
    assert info["sentences"] >= 11
    assert info["tokens"] > 100
    # The tiny tokenizer spends about one token per 3 characters: the seed is past the window,
    # and a typical article, so its salient sentences go in one window, one pass per briefing.
    assert info["tokens"] > 512 and info["chunks"] == 1 and info["reduce_rounds"] == 0
    assert info["selection"] == "salient" and info["model_passes"] == 2
    assert info["max_model_passes"] == seq2seq_settings.max_model_passes
    assert info["chars_read"] == info["chars"]
    assert 0 < info["chars_selected"] < info["chars_read"]
    assert info["chars_left_out"] == info["chars_read"] - info["chars_selected"]
    assert info["truncated"] is True  # never silent: part of it did not reach the model
    assert isinstance(body["checks"]["unsupported"], list)


def test_repeated_post_is_a_cache_hit_with_the_same_briefings(
    seq2seq_client: TestClient,
) -> None:
    first = seq2seq_client.post("/v1/briefings", content=SEED_ARTICLE, headers=TEXT).json()
    second = seq2seq_client.post("/v1/briefings", json={"text": SEED_ARTICLE}).json()
    assert second["cached"] is True
    assert (second["id"], second["short"], second["long"]) == (
        first["id"], first["short"], first["long"]
    )
    fetched = seq2seq_client.get(f"/v1/briefings/{first['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["long"] == first["long"]
    metrics = seq2seq_client.get("/metrics").text
    assert "briefing_cache_hits_total 1.0" in metrics
    assert "briefing_cache_misses_total 1.0" in metrics


def test_results_survive_a_restart(seq2seq_settings: Settings) -> None:
    with TestClient(create_app(seq2seq_settings)) as client:
        first = client.post("/v1/briefings", content=SEED_ARTICLE, headers=TEXT).json()
    with TestClient(create_app(seq2seq_settings)) as client:
        again = client.post("/v1/briefings", content=SEED_ARTICLE, headers=TEXT).json()
        fetched = client.get(f"/v1/briefings/{first['id']}").json()
    assert again["cached"] is True and again["short"] == first["short"]
    assert fetched["id"] == first["id"]


def test_cache_key_changes_with_the_prompt(
    seq2seq_settings: Settings, tmp_path
) -> None:
    from service.prompts import DEFAULT_PROMPTS, KINDS

    with TestClient(create_app(seq2seq_settings)) as client:
        first = client.post("/v1/briefings", content=SEED_ARTICLE, headers=TEXT).json()
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    for kind in KINDS:
        (prompts / f"{kind}.toml").write_text((DEFAULT_PROMPTS / f"{kind}.toml").read_text())
    short = prompts / "short.toml"
    short.write_text(short.read_text().replace("one or two sentences", "two sentences"))
    changed = seq2seq_settings.model_copy(update={"prompts_dir": prompts})
    with TestClient(create_app(changed)) as client:
        second = client.post("/v1/briefings", content=SEED_ARTICLE, headers=TEXT).json()
    assert second["cached"] is False
    assert second["prompt_version"] != first["prompt_version"]


def test_every_accepted_article_is_stored(seq2seq_settings: Settings) -> None:
    with TestClient(create_app(seq2seq_settings)) as client:
        for _ in range(2):
            response = client.post(
                "/v1/briefings", json={"text": SEED_ARTICLE, "title": "NATO", "source": "x"}
            )
            assert response.status_code == 200
        client.post("/v1/briefings", json={"text": "  \n "})  # refused: not stored
    store = OwnStore(seq2seq_settings)
    try:
        assert store.count() == 2
    finally:
        store.close()


def test_lengths_selects_which_briefings_are_written(extractive_client: TestClient) -> None:
    body = extractive_client.post(
        "/v1/briefings", json={"text": SEED_ARTICLE, "lengths": ["short"]}
    ).json()
    assert body["short"] and body["long"] is None


def test_extractive_engine_briefs_from_the_article(extractive_client: TestClient) -> None:
    body = extractive_client.post("/v1/briefings", content=SEED_ARTICLE, headers=TEXT).json()
    assert body["engine"] == "extractive"
    assert "Stoltenberg" in body["long"]
    # Extractive: whole sentences of the article, in article order.
    first_sentence = "NATO allies need to sign more contracts with defense companies"
    assert body["short"].startswith(first_sentence) or first_sentence not in body["long"]
    assert body["short"].split(". ")[0] in SEED_ARTICLE
    assert len(body["short"].split()) <= 50


def test_auto_falls_back_to_extractive_and_says_why(
    make_settings: Callable[..., Settings], tmp_path
) -> None:
    settings = make_settings(engine="auto", model=str(tmp_path / "no-such-model"))
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz").json()
        assert ready["engine"] == "extractive"
        assert "no-such-model" in ready["fallback_reason"]
        body = client.post("/v1/briefings", content=SEED_ARTICLE, headers=TEXT).json()
        assert body["engine"] == "extractive"
        assert "no-such-model" in body["fallback_reason"]


def test_readyz_and_healthz(seq2seq_client: TestClient) -> None:
    assert seq2seq_client.get("/healthz").json() == {"status": "ok"}
    ready = seq2seq_client.get("/readyz").json()
    assert ready["engine"] == "seq2seq" and ready["fallback_reason"] is None


def _error(response) -> str:
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]["code"]


def test_bad_input_gets_coded_errors(extractive_client: TestClient) -> None:
    c = extractive_client
    r = c.post("/v1/briefings", content=" \n\xa0\n\t ", headers=TEXT)
    assert (r.status_code, _error(r)) == (422, "empty_text")
    r = c.post("/v1/briefings", json={"text": ""})
    assert (r.status_code, _error(r)) == (422, "empty_text")
    r = c.post("/v1/briefings", content=b"{not json", headers={"Content-Type": "application/json"})
    assert (r.status_code, _error(r)) == (400, "invalid_json")
    r = c.post("/v1/briefings", json={"title": "no text"})
    assert (r.status_code, _error(r)) == (422, "invalid_request")
    assert "text" in r.json()["error"]["message"]
    r = c.post("/v1/briefings", json={"text": "x", "lengths": ["medium"]})
    assert (r.status_code, _error(r)) == (422, "invalid_request")
    r = c.post("/v1/briefings", content=b"<xml/>", headers={"Content-Type": "application/xml"})
    assert (r.status_code, _error(r)) == (415, "unsupported_media_type")
    r = c.post("/v1/briefings", content=b"a" * 1_000_001, headers=TEXT)
    assert (r.status_code, _error(r)) == (413, "payload_too_large")
    r = c.post("/v1/briefings", content=b"caf\xe9 ok", headers=TEXT)
    assert (r.status_code, _error(r)) == (400, "invalid_encoding")
    r = c.get("/v1/briefings/0123456789abcdef")
    assert (r.status_code, _error(r)) == (404, "not_found")
    r = c.get("/v1/nothing-here")
    assert (r.status_code, _error(r)) == (404, "not_found")


def test_text_plain_charsets_and_bom(extractive_client: TestClient) -> None:
    text = "Der Rat hat am Dienstag entschieden. Die Stadt plant neue Schulen."
    r = extractive_client.post(
        "/v1/briefings", content=text.encode("latin-1"),
        headers={"Content-Type": "text/plain; charset=latin-1"},
    )
    assert r.status_code == 200 and "Dienstag" in r.json()["long"]
    r = extractive_client.post(
        "/v1/briefings", content=text.encode("utf-16"), headers=TEXT
    )
    assert r.status_code == 200 and "Dienstag" in r.json()["long"]


def test_metrics_count_requests_per_route(extractive_client: TestClient) -> None:
    extractive_client.post("/v1/briefings", content=SEED_ARTICLE, headers=TEXT)
    text = extractive_client.get("/metrics").text
    counter = 'briefing_http_requests_total{method="POST",route="/v1/briefings",status="200"}'
    assert f"{counter} 1.0" in text
    assert "briefing_generation_duration_seconds_count" in text


def test_same_article_with_other_whitespace_is_a_hit(extractive_client: TestClient) -> None:
    first = extractive_client.post("/v1/briefings", content=SEED_ARTICLE, headers=TEXT).json()
    messier = SEED_ARTICLE.replace("\n", "\r\n").replace(" said", "  said")
    again = extractive_client.post("/v1/briefings", content=messier, headers=TEXT).json()
    assert again["cached"] is True and again["id"] == first["id"]
    other = extractive_client.post(
        "/v1/briefings", content=SEED_ARTICLE + "\n\nA new closing paragraph.", headers=TEXT
    ).json()
    assert other["cached"] is False and other["id"] != first["id"]
