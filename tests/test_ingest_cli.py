"""`briefing summarize URL` and `briefing feeds import|list|poll|remove`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.cli import main
from service.config import get_settings
from tests.feed_samples import STORY_A, STORY_B, page, rss
from tests.loopback_site import LoopbackSite, Reply


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, value in {"BRIEFING_ENGINE": "extractive", "BRIEFING_DATA_DIR": str(tmp_path),
                        "BRIEFING_FETCH_ALLOW_HOSTS": "127.0.0.1", "BRIEFING_FEEDS": "",
                        "BRIEFING_DAILY_CRON": ""}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_summarize_a_url(cli_env: Path, site: LoopbackSite, capsys: pytest.CaptureFixture[str]
                         ) -> None:
    url = site.route("/harbour", Reply(body=page("Harbour to be deepened", STORY_A)))
    assert main(["summarize", url, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["article"]["title"] == "Harbour to be deepened"
    assert result["article"]["site_name"] == "Coast Post"
    assert "Vellmar" in result["short"]
    assert main(["summarize", url]) == 0
    assert capsys.readouterr().out.startswith("Harbour to be deepened — Coast Post")


def test_summarize_a_refused_url(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", "http://169.254.169.254/latest/meta-data/"]) == 2
    assert "link-local" in capsys.readouterr().err


def test_feeds_import_list_poll_remove(
    cli_env: Path, site: LoopbackSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site.route("/harbour", Reply(body=page("Harbour to be deepened", STORY_A)))
    site.route("/market", Reply(body=page("Tram depot becomes a market", STORY_B)))
    first = site.route("/one.rss", Reply(body=rss("One", [
        {"title": "Harbour", "link": site.url("/harbour"), "guid": "1"}]),
        content_type="application/rss+xml", headers={"ETag": '"1"'}))
    second = site.route("/two.rss", Reply(body=rss("Two", [
        {"title": "Market", "link": site.url("/market"), "guid": "2"}]),
        content_type="application/rss+xml"))
    opml = cli_env / "subs.opml"
    opml.write_text(f"""<?xml version="1.0"?><opml version="2.0"><body>
      <outline text="News"><outline type="rss" text="One" xmlUrl="{first}"/>
      <outline type="rss" text="Two" xmlUrl="{second}"/>
      <outline type="rss" text="Local" xmlUrl="file:///etc/passwd"/></outline>
    </body></opml>""")
    assert main(["feeds", "import", str(opml)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 feed(s) added, 0 already followed, 1 refused")
    assert "file:///etc/passwd" in out
    assert main(["feeds", "poll"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{first}: ok, 1 new", f"{second}: ok, 1 new"]
    assert main(["feeds", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(f["url"], f["title"], f["entries_seen"]) for f in listed] == [
        (first, "One", 1), (second, "Two", 1)]
    assert main(["feeds", "remove", second]) == 0
    assert main(["feeds", "list"]) == 0
    out = capsys.readouterr().out
    assert first in out and second not in out.split("no longer followed")[-1]
    assert main(["feeds", "import", str(cli_env / "missing.opml")]) == 2
