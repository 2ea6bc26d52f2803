"""The digest: fingerprints, DST-correct day windows, clustering by story, ranking, and
briefings reused from the cache (generated only when missing) — real SQLite, extractive engine."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from service.briefing import BriefingService
from service.config import Settings
from service.digest.build import build_digest
from service.digest.compose import HEADLINE_MAX_WORDS, StoryBriefer, headline
from service.digest.fingerprint import (
    FINGERPRINT_VERSION,
    Fingerprint,
    article_fingerprint,
    fingerprint,
)
from service.digest.ranking import rank
from service.digest.slack_messages import message_input, plan_messages
from service.digest.stories import (
    SIMILARITY_THRESHOLD,
    cluster,
    registered_domain,
    source_key,
)
from service.digest.window import day_window, parse_day, yesterday
from service.errors import EngineError, InvalidDate
from service.storage.articles import Article, ArticleStore
from service.wiring import Wiring
from tests.digest_support import BATTERY, FERRY_A, FERRY_B, LIBRARY, MATCH
from tests.storage_support import OwnStore, write_pre_migration_file

OSLO = ZoneInfo("Europe/Oslo")
DAY = date(2026, 11, 27)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- fingerprints ---------------------------------------------------------------------------


def test_fingerprint_golden_value_and_stored_form() -> None:
    fp = fingerprint(FERRY_A)
    assert fp.hex() == "e0cfc53b3fe2d519"  # changes only with FINGERPRINT_VERSION
    assert FINGERPRINT_VERSION == "mh2-w2-256-main-uw"
    assert Settings.model_fields["digest_similarity"].default == SIMILARITY_THRESHOLD
    again = Fingerprint.from_bytes(fp.to_bytes())
    assert again.size == fp.size == 108 and again.similarity(fp) == 1.0
    # spacing, case and punctuation do not matter; wording does
    assert fingerprint(FERRY_A.upper().replace("\n\n", "   ")).similarity(fp) == 1.0
    assert fingerprint(FERRY_B).similarity(fp) >= SIMILARITY_THRESHOLD
    for other in (LIBRARY, BATTERY, MATCH):
        assert fingerprint(other).similarity(fp) < 0.05
    assert fingerprint("").similarity(fingerprint("")) == 0.0


def _page(site: str, headline: str, body: str) -> str:
    """One outlet's page template around a story: the markup, menus and footer repeat."""
    menu = " ".join(f"<li><a href='/{w}'>{w.title()} news and analysis</a></li>" for w in (
        "world", "politics", "business", "sport", "culture", "science", "opinion", "weather"))
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (f"<!DOCTYPE html><html><head><title>{headline} | {site}</title></head><body>"
            f"<nav><ul>{menu}</ul></nav><article><h1>{headline}</h1>{paras}</article>"
            f"<footer><p>Copyright {site}. All rights reserved. Contact the newsroom of "
            f"{site} for corrections and reprints.</p></footer></body></html>")


def test_pages_of_one_site_are_fingerprinted_by_their_story_not_their_markup() -> None:
    ferry = article_fingerprint(_page("Fjord Times", "Storm halts ferries", FERRY_A))
    library = article_fingerprint(_page("Fjord Times", "Library budget", LIBRARY))
    assert ferry.similarity(library) < 0.05
    other_site = article_fingerprint(_page("Skarvik Post", "Commuters stranded", FERRY_B))
    assert other_site.similarity(ferry) >= SIMILARITY_THRESHOLD
    assert article_fingerprint(FERRY_A).hex() == fingerprint(FERRY_A).hex()  # text as is


# --- day windows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "start", "hours"),
    [
        (date(2026, 3, 29), "2026-03-28T23:00:00+00:00", 23),  # CET -> CEST
        (date(2026, 10, 25), "2026-10-24T22:00:00+00:00", 25),  # CEST -> CET
        (date(2026, 7, 1), "2026-06-30T22:00:00+00:00", 24),
        (date(2026, 1, 15), "2026-01-14T23:00:00+00:00", 24),
    ],
)
def test_oslo_day_windows(day: date, start: str, hours: int) -> None:
    lo, hi = day_window(day, OSLO)
    assert lo.isoformat() == start
    assert hi - lo == timedelta(hours=hours)
    assert day_window(day + timedelta(days=1), OSLO)[0] == hi  # days tile without gaps


def test_window_for_a_midnight_gap() -> None:
    # Chile moved clocks from 00:00 to 01:00 on 2026-09-06: that day starts at 01:00 local.
    lo, hi = day_window(date(2026, 9, 6), ZoneInfo("America/Santiago"))
    assert lo.astimezone(ZoneInfo("America/Santiago")).hour == 1
    assert hi - lo == timedelta(hours=23)


def test_parse_day_and_yesterday() -> None:
    assert parse_day("2026-03-29") == date(2026, 3, 29)
    for bad in ("2026-3-29", "29.03.2026", "2026-02-30", "20260329", ""):
        with pytest.raises(InvalidDate):
            parse_day(bad)
    # 00:30 in Oslo on 27 Nov is still 26 Nov in UTC
    assert yesterday(OSLO, at("2026-11-26T23:30:00+00:00")) == date(2026, 11, 26)


def test_store_assigns_articles_to_local_days_across_dst(database_url: str) -> None:
    store = OwnStore(database_url)
    times = {
        "before": "2026-03-28T22:59:59+00:00",  # 23:59:59 CET on the 28th
        "first": "2026-03-28T23:00:00+00:00",  # 00:00 on the 29th
        "gap": "2026-03-29T01:30:00+00:00",  # 03:30 CEST, just after the skipped hour
        "last": "2026-03-29T21:59:59.999999+00:00",  # 23:59:59.999999 CEST
        "after": "2026-03-29T22:00:00+00:00",  # 00:00 on the 30th
    }
    for name, moment in times.items():
        store.add(Article(f"Article {name}.", title=name), received_at=at(moment))
    found = store.received_between(*day_window(date(2026, 3, 29), OSLO))
    assert [a.article.title for a in found] == ["first", "gap", "last"]
    assert all(a.fingerprint is not None for a in found)
    store.close()


def test_an_older_store_file_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    write_pre_migration_file(path)
    store = OwnStore(path)
    assert store.count() == 1
    (old,) = store.received_between(*day_window(DAY, ZoneInfo("UTC")))
    assert old.fingerprint is not None and old.fingerprint.size > 0
    stored = sqlite3.connect(path).execute("SELECT fingerprint_version FROM articles").fetchone()
    assert stored == (FINGERPRINT_VERSION,)  # computed once, written back
    store.close()


# --- clustering and ranking -----------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ArticleStore]:
    store = OwnStore(tmp_path / "var" / "briefing.sqlite3")
    yield store
    store.close()


def add(store: ArticleStore, text: str, hour: int, **meta: Any) -> int:
    return store.add(Article(text, **meta), received_at=datetime(2026, 11, 27, hour, tzinfo=UTC))


def test_cluster_groups_one_story_and_counts_its_sources(store: ArticleStore) -> None:
    add(store, FERRY_A, 8, title="Storm halts Havnes ferries", source="Fjord Times")
    add(store, LIBRARY, 9, source="City News")
    add(store, FERRY_B, 10, source="Coastal Post")
    add(store, LIBRARY, 11, source="city news ")  # the same outlet posting it again
    add(store, BATTERY, 12, url="https://www.business.example/voltara")
    add(store, BATTERY, 13, url="https://rss.business.example/voltara?ref=rss")  # same site
    add(store, MATCH, 7)
    articles = store.received_between(*day_window(DAY, ZoneInfo("UTC")))
    groups = cluster(articles, SIMILARITY_THRESHOLD)
    assert [[a.id for a in g] for g in groups] == [[7], [1, 3], [2, 4], [5, 6]]
    ranked = rank(groups)
    # ferry: 2 sources; library and battery: 1 source, 2 articles (battery is more recent)
    assert [[a.id for a in g] for g in ranked] == [[1, 3], [5, 6], [2, 4], [7]]


def test_a_publisher_is_its_registered_domain() -> None:
    assert registered_domain("edition.cnn.com") == registered_domain("rss.CNN.com.") == "cnn.com"
    assert registered_domain("news.bbc.co.uk") == "bbc.co.uk"  # a two-label public suffix
    assert registered_domain("ann.github.io") != registered_domain("bob.github.io")  # private
    assert registered_domain("nyheter.bücher.de") == registered_domain("xn--bcher-kva.de")
    assert registered_domain("10.0.0.7") == "10.0.0.7"
    assert registered_domain("localhost") == "localhost"


def test_one_publisher_on_two_hosts_is_one_source(store: ArticleStore) -> None:
    add(store, FERRY_A, 8, url="https://edition.news.co.uk/ferries")
    add(store, FERRY_B, 9, url="http://rss.news.co.uk/item/1")
    add(store, FERRY_B, 10, url="https://other.example/ferries")
    (story,) = cluster(store.received_between(*day_window(DAY, ZoneInfo("UTC"))),
                       SIMILARITY_THRESHOLD)
    assert len({source_key(a) for a in story}) == 2


def test_exact_reposts_are_one_story_even_without_fingerprints(store: ArticleStore) -> None:
    add(store, MATCH, 8)
    add(store, MATCH, 9)
    articles = [
        a.__class__(**{**a.__dict__, "fingerprint": None})
        for a in store.received_between(*day_window(DAY, ZoneInfo("UTC")))
    ]
    assert len(cluster(articles, SIMILARITY_THRESHOLD)) == 1


# --- composition ----------------------------------------------------------------------------


@pytest.fixture
def service(make_settings: Callable[..., Settings]) -> Iterator[BriefingService]:
    wiring = Wiring.open(make_settings(engine="extractive", timezone="UTC"))
    yield wiring.briefing
    wiring.close()


class Counting:
    """Wraps the engine's generate to count calls."""

    def __init__(self, service: BriefingService, fail: bool = False) -> None:
        self.calls = 0
        self.real = service.engine.generate
        self.fail = fail

    def __call__(self, requests: Any, cancellation: Any = None) -> Any:
        self.calls += 1
        if self.fail:
            raise EngineError("the engine is down")
        return self.real(requests, cancellation)


def digest_of(service: BriefingService, day: date = DAY, **overrides: Any) -> dict[str, Any]:
    settings = service.settings.model_copy(update=overrides)
    now = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=7)
    return build_digest(settings, service.store, StoryBriefer.for_service(service), day,
                        now=now)


def test_digest_reuses_cached_briefings(
    service: BriefingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted = [
        service.brief(Article(FERRY_A, title="Storm halts Havnes ferries", source="Fjord Times")),
        service.brief(Article(FERRY_B, title="Ferry chaos", source="Coastal Post")),
        service.brief(Article(LIBRARY, title="Library budget approved")),
    ]
    today = datetime.now(UTC).date()
    counting = Counting(service)
    monkeypatch.setattr(service.engine, "generate", counting)
    digest = digest_of(service, today)
    assert counting.calls == 0  # everything came from the cache
    assert digest["articles"] == 3 and digest["stories_total"] == 2 and digest["complete"]
    ferry, library = digest["stories"]
    assert ferry["title"] == "Storm halts Havnes ferries"  # the first titled article's
    assert ferry["briefing"] == posted[0]["short"] and ferry["briefing_from"] == "cache"
    assert (ferry["sources"], ferry["articles"]) == (2, 2)
    assert ferry["source_names"] == ["Coastal Post", "Fjord Times"]
    assert library["briefing"] == posted[2]["short"] and library["sources"] == 1
    assert digest["window"]["hours"] == 24.0
    assert service.store.load_digest(today.isoformat(), "UTC") == digest


def test_missing_briefings_are_generated_once_and_linked(
    service: BriefingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(service.store, BATTERY, 9, title="Battery factory for Moss")
    add(service.store, MATCH, 10)  # no title: its first sentence stands in
    counting = Counting(service)
    monkeypatch.setattr(service.engine, "generate", counting)
    first = digest_of(service)
    assert counting.calls == 2
    assert [s["briefing_from"] for s in first["stories"]] == ["generated", "generated"]
    assert service.store.count() == 2  # generating did not store the articles again
    assert first["stories"][0]["title"].startswith("Havnes IL beat Skarvik BK 3-1")
    assert all(s["briefing"] for s in first["stories"])
    second = digest_of(service)
    assert counting.calls == 2  # linked: the second build found them cached
    assert [s["briefing_from"] for s in second["stories"]] == ["cache", "cache"]
    assert [s["briefing"] for s in second["stories"]] == [s["briefing"] for s in first["stories"]]


def test_engine_failure_falls_back_to_the_lead(
    service: BriefingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(service.store, LIBRARY, 9)
    monkeypatch.setattr(service.engine, "generate", Counting(service, fail=True))
    (story,) = digest_of(service)["stories"]
    assert story["briefing_from"] == "lead"
    assert story["briefing"].startswith("The city council approved a budget of 42 million")


def test_cap_overview_and_slack_rendering(service: BriefingService) -> None:
    for hour, text in enumerate((FERRY_A, FERRY_B, LIBRARY, BATTERY, MATCH), start=8):
        add(service.store, text, hour, source=f"Outlet {hour}")
    digest = digest_of(service, digest_max_stories=2, digest_overview=True)
    assert digest["stories_total"] == 4 and len(digest["stories"]) == 2
    assert digest["stories"][0]["sources"] == 2  # the ferry story leads
    assert digest["overview"]
    (payload,) = plan_messages(message_input(digest))
    header = payload["blocks"][0]["text"]["text"]
    assert header == "Daily briefing — Fri 2026-11-27"
    assert payload["blocks"][1]["elements"][0]["text"] == "2 of 4 stories shown"
    assert payload["blocks"][2]["text"]["text"] == digest["overview"]
    assert payload["blocks"][4]["text"]["text"].endswith("\n_2 sources: Outlet 8, Outlet 9_")


def test_a_story_without_a_title_gets_a_short_headline_and_keeps_its_briefing(
    service: BriefingService,
) -> None:
    add(service.store, MATCH, 10)  # no title
    add(service.store, LIBRARY, 9, title="Council approves library budget")
    digest = digest_of(service)
    untitled, titled = digest["stories"]
    assert untitled["title_from"] == "text" and titled["title_from"] == "article"
    # a few words from the briefing's first clause, cut with "…" (not its whole first sentence)
    assert untitled["briefing"].startswith("Havnes IL beat Skarvik BK 3-1 in the cup semi-final "
                                           "on Sunday, with two goals")
    assert untitled["title"] == "Havnes IL beat Skarvik BK 3-1 in the cup semi-final…"
    (payload,) = plan_messages(message_input(digest))
    sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    # the short title in bold, the whole briefing under it
    assert sections[0] == f"*{untitled['title']}*\n{untitled['briefing']}"
    assert sections[1] == f"*Council approves library budget*\n{titled['briefing']}"


@pytest.mark.parametrize(("text", "title"), [
    ("Voltara will open a battery factory outside Moss, the company said on Monday.",
     "Voltara will open a battery factory outside Moss"),
    ("On Tuesday, Storm Ingrid forced Nordfjord Ferries to halt crossings. Waves rose.",
     "On Tuesday, Storm Ingrid forced Nordfjord Ferries to halt crossings"),
    ("Voltara will open a battery cell factory outside Moss that is expected to employ 1,200.",
     "Voltara will open a battery cell factory outside Moss…"),
    ('"We will not sail until the wind drops below gale force," the manager said.',
     "We will not sail until the wind drops below gale…"),
    ("Rates held.", "Rates held"),
    ("x" * 200, "x" * 79 + "…"),
])
def test_headline(text: str, title: str) -> None:
    assert headline(text) == title
    assert len(headline(text).split()) <= HEADLINE_MAX_WORDS and len(headline(text)) <= 80


def test_sources_are_publishers_and_articles_without_one_are_one_unnamed_source(
    service: BriefingService,
) -> None:
    # the library story: a given source and a page's site name, two named publishers
    add(service.store, LIBRARY, 8, source="City News")
    add(service.store, LIBRARY, 9, site_name="Town Post", url="https://townpost.example/lib")
    # the match: a given source and, for the other, the URL's registered domain
    add(service.store, MATCH, 9, source="Havnes Avis")
    add(service.store, MATCH, 10, url="https://www.skarvikpost.example/sport/cup")
    # the factory: one named publisher and one article that names none
    add(service.store, BATTERY, 11, source="Fjord Times")
    add(service.store, BATTERY, 12)
    # the ferries: two outlets' texts, neither with a source or a URL: one unnamed source
    add(service.store, FERRY_A, 13)
    add(service.store, FERRY_B, 14)
    digest = digest_of(service)
    shown = [(s["articles"], s["sources"], s["source_names"]) for s in digest["stories"]]
    # more sources first; then more named ones (unnamed ones never lead); then the latest
    assert shown == [
        (2, 2, ["Havnes Avis", "skarvikpost.example"]),
        (2, 2, ["City News", "Town Post"]),
        (2, 2, ["Fjord Times"]),
        (2, 1, []),
    ]
    (payload,) = plan_messages(message_input(digest))
    tails = [b["text"]["text"].rsplit("\n", 1)[-1] for b in payload["blocks"]
             if b["type"] == "section"]
    assert tails[:3] == ["_2 sources: Havnes Avis, skarvikpost.example_",
                         "_2 sources: City News, Town Post_",
                         "_2 sources: Fjord Times and one unnamed_"]
    assert "source" not in tails[3]  # one source without a name: nothing to name


def test_similar_pairs_are_exactly_the_matrix_pairs_without_the_matrix() -> None:
    import random

    import numpy as np

    from service.digest.fingerprint import similar_pairs
    from tests.similarity import similarity_matrix
    from tests.test_briefing import story

    texts = ["", "short"]
    for n in range(40):
        rng = random.Random(n)
        words = story(n).split()
        texts.append(" ".join(words))
        for share in (0.1, 0.3, 0.5):
            texts.append(" ".join(w if rng.random() > share else "zz" for w in words))
    prints = [fingerprint(t) for t in texts]
    sims = similarity_matrix(prints)
    expected = {(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(sims >= 0.2, k=1)),
                                                   strict=True)}
    found = list(similar_pairs(prints, 0.2))
    assert len(found) == len(set(found)) and set(found) == expected
    assert expected and not any(0 in pair for pair in found)  # an empty text is like nothing
