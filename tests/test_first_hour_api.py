"""The API's first hour (issue 27): JSON sent as text, pages that keep their metadata by every
path, dates, errors in words, GET on the POST route, and texts too short to brief."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.preprocess.minimum import MIN_WORDS, count_words
from tests.conftest import SEED_ARTICLE
from tests.feed_samples import STORY_A, STORY_B

TEXT = {"Content-Type": "text/plain"}
HTML = {"Content-Type": "text/html"}
README = Path(__file__).resolve().parents[1] / "README.md"


def _error(response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def _listed(client: TestClient) -> list[dict]:
    return client.get("/v1/articles", params={"since": "2000-01-01T00:00:00Z"}).json()["articles"]


# --- 3. JSON sent as text/plain -----------------------------------------------------------


@pytest.mark.parametrize("request_body", [
    {"text": SEED_ARTICLE},
    {"text": SEED_ARTICLE, "title": "NATO", "lengths": ["short"]},
    {"url": "https://example.com/story"},
])
def test_a_json_request_sent_as_text_plain_is_refused_not_briefed(
    extractive_client: TestClient, request_body: dict
) -> None:
    client = extractive_client
    for body in (json.dumps(request_body), json.dumps(request_body, indent=2) + "\n"):
        response = client.post("/v1/briefings", content=body.encode(), headers=TEXT)
        assert response.status_code == 415
        error = _error(response)
        assert error["code"] == "wrong_content_type"
        assert "Content-Type: application/json" in error["message"]
    assert client.app.state.service.store.count() == 0  # never stored
    assert _listed(client) == []
    # The same JSON with the right type is briefed; text/plain prose with braces is prose.
    assert client.post("/v1/briefings", json={"text": SEED_ARTICLE}).status_code == 200
    braces = "{" + STORY_A + "}"
    assert client.post("/v1/briefings", content=braces, headers=TEXT).status_code == 200


# --- 4. pages keep their metadata by every path ---------------------------------------------

PAGE = (
    "<!doctype html><html><head><title>Harbour to be deepened | Coast Post</title>"
    '<meta property="og:site_name" content="Coast Post">'
    '<link rel="canonical" href="https://coast.example/harbour">'
    '<meta property="article:published_time" content="2026-11-30T08:00:00Z">'
    "</head><body><nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav><article>"
    "<h1>Harbour to be deepened</h1>"
    + "".join(f"<p>{p}</p>" for p in STORY_A.split("\n\n"))
    + "</article></body></html>"
)


def _page_article(client: TestClient) -> dict:
    (article,) = _listed(client)
    return article


def test_a_page_posted_as_html_keeps_its_title_site_canonical_and_date(
    make_client,
) -> None:
    client = make_client()
    response = client.post("/v1/briefings", content=PAGE.encode(), headers=HTML)
    assert response.status_code == 200, response.text
    assert response.json()["input"]["html"] is True  # still extracted by preprocessing
    article = _page_article(client)
    assert article["title"] == "Harbour to be deepened"
    assert article["site_name"] == article["source"] == "Coast Post"
    assert article["canonical_url"] == "https://coast.example/harbour"
    assert article["published_at"] == "2026-11-30"
    # The articles page shows it by its title, not as "Untitled article".
    day = article["received_at"][:10]
    listing = client.get("/articles", params={"date": day}).text
    assert "Harbour to be deepened" in listing and "Untitled article" not in listing


def test_a_page_sent_as_json_text_keeps_its_metadata_and_given_fields_win(make_client) -> None:
    client = make_client()
    response = client.post("/v1/briefings", json={"text": PAGE})
    assert response.status_code == 200, response.text
    article = _page_article(client)
    assert (article["title"], article["site_name"], article["canonical_url"]) == (
        "Harbour to be deepened", "Coast Post", "https://coast.example/harbour")
    other = make_client(data_dir=Path(client.app.state.settings.data_dir).parent / "other")
    given = {"text": PAGE, "title": "Our own title", "source": "Wire",
             "published_at": "2026-12-01"}
    assert other.post("/v1/briefings", json=given).status_code == 200
    article = _page_article(other)
    assert (article["title"], article["source"], article["published_at"]) == (
        "Our own title", "Wire", "2026-12-01")
    assert article["site_name"] == "Coast Post"  # what the caller did not give: the page's


def test_a_page_pasted_into_the_form_keeps_its_metadata(make_client) -> None:
    client = make_client()
    answer = client.post("/briefings", data={"text": PAGE, "title": ""})
    assert answer.status_code == 200, answer.text
    assert "Harbour to be deepened" in answer.text
    article = _page_article(client)
    assert (article["title"], article["site_name"], article["canonical_url"]) == (
        "Harbour to be deepened", "Coast Post", "https://coast.example/harbour")


def test_a_windows_1252_page_posted_as_html_keeps_its_title(make_client) -> None:
    client = make_client()
    page = PAGE.replace("<head>", '<head><meta charset="windows-1252">').replace(
        "Harbour to be deepened", "Hafen wird vertieft \u2013 für Schiffe")
    response = client.post("/v1/briefings", content=page.encode("cp1252"), headers=HTML)
    assert response.status_code == 200, response.text
    assert _page_article(client)["title"] == "Hafen wird vertieft \u2013 für Schiffe"


# --- 12. dates, errors in words, GET on the POST route, too short ----------------------------


@pytest.mark.parametrize("date", ["yesterday", "30/11/2026", "2026-13-01", "Mon, 30 Nov 2026"])
def test_published_at_must_be_iso_8601(extractive_client: TestClient, date: str) -> None:
    response = extractive_client.post("/v1/briefings",
                                      json={"text": SEED_ARTICLE, "published_at": date})
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "invalid_request"
    assert "published_at" in error["message"] and "ISO 8601" in error["message"]
    assert "2024-05-01" in error["message"]  # an example of the format
    assert extractive_client.app.state.service.store.count() == 0


def test_iso_8601_dates_and_times_are_stored(extractive_client: TestClient) -> None:
    for date in ("2026-11-30", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00+01:00"):
        text = f"{STORY_B}\n\nUpdated {date}."
        response = extractive_client.post("/v1/briefings",
                                          json={"text": text, "published_at": date})
        assert response.status_code == 200, response.text
    stored = [a["published_at"] for a in _listed(extractive_client)]
    assert stored == ["2026-11-30", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00+01:00"]


@pytest.mark.parametrize(("body", "expected"), [
    (b'"just a string"', "the JSON body must be an object"),
    (b"null", "the JSON body must be an object"),
    (b"[1, 2]", "the JSON body must be an object"),
    (b'{"text": 12}', "`text` must be a string"),
    (b'{"text": "x", "lengths": "short"}', "`lengths` must be a list"),
    (b'{"text": "x", "lengths": ["medium"]}', "`lengths[0]` must be 'short' or 'long'"),
    (b'{"title": "no text"}', "send the article's `text`, or its `url`"),
])
def test_validation_messages_are_in_words(
    extractive_client: TestClient, body: bytes, expected: str
) -> None:
    response = extractive_client.post("/v1/briefings", content=body,
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    message = _error(response)["message"]
    assert expected in message
    for jargon in ("BriefingRequest", "dictionary", "instance of", "Input should",
                   "Value error"):
        assert jargon not in message, message


def test_query_parameter_messages_are_in_words(extractive_client: TestClient) -> None:
    response = extractive_client.get("/v1/articles", params={"limit": "many"})
    assert response.status_code == 422
    message = _error(response)["message"]
    assert "query parameter `limit` must be a whole number" in message


def test_get_on_the_briefings_route_says_to_post(extractive_client: TestClient) -> None:
    response = extractive_client.get("/v1/briefings")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    error = _error(response)
    assert error["code"] == "method_not_allowed"
    assert "POST" in error["message"] and "/v1/briefings/{id}" in error["message"]


def _words(n: int) -> str:
    words = ("the harbour authority approved a plan to deepen the main shipping channel by "
             "four metres so larger ships can dock").split()
    return " ".join(words[i % len(words)] for i in range(n)).capitalize() + "."


def test_a_text_too_short_to_brief_is_refused_and_not_stored(make_client) -> None:
    client = make_client()
    for body in ({"text": "hello"}, {"text": "Fire breaks out in Oslo harbour"},
                 {"text": _words(MIN_WORDS - 1)}):
        response = client.post("/v1/briefings", json=body)
        assert response.status_code == 422, body
        error = _error(response)
        assert error["code"] == "too_short"
        assert f"at least {MIN_WORDS}" in error["message"]
    response = client.post("/v1/briefings", content=b"hello", headers=TEXT)
    assert _error(response)["code"] == "too_short"
    page = b"<html><body><nav>Home News Sport Weather</nav><p>Hello there.</p></body></html>"
    assert _error(client.post("/v1/briefings", content=page, headers=HTML))["code"] == (
        "too_short")
    form = client.post("/briefings", data={"text": "hello", "title": ""})
    assert form.status_code == 422 and "too short" in form.text
    assert client.app.state.service.store.count() == 0  # no digest story
    assert client.post("/v1/briefings", json={"text": _words(MIN_WORDS)}).status_code == 200
    assert client.app.state.service.store.count() == 1


def test_words_count_in_scripts_without_spaces() -> None:
    assert count_words("hello") == 1
    assert count_words("The bank raised rates on Tuesday, its 3rd rise.") == 9
    assert count_words("市议会周一在长时间辩论后批准了新预算。") == 9  # 18 characters
    assert count_words("Die Stadt — 2027 — plant 12 Schulen.") == 6


def test_the_readme_documents_the_minimum_and_the_new_codes() -> None:
    readme = README.read_text(encoding="utf-8")
    assert f"at least {MIN_WORDS} words" in readme
    for code in ("too_short", "wrong_content_type", "method_not_allowed"):
        assert re.search(rf"\| `{code}` \|", readme), code
