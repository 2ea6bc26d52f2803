"""The pages over HTTP (no browser): headers, escaping, the key rule, errors as pages; and the
presentation helpers. The browser tests (tests/test_browser.py) drive the same pages."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from service.web.present import (
    day_nav,
    delivery_words,
    mark_flags,
    removed_summary,
    safe_link,
)

PAYLOAD_TITLE = '<script>alert("t")</script><img src=x onerror=alert(1)>'
ARTICLE = (
    "The museum of Porto reopened on Friday after 3 years of repairs, its director said.\n\n"
    "Visitors queued for two hours, and a sign read <script>alert(1)</script> in jest.\n\n"
    "The roof was rebuilt with tiles from the original factory."
)


def test_pages_carry_a_strict_policy_and_every_answer_nosniff(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                      "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"):
        assert directive in csp
    assert "unsafe" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    # No inline script or style in any page: only same-origin files.
    assert "<script>" not in page.text and "<style" not in page.text and "style=" not in page.text
    for answer in (page, client.get("/static/app.js"), client.get("/static/style.css"),
                   client.get("/healthz"), client.get("/v1/briefings/nope")):
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")


def test_the_form_briefs_through_the_service_and_escapes_the_article(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    answer = client.post("/briefings", data={"text": ARTICLE, "title": PAYLOAD_TITLE})
    assert answer.status_code == 200
    html = answer.text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in html or (
        "&lt;script&gt;alert(&quot;t&quot;)" in html
    )
    assert "Porto" in html
    # The same article through the API answers the same (cached) briefing: one path.
    api = client.post("/v1/briefings", json={"text": ARTICLE}).json()
    assert api["cached"] is True
    assert f"/briefings/{api['id']}" in html
    stored = client.get(f"/briefings/{api['id']}")
    assert stored.status_code == 200 and "Porto" in stored.text


def test_errors_are_pages_with_the_apis_message_and_status(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    empty = client.post("/briefings", data={"text": "  ", "title": "x"})
    api = client.post("/v1/briefings", json={"text": "  "})
    assert empty.status_code == api.status_code == 422
    message = api.json()["error"]["message"].replace("'", "&#39;")
    assert message in empty.text and 'value="x"' in empty.text  # the form keeps its input
    long_title = client.post("/briefings", data={"text": ARTICLE, "title": "t" * 1001})
    assert long_title.status_code == 422 and "title" in long_title.text
    json_body = client.post("/briefings", json={"text": ARTICLE})
    assert json_body.status_code == 415 and "unsupported_media_type" in json_body.text
    bad_day = client.get("/digests/2026-13-40")
    assert bad_day.status_code == 422 and "is not a date" in bad_day.text
    assert bad_day.headers["content-type"].startswith("text/html")
    unknown = client.get("/briefings/" + "0" * 64)
    assert unknown.status_code == 404 and "not_found" in unknown.text
    too_big = make_client(max_body_bytes=2_000).post("/briefings", data={"text": "a" * 5_000})
    assert too_big.status_code == 413 and "payload_too_large" in too_big.text


def test_with_api_keys_pages_show_no_data_without_the_key(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(api_keys="k1,k2")
    good = {"Authorization": "Bearer k2"}
    result = client.post("/v1/briefings", json={"text": ARTICLE, "title": "Porto museum"},
                         headers=good).json()
    day = client.get("/articles", headers=good)
    assert day.status_code == 200 and "Porto museum" in day.text
    for path in ("/articles", f"/briefings/{result['id']}", "/digests/2026-11-29"):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic k2"}):
            page = client.get(path, headers=headers)
            assert page.status_code == 401, (path, headers)
            assert page.headers["www-authenticate"] == "Bearer"
            assert "Porto" not in page.text and 'id="api-key"' in page.text
    refused = client.post("/briefings", data={"text": ARTICLE})
    assert refused.status_code == 401 and "Porto" not in refused.text
    # The form page itself holds no data: it loads, with the key prompt.
    form = client.get("/")
    assert form.status_code == 200 and 'data-auth="required"' in form.text


def test_articles_and_digest_pages_read_the_days_store(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    client.post("/v1/briefings", json={"text": ARTICLE, "title": "Porto museum reopens",
                                       "source": "Norte News", "url": "javascript:alert(1)"})
    listed = client.get("/articles")
    assert listed.status_code == 200
    assert "Porto museum reopens" in listed.text and "Norte News" in listed.text
    assert "javascript:" not in listed.text
    today = listed.text.split('name="date" type="date" value="')[1][:10]
    digest = client.get(f"/digests/{today}")
    assert digest.status_code == 200
    assert "Porto museum reopens" in digest.text and "1 source" in digest.text
    assert "digest so far" in digest.text
    assert client.get("/digests", follow_redirects=False).headers["location"] == (
        f"/digests/{today}"
    )
    past = client.get("/digests/2020-01-01")
    assert past.status_code == 404 and "no digest for 2020-01-01" in past.text
    empty_day = client.get("/articles?date=2020-01-01")
    assert empty_day.status_code == 200 and "No articles arrived" in empty_day.text


def test_flags_are_marked_once_each_and_numbered_in_reading_order() -> None:
    text = "Alpha said 3. Beta said 4. Alpha said 3."
    flags = [{"sentence": "Beta said 4.", "missing": ["4"]},
             {"sentence": "Alpha said 3.", "missing": ["3"]},
             {"sentence": "Alpha said 3.", "missing": ["3"]},
             {"sentence": "Gone said 9.", "missing": ["9"], "dropped": True}]
    marked = mark_flags(text, flags)
    assert "".join(s.text for s in marked.segments) == text
    assert [(s.text, s.note, s.missing) for s in marked.notes] == [
        ("Alpha said 3.", 1, ("3",)), ("Beta said 4.", 2, ("4",)), ("Alpha said 3.", 3, ("3",))
    ]
    assert marked.unplaced == [flags[3]]
    assert [s.text for s in mark_flags("Plain.", []).segments] == ["Plain."]
    assert mark_flags("", flags[:1]).segments == []


def test_removed_summary_delivery_words_links_and_days() -> None:
    assert removed_summary({"exact_duplicates_removed": 2, "near_duplicates_removed": 1,
                            "boilerplate_removed": 1, "truncated": True,
                            "dropped_chars": 1200}) == [
        "3 repeated paragraphs (1 near-identical)",
        "1 line of page furniture (share buttons, bylines, ads)",
        "1,200 characters cut from the end (too long to brief whole)",
    ]
    assert removed_summary({"duplicates_removed": 0}) == []
    assert "no Slack webhook" in delivery_words({"status": "not_configured"})
    assert delivery_words({"status": "delivered", "delivered_at": "T"}) == (
        "Delivered to Slack at T."
    )
    assert delivery_words({"status": "brand_new"}) == "Delivery: brand new."
    assert safe_link("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "//x.org",
                "http://", None, "", "http://[::1"):
        assert safe_link(bad) is None, bad
    from datetime import date

    nav = day_nav(date(2026, 3, 29), today=date(2026, 3, 29))
    assert (nav.previous, nav.next) == (date(2026, 3, 28), None)
    assert day_nav(date(2026, 3, 1), today=date(2026, 3, 29)).next == date(2026, 3, 2)


def test_run_words_follow_a_digest_run() -> None:
    from service.web.present import run_words

    assert run_words(None) == ""
    assert "queued" in run_words({"status": "queued"})
    assert "being built" in run_words({"status": "running"})
    assert run_words({"status": "failed", "error": {"code": "x", "message": "disk full"}}) == (
        "The last run failed: disk full"
    )


def test_a_past_days_digest_built_by_the_api_shows_on_its_page(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    started = client.post("/v1/digests/2020-01-01?deliver=false")
    assert started.status_code == 202
    for _ in range(600):  # the run is on a background thread; the page follows it
        page = client.get("/digests/2020-01-01")
        if "No stories" in page.text:
            break
        time.sleep(0.05)
        assert page.status_code == 200 and ("queued" in page.text or "being built" in page.text)
    assert page.status_code == 200 and "No stories" in page.text
    assert "Built at" in page.text


def test_an_article_without_a_title_is_listed_untitled_with_its_briefing(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    result = client.post("/v1/briefings", json={"text": ARTICLE, "url": "https://norte.example/a"})
    listed = client.get("/articles")
    assert "Untitled article" in listed.text and result.json()["short"][:40] in listed.text
    assert 'href="https://norte.example/a"' in listed.text and "norte.example" in listed.text
