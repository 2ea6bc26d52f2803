"""The pages over HTTP (no browser): headers, escaping, the key rule, errors as pages; and the
presentation helpers. The browser tests (tests/test_browser.py) drive the same pages."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from service.web.present import (
    articles_in,
    day_nav,
    delivery_words,
    error_words,
    human_time,
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


def test_a_briefings_page_is_headed_by_its_article(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    api = client.post("/v1/briefings", json={
        "text": ARTICLE, "title": "Porto opens a <b>new</b> tram line", "source": "Douro Daily",
        "url": "https://douro.example/tram"}).json()
    html = client.get(f"/briefings/{api['id']}").text
    assert "<h2 id=\"briefing-heading\">Porto opens a &lt;b&gt;new&lt;/b&gt; tram line</h2>" in html
    assert 'href="https://douro.example/tram"' in html and "Douro Daily" in html
    assert "The briefing</h2>" not in html


def test_errors_are_pages_with_the_apis_message_and_status(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    empty = client.post("/briefings", data={"text": "  ", "title": "x"})
    api = client.post("/v1/briefings", json={"text": "  "})
    assert empty.status_code == api.status_code == 422
    # Words for a person, not the API's ("send the article's text in `text` (JSON)…")
    assert "Paste an article&#39;s text, or give its URL." in empty.text
    assert "empty_text" in empty.text and 'value="x"' in empty.text  # the form keeps its input
    for api_words in ("(JSON)", "text/plain", "request body"):
        assert api_words in api.json()["error"]["message"] and api_words not in empty.text
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
    assert client.get(f"/digests?date={today}", follow_redirects=False).headers[
        "location"] == f"/digests/{today}"
    listed = client.get("/digests")  # without a digests file: the one `daily`
    assert listed.status_code == 200 and f'href="/digests/{today}"' in listed.text
    assert "<code>daily</code>" in listed.text
    past = client.get("/digests/2020-01-01")
    assert past.status_code == 404 and "No digest was built for this day." in past.text
    assert "/v1/" not in past.text.split('id="result"')[1]  # no API call to make by hand
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
        "Delivered to Slack on T."
    )
    assert delivery_words({"status": "delivered",
                           "delivered_at": "2026-12-08T00:05:09.123456+00:00"},
                          ZoneInfo("Europe/Oslo")) == "Delivered to Slack on 8 Dec 2026, 01:05."
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
    # built after the day: the date and time as people write them, the ISO value for machines
    built = re.search(r'Built on <time datetime="([^"]+)">([^<]+)</time>', page.text)
    assert built is not None, page.text
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}", built[2])
    shown = re.sub(r"<[^>]*>", "", page.text.split("<main")[1])  # the words, not attributes
    assert built[1] not in shown and not re.search(r"\d{2}:\d{2}:\d{2}", shown)


def test_an_article_without_a_title_is_listed_untitled_with_its_briefing(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    result = client.post("/v1/briefings", json={"text": ARTICLE, "url": "https://norte.example/a"})
    listed = client.get("/articles")
    assert "Untitled article" in listed.text and result.json()["short"][:40] in listed.text
    assert 'href="https://norte.example/a"' in listed.text and "norte.example" in listed.text


def test_times_are_shown_as_people_write_them_in_the_service_zone() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    assert human_time("2026-12-07T08:14:33.918273+00:00", oslo) == "7 Dec 2026, 09:14"
    assert human_time("2026-12-07T08:14:33Z", oslo) == "7 Dec 2026, 09:14"
    assert human_time("2026-07-01T22:30:00", oslo) == "2 Jul 2026, 00:30"  # stored as UTC
    assert human_time("2026-11-30", oslo) == "30 Nov 2026"  # a date alone stays a date
    assert human_time("Mon, 30 Nov 2026 some feed text", oslo) == "Mon, 30 Nov 2026 some feed text"
    assert human_time(None, oslo) == human_time("", oslo) == ""


def test_errors_in_plain_words_with_the_apis_details_where_they_help() -> None:
    from service.errors import EmptyText, EngineError, FetchFailed, InvalidJSON

    empty = error_words(EmptyText("send the article's text in `text` (JSON) or as the body"))
    assert (empty.what, empty.todo, empty.detail) == (
        "There is no article to brief.", "Paste an article's text, or give its URL.", "")
    fetched = error_words(FetchFailed("https://x.example/a answered HTTP 500"))
    assert fetched.todo == "Paste the article's text instead." and "HTTP 500" in fetched.detail
    broken = error_words(EngineError("CUDA out of memory"))
    assert broken.operator and "Try again" in broken.todo
    other = error_words(InvalidJSON("the body is not JSON: expecting value at line 1"))
    assert other.what == "The body is not JSON: expecting value at line 1"  # its own words


def prose(topic: str, sentences: int) -> str:
    """Sentences of our own about ``topic``, twelve words or more each, a paragraph per two."""
    lines = [f"The {topic} council said on day {n} that the {topic} plan would cost {n} "
             f"million, and that work would start within {n + 2} weeks." for n in range(sentences)]
    return "\n\n".join(" ".join(lines[i : i + 2]) for i in range(0, len(lines), 2))


def test_a_paste_of_several_articles_is_told_apart_from_one_with_subheadings() -> None:
    topics = ["harbour", "tramway", "library", "stadium"]
    several = "\n\n".join(f"The {t} plan wins the vote after a long debate\n\n{prose(t, 16)}"
                           for t in topics)
    assert articles_in(several) == 4
    # one article: its title and subheadings head shorter sections
    subheaded = (f"The harbour plan wins the vote after a long debate\n\n{prose('harbour', 6)}"
                 f"\n\nWhat the harbour plan will cost the town\n\n{prose('harbour', 6)}"
                 f"\n\nWhen the work on the harbour starts\n\n{prose('harbour', 6)}")
    assert articles_in(subheaded) == 1
    assert articles_in(prose("harbour", 60)) == 1  # long, but no headlines: one article
    assert articles_in("") == 1


def test_the_form_says_when_only_the_first_of_several_articles_was_briefed(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    topics = ["harbour", "tramway", "library"]
    several = "\n\n".join(f"The {t} plan wins the vote after a long debate\n\n{prose(t, 16)}"
                           for t in topics)
    page = client.post("/briefings", data={"text": several})
    assert page.status_code == 200
    assert "seems to hold several articles (3 headlines)" in page.text
    assert "Only the first was briefed" in page.text
    one = client.post("/briefings", data={"text": ARTICLE})
    assert one.status_code == 200 and "several articles" not in one.text


def test_without_a_model_the_form_says_so_once_and_briefings_show_no_model_figures(
    make_client: Callable[..., TestClient], tmp_path: Path,
) -> None:
    client = make_client(engine="auto", model=str(tmp_path / "no-such-model"))
    assert client.get("/readyz").json()["fallback_reason"]
    form = client.get("/")
    note = re.findall(r'<p class="hint model-note">(.*?)</p>', form.text, re.S)
    assert len(note) == 1 and '<a href="/readyz">/readyz</a>' in note[0]
    page = client.post("/briefings", data={"text": ARTICLE})
    assert page.status_code == 200
    result = page.text.split('id="result"')[1]
    for operator_words in ("model pull", "BRIEFING_MODEL", "fallback", "stands in"):
        assert operator_words not in result, operator_words
    assert "as no model is loaded" in result
    for model_figure in ("Model input", "tokens in", "Prompt version", "What the model read"):
        assert model_figure not in result, model_figure
    assert "What was read" in result


def test_a_model_briefing_shows_what_the_model_read(seq2seq_client: TestClient) -> None:
    page = seq2seq_client.post("/briefings", data={"text": ARTICLE})
    assert page.status_code == 200
    assert "Model input" in page.text and "tokens in 1 chunk" in page.text
    assert "model-note" not in seq2seq_client.get("/").text


# What a browser sends for a form with no fields.
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_a_future_day_has_not_come_offers_nothing_to_build_and_leads_back_to_today(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    today = date.fromisoformat(
        client.get("/articles").text.split('name="date" type="date" value="')[1][:10])
    tomorrow = (today + timedelta(days=1)).isoformat()
    digest = client.get(f"/digests/{tomorrow}")
    assert digest.status_code == 404
    assert "This day has not come yet" in digest.text
    assert 'method="post"' not in digest.text and "POST" not in digest.text
    assert f'<a class="day-link" href="/digests/{today}">Today</a>' in digest.text
    assert client.get(f"/digests/{today}").text.count('href="/digests/' + str(today)) == 1
    articles = client.get(f"/articles?date={tomorrow}")
    assert articles.status_code == 200 and "This day has not come yet" in articles.text
    assert f'href="/articles?date={today}"' in articles.text
    refused = client.post(f"/digests/{tomorrow}", headers=FORM)
    assert refused.status_code == 422 and "has not begun" in refused.text


def test_a_past_day_without_a_digest_offers_a_button_that_builds_it(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    page = client.get("/digests/2020-01-02")
    assert page.status_code == 404
    assert '<form class="build" method="post" action="/digests/2020-01-02"' in page.text
    built = client.post("/digests/2020-01-02", headers=FORM, follow_redirects=False)
    assert built.status_code == 303 and built.headers["location"] == "/digests/2020-01-02"
    for _ in range(600):
        shown = client.get("/digests/2020-01-02")
        if "No stories" in shown.text:
            break
        time.sleep(0.05)
    assert shown.status_code == 200 and "No stories" in shown.text
    assert 'class="build"' not in shown.text
    delivery = client.get("/v1/digests/2020-01-02").json()["delivery"]
    assert delivery["status"] != "delivered"  # built, not sent
    keyed = make_client(api_keys="k1")
    assert keyed.post("/digests/2020-01-03", headers=FORM).status_code == 401
    assert keyed.post("/digests/2020-01-03", headers={**FORM, "Authorization": "Bearer k1"},
                      follow_redirects=False).status_code == 303
    assert client.post("/digests/2020-01-04", json={}).status_code == 415  # only the form


def test_an_unknown_path_is_a_page_for_a_browser_and_json_for_an_api_client(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    browser = client.get("/no/such/page", headers={"Accept": "text/html,application/xhtml+xml"})
    assert browser.status_code == 404
    assert browser.headers["content-type"].startswith("text/html")
    assert "Page not found" in browser.text and '<a href="/">Brief an article</a>' in browser.text
    assert browser.headers["content-security-policy"].startswith("default-src 'none'")
    for accept in ("*/*", "application/json"):
        api = client.get("/no/such/page", headers={"Accept": accept})
        assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert client.get("/v1/nothing").json()["error"]["code"] == "not_found"
    wrong_method = client.delete("/", headers={"Accept": "text/html"})
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]


def test_each_digest_of_the_file_has_a_page_with_its_destinations_redacted(
    make_client: Callable[..., TestClient], tmp_path: Path,
) -> None:
    from tests.digest_support import FERRY_A, run_digest
    from tests.test_digests_team import receiver, write

    with receiver() as slack, receiver() as hook:
        path = write(tmp_path, f"""
[[digest]]
name = "ferries"
title = "Ferry <script>alert(1)</script> watch"
include = ["ferries"]
schedule = "0 7 * * *"
timezone = "Europe/Oslo"
destinations = ["slack+http://{slack.url}/services/T/B/pgS3KRIT",
                "webhook+http://{hook.url}/hkS3KRIT"]
[[digest]]
name = "daily"
destinations = ["webhook+http://{hook.url}/dyS3KRIT"]
""")
        client = make_client(digests_file=path, slack_allowed_hosts="127.0.0.1",
                             slack_message_interval_s=0, slack_backoff_s=0, api_keys="k1")
        key = {"Authorization": "Bearer k1"}
        for page_path in ("/digests", "/digests/ferries/2026-01-05"):
            refused = client.get(page_path)
            assert refused.status_code == 401 and 'id="api-key"' in refused.text
            assert "ferries" not in refused.text.lower().split("<main")[1]
        listed = client.get("/digests", headers=key)
        assert listed.status_code == 200
        html = listed.text
        assert "S3KRIT" not in html
        assert "<script>alert(1)" not in html and "Ferry &lt;script&gt;alert(1)" in html
        assert "<code>0 7 * * *</code>" in html and "Europe/Oslo" in html
        assert "/services/***" in html or "***" in html  # the URLs, redacted
        oslo_today = datetime.now(ZoneInfo("Europe/Oslo")).date()
        assert f'href="/digests/ferries/{oslo_today}"' in html

        article = {"text": FERRY_A, "title": "Ferries <b>stop</b>"}
        assert client.post("/v1/briefings", json=article, headers=key).status_code == 200
        today = datetime.now(ZoneInfo("Europe/Oslo")).date().isoformat()
        # Today's period so far, built on the page, not sent; both destinations not yet.
        page = client.get(f"/digests/ferries/{today}", headers=key)
        assert page.status_code == 200, page.text
        assert "Ferries &lt;b&gt;stop&lt;/b&gt;" in page.text and "<b>stop" not in page.text
        assert "digest so far" in page.text and page.text.count("Not delivered yet.") == 2
        assert "S3KRIT" not in page.text and slack.accepted() == []
        assert 'href="/digests"' in page.text  # the way back to the list
        assert 'name="digest" value="ferries"' in page.text  # the day picker stays on it
        picked = client.get(f"/digests?date={today}&digest=ferries", follow_redirects=False)
        assert picked.headers["location"] == f"/digests/ferries/{today}"
        # Delivered by the API's run: each destination's status on the page.
        client.headers.update(key)
        state = run_digest(client, f"/v1/digests/ferries/{today}", force="true")
        assert state["run"]["status"] == "done", state
        page = client.get(f"/digests/ferries/{today}")
        assert page.text.count('data-status="delivered"') == 2
        assert "Delivered on" in page.text and "S3KRIT" not in page.text
        # A day without a digest offers the build button (not delivered); an unknown name 404s.
        past = client.get("/digests/ferries/2020-01-02")
        assert past.status_code == 404 and 'action="/digests/ferries/2020-01-02"' in past.text
        built = client.post("/digests/ferries/2020-01-02", headers=FORM,
                            follow_redirects=False)
        assert built.headers["location"] == "/digests/ferries/2020-01-02"
        assert client.get("/digests/nope/2020-01-02").status_code == 404
        # With the file, /digests/{date} is the file's `daily`.
        moved = client.get("/digests/2020-01-02", follow_redirects=False)
        assert moved.headers["location"] == "/digests/daily/2020-01-02"
        assert len(slack.accepted()) == 1
