"""Several digests (BRIEFING_DIGESTS_FILE): the file, selection, periods across DST, ranking
and caps, delivery once per (digest, period, destination) to real loopback receivers (Slack,
a signed JSON webhook, Apprise json:// and form://, email to a local SMTP server), and alerts."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest

from service.config import Settings
from service.digest.compose import StoryBriefer
from service.digest.fingerprint import ARTICLES
from service.digest.ledger import DeliveryLedger
from service.digest.select import Selection
from service.digest.specs import DigestsFileError, read_digests_file
from service.digest.team import Alerts, NamedJob, open_jobs
from service.errors import ServiceError
from service.storage.articles import Article, ArticleStore
from tests.digest_support import BATTERY, FERRY_A, FERRY_B, LIBRARY
from tests.storage_support import open_database

SECRET = "whsec-test-0123456789"
OSLO = "Europe/Oslo"


@dataclass
class Receiver:
    """A loopback HTTP receiver: every POST recorded; ``script`` statuses answered first."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay_s: float = 0.0  # a slow receiver: each POST answered after this long

    def accepted(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["status"] < 300]


@contextmanager
def receiver(slack: bool = False) -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if rec.delay_s:
                time.sleep(rec.delay_s)
            with rec.lock:
                status = rec.script.pop(0) if rec.script else 200
                rec.requests.append({"path": self.path, "headers": dict(self.headers),
                                     "body": body, "status": status})
            data = b"ok" if status == 200 else b"no"
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    rec.url = f"127.0.0.1:{httpd.server_address[1]}"
    try:
        yield rec
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[Any]]]:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            received.append(message_from_bytes(envelope.content))
            return "250 OK"

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def no_engine() -> Any:
    raise ServiceError("no engine in these tests: briefings are the lead sentences")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "digests.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(slack_allowed_hosts="hooks.slack.com,127.0.0.1", slack_backoff_s=0,
                         slack_message_interval_s=0, webhook_secret=SECRET, timezone=OSLO)


class World:
    def __init__(self, url: str, settings: Settings) -> None:
        self.database = open_database(url)
        self.store = ArticleStore(self.database, ARTICLES)
        self.ledger = DeliveryLedger(self.database)
        self.settings = settings
        self.briefer = StoryBriefer(lambda _id: None, no_engine)

    def jobs(self, path: Path, now: datetime) -> dict[str, NamedJob]:
        specs = read_digests_file(path, self.settings)
        jobs = open_jobs(specs, self.settings, self.store, self.briefer, self.ledger,
                         clock=lambda: now, sleep=lambda _s: None)
        return {j.spec.name: j for j in jobs}

    def add(self, text: str, when: datetime, **meta: Any) -> int:
        return self.store.add(Article(text=text, **meta), received_at=when)

    def close(self) -> None:
        self.database.close()


@pytest.fixture
def world(tmp_path: Path, settings: Settings) -> Iterator[World]:
    made = World(f"sqlite:///{tmp_path / 'team.sqlite3'}", settings)
    yield made
    made.close()


# -- the file -----------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "says"), [
    ('[[digest]]\nname = "x"\nperiod = "month"\n', "digest 'x': key 'period'"),
    ('[[digest]]\nname = "x"\nmax_stories = 0\n', "digest 'x': key 'max_stories'"),
    ('[[digest]]\nname = "x"\nschedule = "61 * * * *"\n', "digest 'x': key 'schedule'"),
    ('[[digest]]\nname = "x"\ntimezone = "Mars/Base"\n', "digest 'x': key 'timezone'"),
    ('[[digest]]\nname = "x"\ninclude = ["re:("]\n', "digest 'x': key 'include'"),
    ('[[digest]]\nname = "x"\ncolour = "red"\n', "digest 'x': key 'colour'"),
    ('[[digest]]\ntitle = "no name"\n', "digest #1: key 'name'"),
    ('[[digest]]\nname = "x"\n[[digest]]\nname = "x"\n', "digest 'x': key 'name': used twice"),
    ('[[digest]]\nname = "x"\ndestinations = ["gopher://example.com/x"]\n',
     "unknown destination scheme 'gopher'"),
    ('[[digest]]\nname = "x"\ndestinations = ["https://example.com/hook"]\n',
     "webhook+https"),
    ('[[digest]]\nname = "x"\nalerts = "yes"\n', "digest 'x': key 'alerts'"),
    ("not toml [", "not TOML"),
])
def test_a_bad_file_names_the_file_the_digest_and_the_key(
    tmp_path: Path, settings: Settings, body: str, says: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(DigestsFileError) as caught:
        read_digests_file(path, settings)
    assert str(path) in str(caught.value)
    assert says in str(caught.value)


def test_the_file_and_its_secrets_redacted(tmp_path: Path, settings: Settings) -> None:
    path = write(tmp_path, """
[[digest]]
name = "energy"
title = "Energy"
schedule = "0 7 * * 1"
period = "week"
include = ["battery", "re:hydro(gen|power)"]
destinations = ["https://hooks.slack.com/services/T0/B0/secretpart1",
                "webhook+https://example.com/in/secretpart2",
                "discord://1234/secretpart3", "mailto://user:secretpart4@example.com"]
""")
    [spec] = read_digests_file(path, settings)
    shown = json.dumps(spec.public())
    assert spec.period == "week" and spec.max_stories == 10 and spec.max_per_source == 3
    assert [d.kind for d in spec.destinations] == ["slack", "webhook", "apprise", "apprise"]
    assert "secretpart" not in shown and "secretpart" not in repr(spec)
    assert "https://hooks.slack.com/services/***" in shown


# -- selection ------------------------------------------------------------------------------


def test_include_and_exclude_match_whole_words_case_insensitively(world: World) -> None:
    when = datetime(2026, 3, 20, 10, tzinfo=UTC)
    ids = [world.add(t, when, title=title) for t, title in [
        ("The EV market grew.", "Cars"), ("Every day is new.", "Days"),
        ("An electric  car was sold.", "One"), ("Electric cars everywhere.", "Many"),
        ("Hydrogen buses arrive. Sponsored content.", "Buses")]]
    found = {a.id: a for a in world.store.received_between(when, when + timedelta(seconds=1))}
    arts = [found[i] for i in ids]
    ev = Selection.of(include=["ev"])
    assert [ev.matches(a) for a in arts] == [True, False, False, False, False]
    car = Selection.of(include=["Electric car"])
    assert [car.matches(a) for a in arts] == [False, False, True, False, False]
    rx = Selection.of(include=["re:hydro(gen|power)"], exclude=["sponsored"])
    assert not rx.matches(arts[4])
    assert Selection.of(include=["re:hydro(gen|power)"]).matches(arts[4])
    assert Selection.of(include=["ev", "electric car"]).strength(arts[0]) == 1


# -- periods across a DST change -------------------------------------------------------------


def test_week_and_since_last_windows_across_the_spring_change(world: World,
                                                              tmp_path: Path) -> None:
    path = write(tmp_path, f"""
[[digest]]
name = "weekly"
period = "week"
timezone = "{OSLO}"
[[digest]]
name = "rolling"
period = "since_last"
schedule = "0 7,19 * * *"
timezone = "{OSLO}"
""")
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)
    jobs = world.jobs(path, now)
    week = jobs["weekly"].period(date(2026, 3, 29))  # Sunday: clocks went forward at 02:00
    assert week.start == datetime(2026, 3, 22, 23, tzinfo=UTC)  # Mon 23 Mar 00:00 CET
    assert week.end == datetime(2026, 3, 29, 22, tzinfo=UTC)  # Mon 30 Mar 00:00 CEST
    assert (week.end - week.start) == timedelta(hours=7 * 24 - 1)
    rolling = jobs["rolling"]
    first = rolling.period_at(datetime(2026, 3, 28, 19, tzinfo=ZoneInfo(OSLO)))
    assert first.key == "2026-03-28T19:00"
    world.add(FERRY_A, datetime(2026, 3, 28, 12, tzinfo=UTC), title="Ferries stop")
    rolling.build_period(first)
    after = rolling.period_at(datetime(2026, 3, 29, 7, tzinfo=ZoneInfo(OSLO)))
    assert after.start == first.end == datetime(2026, 3, 28, 18, tzinfo=UTC)
    assert after.end == datetime(2026, 3, 29, 5, tzinfo=UTC)  # 07:00 CEST
    assert after.end - after.start == timedelta(hours=11)  # 19:00 to 07:00, one hour lost


# -- ranking, caps, earlier periods -----------------------------------------------------------


def test_ranked_capped_and_an_earlier_story_left_out_or_updated(world: World,
                                                               tmp_path: Path) -> None:
    path = write(tmp_path, f"""
[[digest]]
name = "news"
timezone = "{OSLO}"
max_per_source = 1
""")
    now = datetime(2026, 3, 25, 12, tzinfo=UTC)
    job = world.jobs(path, now)["news"]
    monday = datetime(2026, 3, 23, 10, tzinfo=UTC)
    world.add(FERRY_A, monday, title="Ferries stop", source="Fjord Times")
    world.add(LIBRARY, monday, title="Library", source="Fjord Times")
    world.add(BATTERY, monday, title="Battery plant", source="Coastal Post")
    first = job.build(date(2026, 3, 23))
    assert len(first["stories"]) == 2  # one of Fjord Times' two stories: max_per_source
    assert {"publishers", "recency", "match", "total"} <= set(first["stories"][0]["score"])
    tuesday = monday + timedelta(days=1)
    world.add(FERRY_A, tuesday, title="Ferries stop", source="Fjord Times")  # same again
    world.add(FERRY_B, tuesday, title="Ferries stop", source="Nordland News")  # a new source
    second = job.build(date(2026, 3, 24))
    ferry = [s for s in second["stories"] if s["title"] == "Ferries stop"]
    sent_first = any(s["title"] == "Ferries stop" for s in first["stories"])
    if sent_first:
        assert ferry and ferry[0]["update"] is True
    world.add(BATTERY, monday + timedelta(days=2), title="Battery plant", source="Coastal Post")
    third = job.build(date(2026, 3, 25))
    assert not [s for s in third["stories"] if s["title"] == "Battery plant"]
    assert third["stories_left_out_as_sent"] >= 0


# -- destinations, once each ------------------------------------------------------------------


def test_each_destination_gets_its_form_once_and_a_failed_one_is_retried_alone(
    world: World, tmp_path: Path
) -> None:
    with receiver() as slack, receiver() as hook, receiver() as japp, receiver() as fapp, \
            smtp_server() as (smtp_port, mails):
        path = write(tmp_path, f"""
[[digest]]
name = "ferries"
title = "Ferry watch"
timezone = "{OSLO}"
include = ["ferries", "ferry"]
destinations = [
  "slack+http://{slack.url}/services/T1/B1/slacksecret",
  "webhook+http://{hook.url}/in/hooksecret",
  "json://{japp.url}/apprise",
  "form://{fapp.url}/form",
  "mailto://127.0.0.1:{smtp_port}?to=team@example.com&from=briefing@example.com",
]
[[digest]]
name = "culture"
timezone = "{OSLO}"
include = ["library"]
destinations = ["slack+http://{slack.url}/services/T1/B1/othersecret"]
""")
        now = datetime(2026, 3, 24, 12, tzinfo=UTC)
        jobs = world.jobs(path, now)
        day = datetime(2026, 3, 23, 10, tzinfo=UTC)
        world.add(FERRY_A, day, title="Ferries stop", source="Fjord Times",
                  url="https://fjord.example/ferry")
        world.add(FERRY_B, day, title="Crossings suspended", source="Coastal Post")
        world.add(BATTERY, day, title="Battery plant", source="Coastal Post")
        hook.script = [400]  # the webhook refuses the first time
        result = jobs["ferries"].run(date(2026, 3, 23))
        statuses = {d["kind"] + ":" + d["service"]: d["status"]
                    for d in result["delivery"]["destinations"]}
        assert statuses == {"slack:slack": "delivered", "webhook:webhook": "failed",
                            "apprise:json": "delivered", "apprise:form": "delivered",
                            "apprise:mailto": "delivered"}
        assert "hooksecret" not in json.dumps(result)
        again = jobs["ferries"].run(date(2026, 3, 23))
        statuses = {d["service"]: d["status"] for d in again["delivery"]["destinations"]}
        assert statuses["webhook"] == "delivered"
        assert {s for k, s in statuses.items() if k != "webhook"} == {"already_delivered"}
        jobs["culture"].run(date(2026, 3, 23))  # no library story: skipped, nothing sent

        # Slack: Block Kit, once; only the ferry digest (routing)
        assert len(slack.accepted()) == 1
        blocks = json.loads(slack.accepted()[0]["body"])["blocks"]
        assert blocks[0]["text"]["text"].startswith("Ferry watch")
        assert "Battery" not in json.dumps(blocks)
        # the signed webhook: the digest object, its signature checks out
        [posted] = hook.accepted()
        sig = posted["headers"]["X-Briefing-Signature"]
        want = hmac.new(SECRET.encode(), posted["body"], hashlib.sha256).hexdigest()
        assert sig == f"sha256={want}"
        digest = json.loads(posted["body"])
        assert digest["name"] == "ferries" and digest["stories"][0]["score"]["publishers"] == 2
        # Apprise json:// and form://
        [japp_post] = japp.accepted()
        assert "Ferry watch" in json.loads(japp_post["body"])["title"]
        [fapp_post] = fapp.accepted()
        assert "Ferries stop" in parse_qs(fapp_post["body"].decode())["message"][0]
        # email: HTML with a text part
        [mail] = mails
        kinds = {part.get_content_type() for part in mail.walk()}
        assert {"text/html", "text/plain"} <= kinds
        html = next(p for p in mail.walk() if p.get_content_type() == "text/html")
        assert "Ferries stop" in html.get_payload(decode=True).decode()
        status = jobs["ferries"].status(date(2026, 3, 23))
        assert status["status"] == "delivered" and len(status["destinations"]) == 5


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_deliverers_at_once_post_once_per_destination(
    backend: str, tmp_path: Path, settings: Settings, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'two.sqlite3'}"
        ctx = None
    else:
        from tests.servers import postgres_database

        ctx = postgres_database()
        url = ctx.__enter__()
    one, two = World(url, settings), World(url, settings)
    try:
        with receiver() as slack, receiver() as hook:
            path = write(tmp_path, f"""
[[digest]]
name = "all"
timezone = "{OSLO}"
destinations = ["slack+http://{slack.url}/services/T/B/s1", "webhook+http://{hook.url}/h"]
""")
            now = datetime(2026, 3, 24, 12, tzinfo=UTC)
            one.add(FERRY_A, datetime(2026, 3, 23, 10, tzinfo=UTC), title="Ferries stop")
            jobs = [one.jobs(path, now)["all"], two.jobs(path, now)["all"]]
            results: list[Any] = []
            threads = [threading.Thread(target=lambda j=j: results.append(
                j.run(date(2026, 3, 23)))) for j in jobs]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert len(slack.accepted()) == 1 and len(hook.accepted()) == 1
            assert len(results) == 2
    finally:
        one.close()
        two.close()
        if ctx is not None:
            ctx.__exit__(None, None, None)


# -- alerts ---------------------------------------------------------------------------------


def test_alerts_are_sent_once_per_article_and_destination_within_the_hourly_cap(
    world: World, tmp_path: Path
) -> None:
    with receiver() as hook:
        path = write(tmp_path, f"""
[[digest]]
name = "ferries"
include = ["ferries"]
alerts = true
alert_max_per_hour = 2
destinations = ["webhook+http://{hook.url}/alerts"]
[[digest]]
name = "quiet"
include = ["ferries"]
destinations = ["webhook+http://{hook.url}/quiet"]
""")
        now = datetime.now(UTC)
        alerts = Alerts(list(world.jobs(path, now).values()), background=False)
        world.store.listeners.append(alerts.on_article)
        first = world.add(FERRY_A, now, title="Ferries stop")
        world.add(LIBRARY, now, title="Library")  # matches no alert
        assert [r["status"] for r in alerts.dispatch(first)] == ["already_delivered"]
        world.add(FERRY_B, now, title="Crossings suspended")
        third = world.add(FERRY_A + " Update.", now, title="Ferries again")
        posted = hook.accepted()
        assert [p["path"] for p in posted] == ["/alerts", "/alerts"]  # the cap: 2 an hour
        assert json.loads(posted[0]["body"])["stories"][0]["title"] == "Ferries stop"
        assert [r["status"] for r in alerts.dispatch(third)] == ["rate_limited"]


def test_alerts_resume_after_a_restart_from_the_mark_in_the_database(
    world: World, tmp_path: Path
) -> None:
    with receiver() as hook:
        path = write(tmp_path, f"""
[[digest]]
name = "ferries"
include = ["ferries"]
alerts = true
destinations = ["webhook+http://{hook.url}/alerts"]
""")
        now = datetime.now(UTC)
        first = Alerts(list(world.jobs(path, now).values()), background=False)
        assert first.scan() == []  # the mark: now
        first.close()
        # No process runs alerts: the article is stored with no listener to hear it.
        stored = world.add(FERRY_A, now + timedelta(minutes=5), title="Ferries stop")
        world.add(LIBRARY, now + timedelta(minutes=6), title="Library")
        later = now + timedelta(minutes=10)
        restarted = Alerts(list(world.jobs(path, later).values()), background=False)
        results = restarted.scan()
        assert [(r["article_id"], r["status"]) for r in results] == [(stored, "delivered")]
        assert restarted.scan() == []  # the mark moved past it
        # the listener too (as in another replica): the ledger keeps it to one message
        assert [r["status"] for r in restarted.dispatch(stored)] == ["already_delivered"]
        assert len(hook.accepted()) == 1
        assert json.loads(hook.accepted()[0]["body"])["stories"][0]["title"] == "Ferries stop"


def test_an_article_stored_while_no_process_ran_gets_its_alert_when_the_service_starts(
    make_client: Callable[..., Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    from tests.storage_support import OwnStore

    store = OwnStore(make_settings())
    store.add(Article(text=FERRY_A, title="Ferries stop"),
              received_at=datetime.now(UTC) - timedelta(minutes=3))
    store.close()
    with receiver() as hook:
        path = write(tmp_path, f"""
[[digest]]
name = "ferries"
include = ["ferries"]
alerts = true
destinations = ["webhook+http://{hook.url}/alerts"]
""")
        make_client(digests_file=path, slack_allowed_hosts="127.0.0.1")
        deadline = time.monotonic() + 20  # the scan runs as the scheduler starts
        while not hook.accepted():
            assert time.monotonic() < deadline, "no alert after the start"
            time.sleep(0.05)
        time.sleep(0.3)
        assert len(hook.accepted()) == 1
        assert json.loads(hook.accepted()[0]["body"])["stories"][0]["title"] == "Ferries stop"


# -- surfaces: the API and the CLI ---------------------------------------------------------


def test_the_api_lists_runs_and_shows_each_digest_with_its_destinations(
    make_client: Callable[..., Any], tmp_path: Path
) -> None:
    from tests.digest_support import run_digest

    with receiver() as slack, receiver() as hook:
        path = write(tmp_path, f"""
[[digest]]
name = "ferries"
title = "Ferry watch"
include = ["ferries"]
destinations = ["slack+http://{slack.url}/services/T/B/apisecret",
                "webhook+http://{hook.url}/hooksecret"]
[[digest]]
name = "daily"
destinations = ["webhook+http://{hook.url}/dailysecret"]
""")
        client = make_client(digests_file=path, slack_allowed_hosts="127.0.0.1",
                             slack_message_interval_s=0, slack_backoff_s=0)
        listed = client.get("/v1/digests").json()["digests"]
        assert [d["name"] for d in listed] == ["ferries", "daily"]
        assert "secret" not in json.dumps(listed)
        day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        answer = client.post("/v1/briefings", json={"text": FERRY_A, "title": "Ferries stop"})
        assert answer.status_code == 200, answer.text
        # the article arrived today: today's period, sent before it ends (force)
        today = datetime.now(UTC).date().isoformat()
        state = run_digest(client, f"/v1/digests/ferries/{today}", force="true")
        assert state["run"]["status"] == "done", state
        statuses = [d["status"] for d in state["delivery"]["destinations"]]
        assert statuses == ["delivered", "delivered"]
        assert "secret" not in json.dumps(state)
        assert len(slack.accepted()) == 1 and len(hook.accepted()) == 1
        assert client.get(f"/v1/digests/nope/{day}").status_code == 404
        # /v1/digests/{date} is the file's `daily`: not built yet
        assert client.get(f"/v1/digests/{day}").json()["error"]["code"] == "digest_not_found"


def test_runs_from_the_api_the_cli_and_the_scheduler_race_for_one_digest_and_day(
    make_client: Callable[..., Any], make_settings: Callable[..., Settings], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from service.cli import main
    from service.config import get_settings
    from tests.digest_support import run_digest
    from tests.storage_support import OwnStore

    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    store = OwnStore(make_settings())
    store.add(Article(text=FERRY_A, title="Ferries stop"),
              received_at=datetime.combine(yesterday, datetime.min.time(), UTC)
              + timedelta(hours=12))
    store.close()
    with receiver() as slack, receiver() as hook:
        slack.delay_s = hook.delay_s = 0.3  # slow enough for the three runs to overlap
        path = write(tmp_path, f"""
[[digest]]
name = "team"
timezone = "UTC"
schedule = "0 0 * * *"
destinations = ["slack+http://{slack.url}/services/T/B/race", "webhook+http://{hook.url}/h"]
""")
        monkeypatch.setenv("BRIEFING_DIGESTS_FILE", str(path))
        monkeypatch.setenv("BRIEFING_DATA_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("BRIEFING_SLACK_ALLOWED_HOSTS", "127.0.0.1")
        monkeypatch.setenv("BRIEFING_SLACK_MESSAGE_INTERVAL_S", "0")
        get_settings.cache_clear()
        codes: list[int] = []
        cli = threading.Thread(target=lambda: codes.append(
            main(["digests", "run", "team", "--date", yesterday.isoformat()])))
        try:
            # the scheduler: the cron fired at midnight, its catch-up runs as the app starts
            client = make_client(digests_file=path, slack_allowed_hosts="127.0.0.1",
                                 slack_message_interval_s=0, slack_backoff_s=0)
            cli.start()
            state = run_digest(client, f"/v1/digests/team/{yesterday}")  # the API
            cli.join(60)
        finally:
            get_settings.cache_clear()
        deadline = time.monotonic() + 20
        while True:
            statuses = [d["status"] for d in client.get(
                f"/v1/digests/team/{yesterday}").json()["delivery"]["destinations"]]
            if statuses == ["delivered", "delivered"] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert statuses == ["delivered", "delivered"], state
        time.sleep(0.5)  # a late duplicate would have arrived by now
        assert len(slack.accepted()) == 1 and len(hook.accepted()) == 1
        assert not cli.is_alive() and len(codes) == 1


def test_the_cli_lists_the_digests_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from service.cli import main
    from service.config import get_settings

    path = write(tmp_path, """
[[digest]]
name = "energy"
period = "week"
destinations = ["https://hooks.slack.com/services/T0/B0/clisecret", "ntfy://ntfy.sh/topic"]
""")
    monkeypatch.setenv("BRIEFING_DIGESTS_FILE", str(path))
    monkeypatch.setenv("BRIEFING_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        assert main(["digests", "list"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "energy" in out and "week" in out and "hooks.slack.com/services/***" in out
    assert "clisecret" not in out
