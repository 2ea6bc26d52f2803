"""By URL and by feed through the API: POST /v1/briefings {"url"}, GET /v1/articles,
GET /v1/feeds, and the digest of polled feeds (a story told by two feeds: 2 sources)."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from service.api.models import ArticleList, Briefing, FeedList
from tests.feed_samples import STORY_A, STORY_A_RETOLD, STORY_B, as_html, atom, page, rss
from tests.loopback_site import LoopbackSite, Reply
from tests.test_models import undeclared


def url_client(make_client: Callable[..., TestClient], **overrides: object) -> TestClient:
    values: dict[str, object] = {"fetch_allow_hosts": "127.0.0.1", "fetch_timeout_s": 5,
                                 "feeds_poll_s": 0}
    values.update(overrides)
    return make_client(**values)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_a_page_is_briefed_by_url_with_its_own_title(
    make_client: Callable[..., TestClient], site: LoopbackSite,
) -> None:
    site.route("/short-link", Reply(301, headers={"Location": "/2026/harbour"}))
    site.route("/2026/harbour", Reply(body=page(
        "Harbour to be deepened", STORY_A, canonical="https://coast.example/harbour")))
    client = url_client(make_client)
    answer = client.post("/v1/briefings", json={"url": site.url("/short-link")})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert undeclared(body, Briefing) == []
    assert "Vellmar" in body["short"] and body["engine"] == "extractive"
    assert body["article"] == {
        "url": site.url("/short-link"), "fetched_url": site.url("/2026/harbour"),
        "title": "Harbour to be deepened", "canonical_url": "https://coast.example/harbour",
        "site_name": "Coast Post", "source": "Coast Post", "published_at": "2026-11-30",
    }
    assert "Home" not in body["long"] and "rights reserved" not in body["long"]
    listed = client.get("/v1/articles", params={"date": today()}).json()
    assert undeclared(listed, ArticleList) == []
    (article,) = listed["articles"]
    assert (article["title"], article["url"], article["canonical_url"], article["source"]) == (
        "Harbour to be deepened", site.url("/short-link"), "https://coast.example/harbour",
        "Coast Post")
    assert article["short"] == body["short"] and article["briefing_id"] == body["id"]
    # What the caller says wins over what the page says.
    again = client.post("/v1/briefings", json={"url": site.url("/2026/harbour"),
                                               "title": "My title", "source": "Wire"})
    assert again.json()["article"]["title"] == "My title"
    assert again.json()["article"]["source"] == "Wire"


def test_a_plain_text_page_is_briefed_too(
    make_client: Callable[..., TestClient], site: LoopbackSite,
) -> None:
    url = site.route("/story.txt", Reply(body=STORY_B.encode(), content_type="text/plain"))
    body = url_client(make_client).post("/v1/briefings", json={"url": url}).json()
    assert "Drammel" in body["short"] and body["article"]["title"] is None


@pytest.mark.parametrize("path, reply, status, code", [
    ("/meta", Reply(301, headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
     422, "url_not_allowed"),
    ("/inside", Reply(302, headers={"Location": "http://10.0.0.5/admin"}), 422,
     "url_not_allowed"),
    ("/stall", Reply(body=b"<p>never</p>", stall_s=30), 504, "fetch_timeout"),
    ("/missing", Reply(404, b"no such page", "text/plain"), 502, "fetch_failed"),
    ("/big", Reply(body=b"<p>" + b"word " * 40_000 + b"</p>"), 413, "too_large"),
    ("/bomb", Reply(body=gzip.compress(b" " * 20_000_000),
                    headers={"Content-Encoding": "gzip"}), 413, "too_large"),
    ("/photo", Reply(body=b"\x89PNG\r\n", content_type="image/png"), 415,
     "unsupported_content"),
    ("/empty", Reply(body=b"<html><body><nav>Home</nav></body></html>"), 422, "empty_text"),
])
def test_every_refused_url_gets_its_code(
    make_client: Callable[..., TestClient], site: LoopbackSite, path: str, reply: Reply,
    status: int, code: str,
) -> None:
    client = url_client(make_client, fetch_timeout_s=1, fetch_max_bytes=100_000)
    answer = client.post("/v1/briefings", json={"url": site.route(path, reply)})
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text
    if code == "fetch_failed":
        assert answer.json()["error"]["upstream_status"] == 404
    metrics = client.get("/metrics").text
    if code != "empty_text":
        assert f'briefing_fetches_total{{outcome="{code}"}} 1.0' in metrics


@pytest.mark.parametrize("url, says", [
    ("http://127.0.0.1/", "loopback"), ("http://[fe80::1]/", "link-local"),
    ("http://100.64.0.9/", "CGNAT"), ("http://me:pw@news.example/", "credentials"),
    ("https://news.example:8443/", "port 8443"), ("file:///etc/passwd", "http and https"),
])
def test_urls_refused_without_an_allow_list(
    make_client: Callable[..., TestClient], url: str, says: str,
) -> None:
    answer = make_client().post("/v1/briefings", json={"url": url})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "url_not_allowed"
    assert says in answer.json()["error"]["message"] and "pw" not in answer.text


def test_a_body_without_text_or_url_is_refused(make_client: Callable[..., TestClient]) -> None:
    answer = make_client().post("/v1/briefings", json={"title": "no text"})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request"
    assert "url" in answer.json()["error"]["message"]


def test_polled_feeds_land_in_the_days_articles_and_one_story_has_two_sources(
    make_client: Callable[..., TestClient], site: LoopbackSite,
) -> None:
    site.route("/harbour", Reply(body=page("Harbour to be deepened", STORY_A)))
    site.route("/market", Reply(body=page("Tram depot becomes a market", STORY_B)))
    coast = site.route("/coast.rss", Reply(body=rss("Coast Post", [
        {"title": "Harbour to be deepened", "link": site.url("/harbour"), "guid": "c1"},
        {"title": "Tram depot becomes a market", "link": site.url("/market"), "guid": "c2"},
    ]), content_type="application/rss+xml", headers={"ETag": '"c"'}))
    wire = site.route("/wire.atom", Reply(body=atom("Harbour Wire", [
        {"id": "tag:wire,1", "title": "Vellmar channel deepening approved",
         "link": "https://wire.example/vellmar", "content": as_html(STORY_A_RETOLD)},
    ]), content_type="application/atom+xml"))
    client = url_client(make_client, feeds=f"{coast},{wire}")
    assert [f["url"] for f in client.get("/v1/feeds").json()["feeds"]] == [coast, wire]
    results = client.app.state.ingest.poller.poll()
    assert sorted(r.ingested for r in results) == [1, 2]
    shown = client.get("/v1/feeds").json()
    assert undeclared(shown, FeedList) == []
    feeds = {f["url"]: f for f in shown["feeds"]}
    assert feeds[coast]["title"] == "Coast Post" and feeds[coast]["last_status"] == "ok"
    assert feeds[coast]["validators"] == {"etag": '"c"', "last_modified": None}
    assert feeds[coast]["entries_seen"] == 2 and feeds[coast]["last_polled_at"]
    listed = client.get("/v1/articles", params={"date": today()}).json()
    assert listed["count"] == 3
    assert {(a["title"], a["source"]) for a in listed["articles"]} == {
        ("Harbour to be deepened", "Coast Post"),
        ("Tram depot becomes a market", "Coast Post"),
        ("Vellmar channel deepening approved", "Harbour Wire")}
    assert all(a["short"] for a in listed["articles"])
    since = client.get("/v1/articles", params={"since": listed["articles"][1]["received_at"]})
    assert since.json()["count"] == 2
    digest = client.app.state.daily.job.build(datetime.now(UTC).date())
    lead = digest["stories"][0]
    assert lead["sources"] == 2 and sorted(lead["source_names"]) == ["Coast Post",
                                                                      "Harbour Wire"]
    assert digest["stories_total"] == 2


@pytest.mark.parametrize("params", [{}, {"date": "30.11.2026"}, {"since": "yesterday"},
                                    {"date": "2026-11-30", "since": "2026-11-30"}])
def test_the_article_list_needs_one_valid_date_or_since(
    make_client: Callable[..., TestClient], params: dict[str, str],
) -> None:
    answer = make_client().get("/v1/articles", params=params)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] in ("invalid_date", "invalid_request")
