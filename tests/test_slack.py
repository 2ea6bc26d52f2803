"""Tests for service.digest.slack_messages and slack_webhook: payload planning within Slack's
limits, webhook delivery with retries (mock transport and a real loopback HTTP server), and
keeping the webhook URL secret."""

from __future__ import annotations

import json
import logging
import re
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from service.config import Settings
from service.digest.slack_messages import (
    HEADER_TEXT_MAX,
    MAX_BLOCKS,
    SECTION_TEXT_MAX,
    DigestMessageInput,
    DigestStory,
    escape_mrkdwn,
    message_input,
    plan_messages,
    truncate,
)
from service.digest.slack_webhook import (
    SlackDeliveryError,
    SlackWebhook,
    WebhookURLNotAllowed,
    redact_url,
    validate_webhook_url,
    webhook_id,
)

SECRET = "T0000AAAA/B0000BBBB/s3cr3tTOKENxyz123"
SLACK_URL = f"https://hooks.slack.com/services/{SECRET}"
HEADING = "Daily briefing — 2026-11-27"
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def assert_within_limits(payloads: list[dict[str, Any]]) -> None:
    """Every payload respects Slack's limits and has a fallback text."""
    assert payloads
    for payload in payloads:
        assert isinstance(payload["text"], str) and payload["text"].strip()
        blocks = payload["blocks"]
        assert 1 <= len(blocks) <= MAX_BLOCKS
        assert blocks[0]["type"] == "header"
        header = blocks[0]["text"]
        assert header["type"] == "plain_text" and 0 < len(header["text"]) <= HEADER_TEXT_MAX
        for n, block in enumerate(blocks[1:], start=1):
            assert block["type"] in ("section", "divider", "context")
            if block["type"] == "context":  # the note line: right under the first header
                assert n == 1 and payload is payloads[0]
                (element,) = block["elements"]
                text = element["text"]
                assert element["type"] == "mrkdwn"
                assert 0 < len(text) <= SECTION_TEXT_MAX
                assert not ENTITY.search(text), "bare or broken & in mrkdwn"
            if block["type"] == "section":
                text = block["text"]["text"]
                assert block["text"]["type"] == "mrkdwn"
                assert 0 < len(text) <= SECTION_TEXT_MAX
                assert not ENTITY.search(text), "bare or broken & in mrkdwn"
        assert blocks[-1]["type"] != "divider"


def story(i: int, **kw: Any) -> DigestStory:
    return DigestStory(
        title=kw.pop("title", f"Story {i}"), briefing=kw.pop("briefing", f"Briefing {i}."), **kw
    )


# --- planner --------------------------------------------------------------------------------


def test_golden_small_digest() -> None:
    digest = DigestMessageInput(
        heading=HEADING,
        overview="Rates & chips.",
        stories=[
            DigestStory(
                "Bank holds rates", "Kept at 4% & hints at cuts.", 3, "https://e.com/r?a=1&b=2"
            ),
            DigestStory("Fab <opens>", "Output starts 2027.", url="https://e.com/f|x"),
            DigestStory("Library hours", "Open until 8 pm."),
        ],
    )
    assert plan_messages(digest) == [
        {
            "text": f"{HEADING}: Bank holds rates; Fab &lt;opens&gt;; Library hours",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": HEADING, "emoji": True}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "Rates &amp; chips."}},
                {"type": "divider"},
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": "*<https://e.com/r?a=1&amp;b=2|Bank holds rates>*\n"
                        "Kept at 4% &amp; hints at cuts.\n_3 sources_",
                    },
                },
                {"type": "divider"},
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": "*<https://e.com/f%7Cx|Fab &lt;opens&gt;>*\nOutput starts 2027.",
                    },
                },
                {"type": "divider"},
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "*Library hours*\nOpen until 8 pm."},
                },
            ],
            "unfurl_links": False,
            "unfurl_media": False,
        }
    ]


def test_sixty_stories_split_into_numbered_messages() -> None:
    digest = DigestMessageInput(HEADING, [story(i, sources=i % 3 + 1) for i in range(60)], "Hi")
    payloads = plan_messages(digest)
    assert_within_limits(payloads)
    total = len(payloads)
    assert total == 3
    for n, payload in enumerate(payloads, start=1):
        assert payload["blocks"][0]["text"]["text"] == f"{HEADING} ({n}/{total})"
        assert payload["text"].startswith(f"{HEADING} ({n}/{total}): ")
    # every story appears exactly once, in order
    titles = [
        re.match(r"\*(Story \d+)\*", b["text"]["text"]).group(1)
        for p in payloads
        for b in p["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("*Story")
    ]
    assert titles == [f"Story {i}" for i in range(60)]
    # the overview only opens the first message
    assert payloads[0]["blocks"][1]["text"]["text"] == "Hi"
    assert all(b["text"]["text"] != "Hi" for p in payloads[1:] for b in p["blocks"][1:2])


def test_long_briefing_and_title_are_truncated_at_word_boundaries() -> None:
    briefing = " ".join(["word&<>"] * 1500)  # 12,000 raw chars, far more escaped
    title = " ".join(["Title"] * 70)[:400]
    digest = DigestMessageInput("H" * 400, [DigestStory(title, briefing, 2, "https://e.com/a")])
    payloads = plan_messages(digest)
    assert_within_limits(payloads)
    assert len(payloads) == 1
    header = payloads[0]["blocks"][0]["text"]["text"]
    assert len(header) == HEADER_TEXT_MAX and header.endswith("…")
    text = payloads[0]["blocks"][1]["text"]["text"]
    first, body, sources = text.split("\n")
    assert sources == "_2 sources_"
    assert first.startswith("*<https://e.com/a|Title") and first.endswith("Title…>*")
    assert body.endswith("word&amp;&lt;&gt;…")  # whole words, entities intact
    assert len(payloads[0]["text"]) <= 300


def test_many_huge_stories_respect_aggregate_budget() -> None:
    stories = [story(i, briefing="lorem ipsum " * 1000) for i in range(12)]
    payloads = plan_messages(DigestMessageInput(HEADING, stories))
    assert_within_limits(payloads)
    for payload in payloads:
        assert sum(len(b.get("text", {}).get("text", "")) for b in payload["blocks"]) <= 12_000
    assert len(payloads) == 4  # at most 3 full sections per message


def test_escaping_everywhere() -> None:
    digest = DigestMessageInput(
        "Q&A <today>",
        [DigestStory("<!channel> & co", "a <@U123> b > c & d", url="javascript:alert(1)")],
    )
    (payload,) = plan_messages(digest)
    assert payload["blocks"][0]["text"]["text"] == "Q&A <today>"  # plain_text is not parsed
    assert payload["text"] == "Q&amp;A &lt;today&gt;: &lt;!channel&gt; &amp; co"
    assert payload["blocks"][1]["text"]["text"] == (
        "*&lt;!channel&gt; &amp; co*\na &lt;@U123&gt; b &gt; c &amp; d"
    )


def test_empty_digest_and_blank_heading() -> None:
    (payload,) = plan_messages(DigestMessageInput("  ", []))
    assert payload["blocks"][0]["text"]["text"] == "Briefing"
    assert payload["blocks"][1]["text"]["text"] == "_No stories today._"
    assert payload["text"] == "Briefing: no stories today"
    assert_within_limits([payload])


def test_planner_is_deterministic() -> None:
    digest = DigestMessageInput(HEADING, [story(i) for i in range(40)], "Overview")
    first = plan_messages(digest)
    assert json.dumps(first) == json.dumps(plan_messages(digest))


def test_truncate_never_splits_an_entity() -> None:
    for limit in range(1, 40):
        out = truncate("&" * 50, limit)
        assert len(out) <= limit
        assert not ENTITY.search(out)
    assert truncate("alpha beta gamma", 12) == "alpha beta…"
    assert truncate("short", 10) == "short"
    assert escape_mrkdwn("a&b<c>d") == "a&amp;b&lt;c&gt;d"


@settings(max_examples=40, deadline=None)
@given(
    heading=st.text(max_size=300),
    overview=st.none() | st.text(max_size=4000),
    stories=st.lists(
        st.builds(
            DigestStory,
            title=st.text(max_size=500),
            briefing=st.text(alphabet=st.sampled_from("ab &<>\n😀é"), max_size=5000),
            sources=st.integers(1, 50),
            url=st.none() | st.text(max_size=40).map(lambda s: "https://e.com/" + s),
            source_names=st.lists(st.text(max_size=80), max_size=60).map(tuple),
        ),
        max_size=70,
    ),
    notes=st.lists(st.text(max_size=500), max_size=4).map(tuple),
    link=st.none() | st.text(max_size=1200).map(lambda s: "https://e.com/" + s),
)
def test_property_limits_hold(
    heading: str, overview: str | None, stories: list, notes: tuple[str, ...], link: str | None,
) -> None:
    digest = DigestMessageInput(heading, stories, overview, notes, link)
    payloads = plan_messages(digest)
    assert_within_limits(payloads)
    assert payloads == plan_messages(digest)
    if len(payloads) > 1:
        for n, p in enumerate(payloads, start=1):
            assert p["blocks"][0]["text"]["text"].endswith(f"({n}/{len(payloads)})")


def test_each_story_names_its_sources() -> None:
    digest = DigestMessageInput(HEADING, [
        DigestStory("Ferries stop", "Storm.", 2, source_names=("Coastal Post", "Fjord Times")),
        DigestStory("Library", "Budget.", 2, source_names=("City News & Co",)),
        DigestStory("Factory", "Jobs.", 1, source_names=("business.example",)),
        DigestStory("Match", "Cup.", 1),  # one source without a name: nothing to say
        DigestStory("Old digest", "Built before names.", 3),
    ])
    (payload,) = plan_messages(digest)
    assert_within_limits([payload])
    tails = [b["text"]["text"].split("\n")[-1] for b in payload["blocks"]
             if b["type"] == "section"]
    assert tails == ["_2 sources: Coastal Post, Fjord Times_",
                     "_2 sources: City News &amp; Co and one unnamed_",
                     "_business.example_", "Cup.", "_3 sources_"]
    many = DigestStory("Big", "Story.", 60, source_names=tuple(f"Outlet {i}" for i in range(60)))
    (payload,) = plan_messages(DigestMessageInput(HEADING, [many]))
    assert_within_limits([payload])
    tail = payload["blocks"][1]["text"]["text"].split("\n")[-1]
    assert tail.startswith("_60 sources: Outlet 0, Outlet 1") and tail.endswith("…_")
    assert len(tail) <= 302


def _built(day: str, *, stories: list[dict[str, Any]] | None = None, total: int | None = None,
           complete: bool = True, built_at: str = "2026-12-07T06:00:00+00:00",
           timezone: str = "Europe/Oslo") -> dict[str, Any]:
    """A digest as service.digest.build stores it (the fields message_input reads)."""
    stories = stories or []
    return {"date": day, "timezone": timezone, "complete": complete, "built_at": built_at,
            "articles": len(stories), "stories_total": len(stories) if total is None else total,
            "stories": stories, "overview": None}


def _story(n: int) -> dict[str, Any]:
    return {"title": f"Story {n}", "title_from": "article", "briefing": f"Briefing {n}.",
            "sources": 1, "source_names": ["Fjord Times"], "url": None}


def test_an_empty_past_day_is_named_never_today() -> None:
    (payload,) = plan_messages(message_input(_built("2026-12-06")))
    assert_within_limits([payload])
    assert payload["blocks"][0]["text"]["text"] == "Daily briefing — Sun 2026-12-06"
    assert payload["blocks"][-1]["text"]["text"] == "_No stories on Sun 6 Dec._"
    assert payload["text"] == "Daily briefing — Sun 2026-12-06: no stories on Sun 6 Dec"
    assert "today" not in json.dumps(payload)
    # the day not over yet (a forced run): the day so far, until when it was built
    (payload,) = plan_messages(message_input(_built(
        "2026-12-07", complete=False, built_at="2026-12-07T13:32:10+00:00")))
    assert_within_limits([payload])
    assert payload["blocks"][1]["elements"][0]["text"] == "The day so far, until 14:32 CET"
    assert payload["blocks"][-1]["text"]["text"] == "_No stories so far today._"


def test_the_note_line_says_what_the_message_covers_and_links_to_the_web_page() -> None:
    stories = [_story(n) for n in range(10)]
    partial = _built("2026-07-01", stories=stories, total=17, complete=False,
                     built_at="2026-07-01T09:05:00+00:00")
    (payload,) = plan_messages(message_input(partial,
                                             public_url="https://briefings.example.com"))
    assert_within_limits([payload])
    context = payload["blocks"][1]
    assert context == {"type": "context", "elements": [{"type": "mrkdwn", "text": (
        "The day so far, until 11:05 CEST · 10 of 17 stories shown · "
        "<https://briefings.example.com/digests/2026-07-01|View on the web>")}]}
    assert payload["blocks"][2]["text"]["text"] == "*Story 0*\nBriefing 0.\n_Fjord Times_"
    # a whole day, every story shown, no public URL: no line at all
    (payload,) = plan_messages(message_input(_built("2026-07-01", stories=stories)))
    assert [b["type"] for b in payload["blocks"][:3]] == ["header", "section", "divider"]
    # a public URL only: the link; it sits in the first of several messages only
    many = _built("2026-07-01", stories=[_story(n) for n in range(60)])
    payloads = plan_messages(message_input(many, public_url="https://b.example/brief/"))
    assert len(payloads) == 3
    assert_within_limits(payloads)
    assert payloads[0]["blocks"][1]["elements"][0]["text"] == (
        "<https://b.example/brief/digests/2026-07-01|View on the web>")
    assert all(p["blocks"][1]["type"] == "section" for p in payloads[1:])
    titles = [b["text"]["text"].split("*")[1] for p in payloads for b in p["blocks"]
              if b["type"] == "section"]
    assert titles == [f"Story {n}" for n in range(60)]  # the line took no story's place


@pytest.mark.parametrize(("value", "kept"), [
    ("https://briefings.example.com/", "https://briefings.example.com"),
    (" http://intranet.example:8080/briefing ", "http://intranet.example:8080/briefing"),
    ("", None),
])
def test_the_public_url_setting(value: str, kept: str | None) -> None:
    assert Settings(public_url=value).public_url == kept
    assert Settings().public_url is None
    assert Settings().digest_post_empty is False  # an empty day is not posted by default


@pytest.mark.parametrize("value", [
    "ftp://briefings.example.com", "javascript:alert(1)", "briefings.example.com",
    "https://", "https://user:pw@briefings.example.com", "https://b.example/?a=1",
    "https://b.example/#top", "https://b.example:port/",
])
def test_the_public_url_setting_refuses(value: str) -> None:
    with pytest.raises(ValidationError, match="BRIEFING_PUBLIC_URL"):
        Settings(public_url=value)


# --- URL handling ---------------------------------------------------------------------------


def test_redact_and_id() -> None:
    assert redact_url(SLACK_URL) == "https://hooks.slack.com/services/***"
    assert redact_url("http://u:p@127.0.0.1:8080/hook/abc?x=1") == "http://127.0.0.1:8080/***"
    assert redact_url("not a url") == "<invalid URL>"
    assert re.fullmatch(r"[0-9a-f]{16}", webhook_id(SLACK_URL))
    assert webhook_id(SLACK_URL) == webhook_id(SLACK_URL + " ")
    assert webhook_id(SLACK_URL) != webhook_id(SLACK_URL + "x")


@pytest.mark.parametrize(
    "url",
    [
        f"http://hooks.slack.com/services/{SECRET}",
        f"https://evil.example/services/{SECRET}",
        f"https://hooks.slack.com.evil.example/services/{SECRET}",
        f"https://user:pw@hooks.slack.com/services/{SECRET}",
        f"ftp://hooks.slack.com/services/{SECRET}",
        f"http://127.0.0.1/services/{SECRET}",  # loopback, but not allowed by default
        f"https://hooks.slack.com/services/{SECRET} x",
        "",
    ],
)
def test_validate_rejects(url: str) -> None:
    with pytest.raises(WebhookURLNotAllowed) as info:
        validate_webhook_url(url)
    assert isinstance(info.value, ValueError)
    assert SECRET not in str(info.value) and "s3cr3t" not in str(info.value)


def test_validate_accepts() -> None:
    assert validate_webhook_url(f" {SLACK_URL} ") == SLACK_URL
    assert validate_webhook_url(SLACK_URL.replace("hooks", "HOOKS")).startswith("https://HOOKS")
    for host in ("127.0.0.1:9", "[::1]:9", "localhost"):
        url = f"http://{host}/services/{SECRET}"
        assert validate_webhook_url(url, allowed_hosts={"127.0.0.1", "::1", "localhost"}) == url
    with pytest.raises(WebhookURLNotAllowed):  # http needs loopback even when allowed
        validate_webhook_url("http://example.com/x", allowed_hosts={"example.com"})


# --- sender with a mock transport -----------------------------------------------------------


class Script:
    """A MockTransport handler answering scripted responses and recording requests."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def make_hook(script: Script, sleeps: list[float], **kw: Any) -> SlackWebhook:
    return SlackWebhook(SLACK_URL, transport=httpx.MockTransport(script), sleep=sleeps.append, **kw)


def test_429_honours_retry_after_then_ok() -> None:
    script = Script(
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, text="ok")
    )
    sleeps: list[float] = []
    with make_hook(script, sleeps) as hook:
        hook.send({"text": "hi"})
    assert sleeps == [7.0]
    assert len(script.requests) == 2
    assert json.loads(script.requests[0].content) == {"text": "hi"}
    assert script.requests[0].headers["content-type"].startswith("application/json")


def test_retry_after_is_capped() -> None:
    script = Script(
        httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(200, text="ok")
    )
    sleeps: list[float] = []
    with make_hook(script, sleeps, retry_after_cap=30) as hook:
        hook.send({"text": "hi"})
    assert sleeps == [30]


def test_500_and_transport_errors_back_off_then_ok() -> None:
    script = Script(
        httpx.Response(500, text="rollup_error"),
        httpx.ConnectError("connection refused"),
        httpx.Response(503),
        httpx.Response(200, text="ok"),
    )
    sleeps: list[float] = []
    with make_hook(script, sleeps, backoff_base=0.5) as hook:
        hook.send({"text": "hi"})
    assert sleeps == [0.5, 1.0, 2.0]


def test_gives_up_after_max_attempts() -> None:
    script = Script(*[httpx.Response(500, text="rollup_error") for _ in range(3)])
    sleeps: list[float] = []
    with make_hook(script, sleeps, max_attempts=3, backoff_max=1.5) as hook:
        with pytest.raises(SlackDeliveryError) as info:
            hook.send({"text": "hi"})
    err = info.value
    assert (err.status, err.slack_error, err.attempts, err.retryable) == (
        500,
        "rollup_error",
        3,
        True,
    )
    assert sleeps == [1.0, 1.5]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, "channel_not_found"),
        (404, "no_service"),
        (400, "invalid_payload"),
        (403, "action_prohibited"),
        (410, "channel_is_archived"),
        (200, "unexpected"),
    ],
)
def test_permanent_errors_are_not_retried(status: int, body: str) -> None:
    script = Script(httpx.Response(status, text=body))
    sleeps: list[float] = []
    with make_hook(script, sleeps) as hook:
        with pytest.raises(SlackDeliveryError) as info:
            hook.send({"text": "hi"})
    assert (info.value.status, info.value.slack_error) == (status, body)
    assert info.value.retryable is False and info.value.attempts == 1
    assert len(script.requests) == 1 and sleeps == []
    assert body in str(info.value)


def test_uses_given_client_and_leaves_it_open() -> None:
    script = Script(httpx.Response(200, text="ok"))
    client = httpx.Client(transport=httpx.MockTransport(script))
    with SlackWebhook(SLACK_URL, client=client) as hook:
        hook.send({"text": "hi"})
    assert not client.is_closed
    client.close()


# --- real HTTP server on loopback -----------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], str]] = []
        self.seen: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()


@pytest.fixture
def server() -> Iterator[tuple[str, Recorder]]:
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with rec.lock:
                rec.seen.append((self.path, body))
                status, headers, text = rec.script.pop(0)
            data = text.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/services/{SECRET}", rec
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_real_server_retries_then_delivers(
    server: tuple[str, Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    url, rec = server
    rec.script = [
        (429, {"Retry-After": "0"}, "rate_limited"),
        (500, {}, "rollup_error"),
        (200, {}, "ok"),
    ]
    caplog.set_level(logging.DEBUG)
    sleeps: list[float] = []
    payload = plan_messages(DigestMessageInput(HEADING, [story(1), story(2)]))[0]
    with SlackWebhook(
        url, allowed_hosts={"127.0.0.1"}, sleep=sleeps.append, backoff_base=0.01, timeout=5
    ) as hook:
        hook.send(payload)
    assert sleeps == [0.0, 0.02]
    assert [path for path, _ in rec.seen] == [f"/services/{SECRET}"] * 3
    assert all(json.loads(body) == payload for _, body in rec.seen)
    assert rec.script == []
    assert "s3cr3t" not in caplog.text
    assert any("retrying" in r.getMessage() for r in caplog.records)


def test_secret_never_in_logs_errors_or_reprs(
    server: tuple[str, Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    url, rec = server
    rec.script = [(500, {}, "rollup_error"), (404, {}, "channel_not_found")]
    caplog.set_level(logging.DEBUG)
    with SlackWebhook(url, allowed_hosts={"127.0.0.1"}, sleep=lambda s: None) as hook:
        assert "s3cr3t" not in repr(hook) and "/***" in repr(hook)
        with pytest.raises(SlackDeliveryError) as info:
            hook.send({"text": "hi"})
    err = info.value
    assert (err.status, err.slack_error, err.attempts) == (404, "channel_not_found", 2)
    rendered = [str(err), repr(err), "".join(traceback.format_exception(err))]
    # httpx logs every request URL at INFO; the scrubbing filter must have redacted it
    assert any(r.name == "httpx" for r in caplog.records)
    rendered += [caplog.text] + [r.getMessage() for r in caplog.records]
    for text in rendered:
        assert "s3cr3t" not in text and SECRET not in text
    assert "http://127.0.0.1" in str(err) and "/***" in str(err)


def test_transport_error_message_is_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}")

    hook = SlackWebhook(
        SLACK_URL, transport=httpx.MockTransport(boom), sleep=lambda s: None, max_attempts=2
    )
    with hook, pytest.raises(SlackDeliveryError) as info:
        hook.send({"text": "hi"})
    assert info.value.status is None and info.value.retryable
    assert info.value.__cause__ is None and info.value.__suppress_context__
    for text in (str(info.value), caplog.text):
        assert "s3cr3t" not in text
    assert "hooks.slack.com/services/***" in str(info.value)
