"""The daily briefing end to end: articles POSTed through the API, one digest with the story
from two sources shown once, delivered to a real loopback "Slack" that answers 429, 500 and
channel_not_found first; `briefing daily` killed mid-delivery and then run twice at once
(one resumes, the other finds it delivered); DST days in Europe/Oslo; the scheduler's
catch-up at start; the webhook URL never in logs, errors or responses."""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.digest.scheduler import last_fire
from service.digest.slack_messages import HEADER_TEXT_MAX, MAX_BLOCKS, SECTION_TEXT_MAX
from service.digest.window import day_window
from service.storage.articles import Article
from tests.digest_support import (
    BATTERY,
    FERRY_A,
    FERRY_B,
    LIBRARY,
    SECRET,
    SlackRecorder,
    fake_slack,
    run_digest,
)
from tests.storage_support import OwnStore

OSLO = ZoneInfo("Europe/Oslo")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def slack() -> Iterator[tuple[str, SlackRecorder]]:
    with fake_slack() as server:
        yield server


def slack_settings(make_settings: Callable[..., Settings], url: str, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "engine": "extractive", "timezone": "Europe/Oslo", "daily_cron": "",
        "slack_webhook_url": url, "slack_allowed_hosts": "127.0.0.1",
        "slack_backoff_s": 0.01, "slack_message_interval_s": 0,
    }
    values.update(kw)
    return make_settings(**values)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text and "s3cr3t" not in text


def assert_within_limits(payload: dict[str, Any]) -> None:
    assert payload["text"].strip()
    assert len(payload["blocks"]) <= MAX_BLOCKS
    assert len(payload["blocks"][0]["text"]["text"]) <= HEADER_TEXT_MAX
    for block in payload["blocks"]:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= SECTION_TEXT_MAX


def test_api_digest_story_once_with_two_sources_retries_and_exactly_once(
    make_settings: Callable[..., Settings], slack: tuple[str, SlackRecorder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url, rec = slack
    settings = slack_settings(make_settings, url)
    responses: list[str] = []
    with TestClient(create_app(settings)) as client:
        # 1. articles through the API; two of them are one story from two outlets
        for body in (
            {"text": FERRY_A, "title": "Storm halts Havnes ferries", "source": "Fjord Times",
             "url": "https://fjordtimes.example/ferries"},
            {"text": FERRY_B, "title": "Commuters stranded as ferries stop",
             "source": "Coastal Post"},
            {"text": LIBRARY, "title": "Council approves library budget", "source": "City News"},
        ):
            answer = client.post("/v1/briefings", json=body)
            assert answer.status_code == 200, answer.text
        today = datetime.now(OSLO).date()
        path = f"/v1/digests/{today}"

        missing = client.get(path)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "digest_not_found"
        assert client.get("/v1/digests/2026-02-30").json()["error"]["code"] == "invalid_date"

        # 2. the day is not over: built (a preview), not delivered
        early = run_digest(client, path)
        assert early["run"]["delivery"]["status"] == "day_not_over" and rec.requests == []
        assert len(early["digest"]["stories"]) == 2

        # 3. after midnight: 429 (Retry-After) and 500 are retried, channel_not_found is not
        end = day_window(today, OSLO)[1]
        client.app.state.daily.job.clock = lambda: end + timedelta(hours=7)
        rec.script = [(429, {"Retry-After": "0"}, "rate_limited"), (500, {}, "rollup_error"),
                      (404, {}, "channel_not_found")]
        failed = run_digest(client, path)
        responses.append(json.dumps(failed))
        assert failed["run"]["status"] == "failed" and failed["delivery"]["status"] == "failed"
        error = failed["run"]["error"]
        assert error["code"] == "delivery_failed" and "channel_not_found" in error["message"]
        assert len(rec.requests) == 3 and rec.posted == []

        # 4. fixed on Slack's side: the next run delivers, once
        result = run_digest(client, path)
        responses.append(json.dumps(result))
        assert result["run"]["status"] == "done", result
        assert result["run"]["delivery"]["status"] == "delivered"
        assert result["delivery"]["status"] == "delivered"
        assert result["run"]["delivery"]["webhook"].endswith("/services/***")
        digest = result["digest"]
        assert (digest["articles"], digest["stories_total"], digest["complete"]) == (3, 2, True)
        ferry, library = digest["stories"]
        assert ferry["title"] == "Storm halts Havnes ferries" and ferry["sources"] == 2
        assert library["sources"] == 1
        (payload,) = rec.posted
        assert_within_limits(payload)
        sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
        assert len(sections) == 2  # the story once
        assert sections[0].startswith(
            "*<https://fjordtimes.example/ferries|Storm halts Havnes ferries>*\n")
        assert sections[0].endswith("\n_2 sources: Coastal Post, Fjord Times_")
        assert sections[1].endswith("\n_City News_")
        assert payload["text"].startswith(f"Daily briefing — {today:%a} {today}: Storm halts")

        # 5. a re-run is a no-op that says so; GET shows the digest and its delivery
        again = run_digest(client, path)
        assert again["run"]["delivery"]["status"] == "already_delivered"
        assert len(rec.posted) == 1
        shown = client.get(path)
        responses.append(shown.text)
        assert shown.json()["delivery"]["status"] == "delivered"
        assert shown.json()["digest"]["stories"] == digest["stories"]
    assert_no_secret(caplog.text, *responses, *(r.getMessage() for r in caplog.records))


def test_webhook_on_a_host_not_allowed_is_refused_without_showing_it(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = slack_settings(make_settings, f"https://evil.example/services/{SECRET}")
    with TestClient(create_app(settings)) as client:
        answer = client.post("/v1/digests/2026-11-27")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "webhook_not_allowed"
    assert "evil.example/services/***" in answer.text
    assert "Slack delivery is off" in caplog.text  # said at start, not at 07:00
    assert_no_secret(answer.text, caplog.text)


# --- `briefing daily` as separate processes ---------------------------------------------------

WORDS = [a + b for a in ("ka", "lo", "mi", "sen", "tor", "vu", "ha", "ri", "pel", "dun",
                         "fa", "gro", "ne", "sku", "bi") for b in ("ta", "ren", "mos", "lik",
                         "dor", "vin", "sa", "pu", "gen", "tol", "ber", "nik")]


def story_text(rng: random.Random) -> str:
    """Three sentences of made-up words: stories that share no phrases with each other."""
    return " ".join(" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "."
                    for _ in range(3))


def run_daily(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "daily", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_crash_mid_delivery_then_two_concurrent_runs_post_each_message_once(
    tmp_path: Path, slack: tuple[str, SlackRecorder]
) -> None:
    url, rec = slack
    data = tmp_path / "var"
    # 60 stories on the 25-hour day (Oslo leaves summer time at 03:00 on 2026-10-25)
    day = date(2026, 10, 25)
    start, end = day_window(day, OSLO)
    assert end - start == timedelta(hours=25)
    store = OwnStore(data / "briefing.sqlite3")
    rng = random.Random(5)
    for i in range(60):
        moment = start + (end - start - timedelta(microseconds=1)) * i / 59  # first .. last
        store.add(Article(story_text(rng), title=f"Story {i:02d}"), received_at=moment)
    for outside in (start - timedelta(microseconds=1), end):  # the neighbouring days
        store.add(Article(story_text(rng), title="Not this day"), received_at=outside)
    store.close()
    env = {
        **os.environ, "BRIEFING_DATA_DIR": str(data), "BRIEFING_ENGINE": "extractive",
        "BRIEFING_TIMEZONE": "Europe/Oslo", "BRIEFING_SLACK_WEBHOOK_URL": url,
        "BRIEFING_SLACK_ALLOWED_HOSTS": "127.0.0.1", "BRIEFING_SLACK_MESSAGE_INTERVAL_S": "0",
        "BRIEFING_DIGEST_MAX_STORIES": "60", "BRIEFING_DELIVERY_LEASE_S": "1",
        "HF_HUB_OFFLINE": "1",
    }

    # 1. the first run dies (kill -9) while Slack has not answered message 2
    rec.hang_on = 2
    first = run_daily(env, "--date", str(day))
    try:
        assert rec.hung.wait(60), first.communicate(timeout=5)
    finally:
        first.kill()
    out1, err1 = first.communicate(timeout=10)
    assert len(rec.posted) == 1

    # 2. two runs at once (the scheduler and a CronJob, say): one waits out the dead run's
    #    lease and resumes with message 2, the other waits for it and finds it delivered
    rec.hang_on = None
    runs = [run_daily(env, "--date", str(day)) for _ in range(2)]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    statuses = sorted(out.split("delivery: ")[1].split(" ")[0] for out, _ in outputs)
    assert statuses == ["already_delivered", "delivered"], outputs
    delivered = next(out for out, _ in outputs if "delivery: delivered" in out)
    assert "62" not in delivered and "60 of 60 story(ies)" in delivered
    assert "resuming after 1 sent earlier" in delivered

    headers = rec.headers_of_posted()
    title = f"Daily briefing — Sun {day}"
    assert headers == [f"{title} (1/3)", f"{title} (2/3)", f"{title} (3/3)"]
    assert len(rec.requests) == 4  # message 2 twice: once unanswered, once accepted
    for payload in rec.posted:
        assert_within_limits(payload)
    shown = [b["text"]["text"].split("*")[1] for p in rec.posted for b in p["blocks"]
             if b["type"] == "section"]
    assert sorted(shown) == [f"Story {i:02d}" for i in range(60)]
    assert_no_secret(out1, err1, *(text for pair in outputs for text in pair))


# --- the scheduler ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "fired", "day"),
    [
        ("2026-03-29T06:30:00+00:00", "2026-03-29T07:00:00+02:00", date(2026, 3, 28)),  # CEST
        ("2026-03-29T04:30:00+00:00", "2026-03-28T07:00:00+01:00", date(2026, 3, 27)),
        ("2026-10-25T05:59:00+00:00", "2026-10-24T07:00:00+02:00", date(2026, 10, 23)),
        ("2026-10-25T06:00:00+00:00", "2026-10-25T07:00:00+01:00", date(2026, 10, 24)),
    ],
)
def test_cron_is_local_time_across_dst(now: str, fired: str, day: date) -> None:
    trigger = CronTrigger.from_crontab("0 7 * * *", timezone=OSLO)
    fire = last_fire(trigger, datetime.fromisoformat(now))
    assert fire is not None and fire == datetime.fromisoformat(fired)
    assert fire.astimezone(OSLO).date() - timedelta(days=1) == day


def test_missed_run_is_caught_up_at_start(
    make_settings: Callable[..., Settings], slack: tuple[str, SlackRecorder]
) -> None:
    url, rec = slack
    settings = slack_settings(make_settings, url, daily_cron="0 7 * * *")
    fire = last_fire(CronTrigger.from_crontab("0 7 * * *", timezone=OSLO), datetime.now(UTC))
    assert fire is not None
    missed = fire.astimezone(OSLO).date() - timedelta(days=1)
    noon = datetime.combine(missed, datetime.min.time(), OSLO) + timedelta(hours=12)
    store = OwnStore(settings)
    store.add(Article(BATTERY, title="Battery factory for Moss"), received_at=noon)
    store.close()

    with TestClient(create_app(settings)):  # the service was down at 07:00: it starts now
        deadline = time.monotonic() + 20
        while not rec.posted and time.monotonic() < deadline:
            time.sleep(0.05)
    (payload,) = rec.posted
    assert payload["blocks"][0]["text"]["text"] == f"Daily briefing — {missed:%a} {missed}"
    assert "Battery factory for Moss" in json.dumps(payload, ensure_ascii=False)

    with TestClient(create_app(settings)) as client:  # a restart finds nothing to catch up
        assert client.app.state.daily.scheduler.missed_day() is None
        shown = client.get(f"/v1/digests/{missed}").json()
        assert shown["delivery"]["status"] == "delivered"
    assert len(rec.posted) == 1


def test_preview_prints_the_messages_and_posts_nothing(
    tmp_path: Path, slack: tuple[str, SlackRecorder], monkeypatch, capsys
) -> None:
    from service.cli import main
    from service.config import get_settings

    url, rec = slack
    day = date(2026, 3, 14)
    start = day_window(day, OSLO)[0]
    store = OwnStore(tmp_path / "briefing.sqlite3")
    for minutes, text, title in ((60, FERRY_A, "Storm halts Havnes ferries"),
                                 (90, FERRY_B, "Commuters stranded"),
                                 (120, LIBRARY, "Council approves library budget")):
        store.add(Article(text, title=title), received_at=start + timedelta(minutes=minutes))
    store.close()
    for name, value in {"DATA_DIR": str(tmp_path), "ENGINE": "extractive",
                        "TIMEZONE": "Europe/Oslo", "DAILY_CRON": "", "SLACK_WEBHOOK_URL": url,
                        "SLACK_ALLOWED_HOSTS": "127.0.0.1"}.items():
        monkeypatch.setenv(f"BRIEFING_{name}", value)
    get_settings.cache_clear()
    try:
        assert main(["daily", "--date", day.isoformat(), "--preview"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    (message,) = json.loads(out)
    assert_within_limits(message)
    assert message["text"].startswith(f"Daily briefing — {day:%a} {day}: Storm halts")
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    # two articles of the story, neither names its publisher: one unnamed source, no line
    assert len(sections) == 2 and not any("source" in section for section in sections)
    assert rec.requests == [] and SECRET not in out


def test_post_answers_202_at_once_and_the_run_goes_on_in_the_background(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(timezone="Europe/Oslo")
    assert client.post("/v1/briefings", json={"text": FERRY_A}).status_code == 200
    job = client.app.state.daily.job  # type: ignore[attr-defined]
    release = threading.Event()
    building = threading.Event()
    build = job.build

    def slow_build(day: Any) -> dict[str, Any]:
        building.set()
        assert release.wait(60)
        return build(day)

    job.build = slow_build
    path = f"/v1/digests/{datetime.now(OSLO).date()}"
    try:
        first = client.post(path, params={"deliver": "false"})
        assert first.status_code == 202
        assert first.json()["run"]["status"] in ("queued", "running")
        assert building.wait(60)
        again = client.post(path)  # the day's run is still going: that run, not a second
        assert again.status_code == 202
        assert again.json()["run"] == {**first.json()["run"], "status": "running",
                                       "started_at": again.json()["run"]["started_at"]}
        shown = client.get(path).json()
        assert shown["digest"] is None and shown["run"]["status"] == "running"
    finally:
        release.set()
    state = run_digest(client, path, deliver="false")
    assert state["run"]["status"] == "done" and state["run"]["deliver"] is False
    assert state["run"]["delivery"] == {"status": "not_configured"}  # no webhook set
    assert state["digest"]["articles"] == 1
    assert client.post("/v1/digests/2999-01-01").json()["error"]["code"] == "invalid_date"


# --- the first hour (issue 27) ------------------------------------------------------------------


def _catch_up_ended(caplog: pytest.LogCaptureFixture) -> None:
    """Wait until the scheduler's catch-up job at start has run (APScheduler logs it)."""
    deadline = time.monotonic() + 20  # a hang guard, not a speed check
    while not any(r.name.startswith("apscheduler") and "daily digest catch-up" in r.getMessage()
                  and "executed successfully" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.05)


def test_the_first_start_posts_nothing_for_a_day_before_the_first_article(
    make_settings: Callable[..., Settings], slack: tuple[str, SlackRecorder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    url, rec = slack
    # empty days would be posted: what keeps the catch-up quiet is the service's first day
    settings = slack_settings(make_settings, url, daily_cron="0 7 * * *",
                              digest_post_empty=True)
    fire = last_fire(CronTrigger.from_crontab("0 7 * * *", timezone=OSLO), datetime.now(UTC))
    assert fire is not None
    missed = fire.astimezone(OSLO).date() - timedelta(days=1)

    # 1. a new installation: no article at all, the 07:00 run "missed"
    with TestClient(create_app(settings)) as client:
        _catch_up_ended(caplog)
        assert rec.requests == []
        assert f"no catch-up for {missed}: no article has been stored yet" in caplog.text
        assert client.app.state.daily.scheduler.missed_day() is None

    # 2. its first article arrives (today): the missed day is still before the service's first
    caplog.clear()
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/briefings", json={"text": LIBRARY}).status_code == 200
    with TestClient(create_app(settings)) as client:
        _catch_up_ended(caplog)
        assert rec.requests == []
        today = datetime.now(OSLO).date()
        assert (f"no catch-up for {missed}: the first article was stored on {today}"
                in caplog.text)
        assert client.app.state.daily.job.first_day() == today


def test_an_empty_day_is_not_posted_and_the_run_says_why(
    make_settings: Callable[..., Settings], slack: tuple[str, SlackRecorder],
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    url, rec = slack
    settings = slack_settings(make_settings, url)  # BRIEFING_DIGEST_POST_EMPTY left as is
    with TestClient(create_app(settings)) as client:
        state = run_digest(client, "/v1/digests/2020-12-06")
        assert state["run"]["status"] == "done", state
        why = ("no stories on Sun 6 Dec: an empty digest is not posted "
               "(BRIEFING_DIGEST_POST_EMPTY=true posts it)")
        assert state["run"]["delivery"] == {"status": "skipped", "detail": why}
        assert state["delivery"]["status"] == "skipped" and state["delivery"]["detail"] == why
        assert state["digest"]["stories"] == [] and state["digest"]["complete"]
    assert rec.requests == []

    # `briefing daily` for the next (empty) day says the same and posts nothing
    from service.cli import main
    from service.config import get_settings

    for name, value in {"DATA_DIR": str(settings.data_dir), "ENGINE": "extractive",
                        "TIMEZONE": "Europe/Oslo", "DAILY_CRON": "", "SLACK_WEBHOOK_URL": url,
                        "SLACK_ALLOWED_HOSTS": "127.0.0.1"}.items():
        monkeypatch.setenv(f"BRIEFING_{name}", value)
    get_settings.cache_clear()
    try:
        assert main(["daily", "--date", "2020-12-07"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "delivery: skipped (no stories on Mon 7 Dec: an empty digest is not posted" in out
    assert rec.requests == []


def test_an_empty_day_posted_on_request_names_the_day(
    make_settings: Callable[..., Settings], slack: tuple[str, SlackRecorder],
) -> None:
    url, rec = slack
    settings = slack_settings(make_settings, url, digest_post_empty=True)
    with TestClient(create_app(settings)) as client:
        state = run_digest(client, "/v1/digests/2020-12-06")
        assert state["run"]["delivery"]["status"] == "delivered", state
    (payload,) = rec.posted
    assert_within_limits(payload)
    assert payload["blocks"][-1]["text"]["text"] == "_No stories on Sun 6 Dec._"
    assert "today" not in json.dumps(payload, ensure_ascii=False)


def test_a_forced_digest_before_the_day_ends_says_so_counts_and_links_to_its_page(
    make_settings: Callable[..., Settings], slack: tuple[str, SlackRecorder],
) -> None:
    url, rec = slack
    settings = slack_settings(make_settings, url, digest_max_stories=1,
                              public_url="https://briefings.example.com/")
    with TestClient(create_app(settings)) as client:
        for body in ({"text": LIBRARY, "title": "Council approves library budget",
                      "source": "City News"},
                     {"text": BATTERY, "url": "https://www.business.example/voltara"}):
            assert client.post("/v1/briefings", json=body).status_code == 200
        today = datetime.now(OSLO).date()
        state = run_digest(client, f"/v1/digests/{today}", force="true")
        assert state["run"]["delivery"]["status"] == "delivered", state
    digest = state["digest"]
    assert not digest["complete"] and digest["stories_total"] == 2
    built = datetime.fromisoformat(digest["built_at"]).astimezone(OSLO)
    (payload,) = rec.posted
    assert_within_limits(payload)
    assert payload["blocks"][1] == {"type": "context", "elements": [{"type": "mrkdwn", "text": (
        f"The day so far, until {built:%H:%M %Z} · 1 of 2 stories shown · "
        f"<https://briefings.example.com/digests/{today}|View on the web>")}]}
    # the story shown: the latest; untitled, so a short headline over its whole briefing
    (story,) = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    (shown,) = digest["stories"]
    assert shown["title"] == "Voltara will open a battery cell factory outside Moss…"
    assert story == (f"*<https://www.business.example/voltara|{shown['title']}>*\n"
                     f"{shown['briefing']}\n_business.example_")


def test_the_digest_page_names_each_storys_sources(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    for body in ({"text": FERRY_A, "title": "Storm halts Havnes ferries", "source": "Fjord Times"},
                 {"text": FERRY_B},  # no source, no URL: a publisher without a name
                 {"text": LIBRARY, "title": "Council approves library budget"},
                 {"text": BATTERY, "title": "Battery factory for Moss",
                  "url": "https://www.business.example/voltara"}):
        assert client.post("/v1/briefings", json=body).status_code == 200
    today = datetime.now(ZoneInfo(client.app.state.settings.timezone)).date()
    page = client.get(f"/digests/{today.isoformat()}")  # today's, built now
    assert page.status_code == 200
    text = " ".join(page.text.split())
    cards = text.split('<article class="card">')[1:]
    titles = ["Storm halts Havnes ferries", "Battery factory for Moss",
              "Council approves library budget"]
    assert len(cards) == 3 and all(t in card for t, card in zip(titles, cards, strict=True))
    sources = [card.split('<span class="sources">')[1].split("</p>")[0] for card in cards]
    assert sources == ["2 sources</span>: Fjord Times and one unnamed",
                       "1 source</span>: business.example",
                       "1 source</span>, unnamed"]
