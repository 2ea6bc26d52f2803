"""The command line's first hour (issue 27): files in any charset, pages with their titles,
nothing stored unless asked, one fallback line, and a quiet and honest `feeds poll`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.cli import main
from service.config import get_settings
from service.metrics import Metrics
from tests.feed_samples import STORY_A, STORY_B, as_html, page, rss
from tests.loopback_site import LoopbackSite, Reply
from tests.storage_support import OwnStore

SEED_PATH = Path(__file__).resolve().parent / "seed_article.txt"
GERMAN = ("Der Stadtrat hat am Dienstag über die neuen Schulen entschieden. Die "
          "Bürgermeisterin sagte, der Bau beginne im Frühjahr und koste rund zwölf Millionen "
          "Euro. Die Opposition kritisierte die Kosten.")
GERMAN_PAGE = (
    '<!doctype html><html><head><meta charset="windows-1252">'
    "<title>Neue Schulen – Tagblatt</title>"
    '<meta property="og:title" content="Neue Schulen für Drammel">'
    '<meta property="og:site_name" content="Tagblatt">'
    '<link rel="canonical" href="https://tagblatt.example/schulen">'
    "</head><body><article><h1>Neue Schulen für Drammel</h1>"
    + "".join(f"<p>{s}.</p>" for s in GERMAN.rstrip(".").split(". "))
    + "</article></body></html>"
)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, value in {"BRIEFING_ENGINE": "extractive", "BRIEFING_DATA_DIR": str(tmp_path),
                        "BRIEFING_FETCH_ALLOW_HOSTS": "127.0.0.1", "BRIEFING_FEEDS": "",
                        "BRIEFING_DAILY_CRON": ""}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _stored(data_dir: Path) -> int:
    store = OwnStore(data_dir / "briefing.sqlite3")
    try:
        return store.count()
    finally:
        store.close()


# --- 5. files in windows-1252 ---------------------------------------------------------------


def test_a_windows_1252_text_file_is_an_error_in_words_then_read_with_charset(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cli_env / "artikel.txt"
    path.write_bytes(GERMAN.encode("cp1252"))
    for command in (["summarize", str(path)], ["preprocess", str(path)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert f"{path} is not valid utf-8 text" in err and "--charset" in err
    assert main(["summarize", str(path), "--charset", "windows-1252"]) == 0
    assert "zwölf Millionen" in capsys.readouterr().out
    assert main(["preprocess", str(path), "--charset", "windows-1252"]) == 0
    assert capsys.readouterr().out.strip() == GERMAN


def test_a_windows_1252_page_with_meta_charset_is_read_as_the_api_reads_it(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cli_env / "seite.html"
    path.write_bytes(GERMAN_PAGE.encode("cp1252"))
    assert main(["preprocess", str(path)]) == 0
    assert "zwölf Millionen" in capsys.readouterr().out
    # 4. the page keeps its title and site name, as by URL
    assert main(["summarize", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Neue Schulen für Drammel — Tagblatt\n")
    assert "Die Bürgermeisterin sagte" in out
    assert main(["summarize", str(path), "--store"]) == 0
    capsys.readouterr()
    store = OwnStore(cli_env / "briefing.sqlite3")
    try:
        (stored,) = store.received_between(datetime(2000, 1, 1, tzinfo=UTC),
                                           datetime(2100, 1, 1, tzinfo=UTC))
    finally:
        store.close()
    article = stored.article
    assert (article.title, article.site_name, article.canonical_url) == (
        "Neue Schulen für Drammel", "Tagblatt", "https://tagblatt.example/schulen")


# --- 6. summarize stores only with --store ----------------------------------------------------


def test_summarize_stores_nothing_unless_asked(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summarize", str(SEED_PATH)]) == 0
    assert main(["summarize", str(SEED_PATH), "--json"]) == 0
    assert _stored(cli_env) == 0  # not in /v1/articles, not in a digest
    assert main(["summarize", str(SEED_PATH), "--store"]) == 0
    assert _stored(cli_env) == 1


def test_summarize_refuses_a_text_too_short_to_brief(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cli_env / "hello.txt"
    path.write_text("hello\n")
    assert main(["summarize", str(path), "--store"]) == 2
    assert "too short to brief" in capsys.readouterr().err
    assert _stored(cli_env) == 0


# --- 13. the fallback reason once -------------------------------------------------------------


def test_summarize_says_the_fallback_reason_once(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFING_ENGINE", "auto")
    monkeypatch.setenv("BRIEFING_MODEL", str(cli_env / "no-such-model"))
    get_settings.cache_clear()
    assert main(["summarize", str(SEED_PATH)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("SHORT: ")
    said = captured.out + captured.err
    assert said.count("no-such-model' is neither a local directory") == 1, said


# --- 13. feeds poll: quiet, an exit status, skipped with a reason ----------------------------


def test_feeds_poll_is_quiet_fails_with_a_count_and_says_why_it_skipped(
    cli_env: Path, site: LoopbackSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site.route("/harbour", Reply(body=page("Harbour to be deepened", STORY_A)))
    feeds = [
        # The article in the feed, one <p>: trafilatura logs "parsed tree length: 0" at
        # ERROR for it, and the text is read all the same.
        site.route("/whole.rss", Reply(body=rss("Whole", [
            {"title": "Market", "link": site.url("/market"), "guid": "m",
             "content": as_html(STORY_B.replace("\n\n", " "))}]),
            content_type="application/rss+xml")),
        site.route("/linked.rss", Reply(body=rss("Linked", [
            {"title": "Harbour", "link": site.url("/harbour"), "guid": "h"}]),
            content_type="application/rss+xml")),
        site.route("/missing.rss", Reply(status=404, body=b"no such feed")),
        site.route("/broken.rss", Reply(body=b"<html><p>not a feed</p></html>")),
    ]
    opml = cli_env / "subs.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><body>' + "".join(
        f'<outline type="rss" text="f{i}" xmlUrl="{url}"/>' for i, url in enumerate(feeds))
        + "</body></opml>")
    assert main(["feeds", "import", str(opml)]) == 0
    capsys.readouterr()

    assert main(["feeds", "poll"]) == 1
    out, err = capsys.readouterr()
    assert f"{feeds[0]}: ok, 1 new" in out and f"{feeds[1]}: ok, 1 new" in out
    assert f"{feeds[2]}: error" in out and f"{feeds[3]}: error" in out
    assert "2 of 4 feed(s) failed" in err
    assert "parsed tree length" not in err and "trafilatura" not in err  # no library noise

    # The failed feeds back off; a feed another poller holds is skipped, and each says why.
    from service.storage import Database
    from service.storage.feeds import FeedStore

    database = Database.open(get_settings())
    try:
        held = FeedStore(database).claim(feeds[1], datetime.now(UTC), ttl_s=60,
                                         due_only=False)
        assert held is not None
        try:
            assert main(["feeds", "poll"]) == 0  # nothing failed this time
        finally:
            held.release()
    finally:
        database.close()
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert lines[feeds[0]].startswith("ok")
    assert lines[feeds[1]] == ("skipped (claimed by another poller (another process or "
                               "replica is polling it))")
    for url in feeds[2:]:
        assert lines[url].startswith("skipped (backing off after 1 failed poll(s) in a row, "
                                     "until 20"), lines[url]
        assert lines[url].endswith(" UTC)")


def test_a_feed_not_due_says_until_when(cli_env: Path, site: LoopbackSite) -> None:
    from service.wiring import Wiring

    url = site.route("/linked.rss", Reply(body=rss("Linked", []),
                                          content_type="application/rss+xml"))
    settings = get_settings()
    wiring = Wiring.open(settings, Metrics())
    ingest = wiring.ingest()
    try:
        ingest.feeds.add(url, origin="cli", title=None, now=datetime.now(UTC))
        assert ingest.poller.poll_feed(url).status == "ok"
        skipped = ingest.poller.poll_feed(url, due_only=True)
    finally:
        ingest.close()
        wiring.close()
    assert skipped.status == "skipped"
    assert skipped.reason is not None and skipped.reason.startswith("not due until 20")
