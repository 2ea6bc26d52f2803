"""Feed parsing (RSS 0.9x/1.0/2.0, Atom, JSON Feed), OPML, page metadata."""

from __future__ import annotations

import pytest

from service.errors import InvalidFeed
from service.ingest.feeds import FULL_CONTENT_CHARS, normalize_url, parse_feed
from service.ingest.fetch import Fetched
from service.ingest.opml import read_opml
from service.ingest.page import article_from_page, page_metadata
from tests.feed_samples import STORY_A, STORY_B, as_html, atom, json_feed, page, rss

URL = "https://coast.example/feed"


def test_rss_20_entries_with_guid_link_title_and_date() -> None:
    feed = parse_feed(rss("Coast Post", [
        {"title": "Harbour deepened", "link": "https://coast.example/a", "guid": "a-1",
         "pubDate": "Mon, 30 Nov 2026 08:00:00 GMT", "description": "A short teaser."},
    ]), url=URL, media_type="application/rss+xml")
    assert (feed.title, feed.format) == ("Coast Post", "rss20")
    (entry,) = feed.entries
    assert entry.title == "Harbour deepened" and entry.link == "https://coast.example/a"
    assert entry.published_at == "2026-11-30T08:00:00+00:00"
    assert entry.content_html is None  # a teaser: the page is fetched
    # feedparser resolves a permalink guid against the feed's URL, the same on every poll
    assert entry.keys(URL) == [f"guid:{URL}\nhttps://coast.example/a-1",
                               "url:https://coast.example/a"]


def test_rss_091_and_rss_10() -> None:
    old = parse_feed(rss("Old", [{"title": "T", "link": "http://o.example/a"}],
                         version="0.91"), url=URL)
    assert old.format.startswith("rss09") and old.entries[0].link == "http://o.example/a"
    rdf = (b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
           b'syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>R'
           b'</title></channel><item rdf:about="http://r.example/a"><title>A</title><link>'
           b'http://r.example/a</link></item></rdf:RDF>')
    parsed = parse_feed(rdf, url=URL)
    assert parsed.format == "rss10" and parsed.entries[0].link == "http://r.example/a"


def test_full_content_is_kept_and_teasers_are_not() -> None:
    feed = parse_feed(atom("Atom News", [
        {"id": "tag:a,1", "title": "Full", "link": "https://a.example/1",
         "content": as_html(STORY_A)},
        {"id": "tag:a,2", "title": "Teaser", "link": "https://a.example/2",
         "content": "<p>Read more…</p>"},
    ]), url=URL)
    full, teaser = feed.entries
    assert full.content_html is not None and "Vellmar" in full.content_html
    assert len(STORY_A) >= FULL_CONTENT_CHARS and teaser.content_html is None
    rss_full = parse_feed(rss("R", [{"title": "F", "link": "https://r.example/f",
                                     "content": as_html(STORY_B)}]), url=URL)
    assert "Drammel" in (rss_full.entries[0].content_html or "")


def test_json_feed() -> None:
    feed = parse_feed(json_feed("JSON News", [
        {"id": "1", "url": "/story-1", "title": "Harbour", "content_text": STORY_A,
         "date_published": "2026-11-30T09:30:00+01:00"},
        {"id": 2, "external_url": "https://other.example/x", "title": "Short",
         "content_html": "<p>tiny</p>"},
    ]), url="https://json.example/feed.json", media_type="application/feed+json")
    first, second = feed.entries
    assert feed.title == "JSON News" and feed.format == "json1.1"
    assert first.link == "https://json.example/story-1" and first.guid == "1"
    assert first.published_at == "2026-11-30T08:30:00+00:00"
    assert "Vellmar" in (first.content_html or "")
    assert second.guid == "2" and second.content_html is None


@pytest.mark.parametrize("body, media_type, says", [
    (b"<rss version='2.0'><channel><title>B</title><item><title>A</ti", "", "well-formed"),
    (b"<!doctype html><html><head><title>Blog</title><link rel='alternate' "
     b"type='application/rss+xml' href='/feed.xml'></head><body></body></html>",
     "text/html", "HTML page, not a feed; the page names a feed at https://coast.example/feed.xml"),
    (b"", "application/rss+xml", "empty"),
    (b"\x00\x01 binary junk", "application/octet-stream", "not an RSS, Atom or JSON feed"),
    (b'{"hello": "world"}', "application/json", "not a JSON Feed"),
    (b'{"version": "https://jsonfeed.org/version/1.1"', "application/json", "not valid JSON"),
])
def test_what_is_not_a_feed_says_what_it_is(body: bytes, media_type: str, says: str) -> None:
    with pytest.raises(InvalidFeed) as caught:
        parse_feed(body, url=URL, media_type=media_type)
    assert says in caught.value.message and caught.value.code == "invalid_feed"


def test_slightly_broken_xml_with_entries_is_read_with_a_warning() -> None:
    body = rss("Amp", [{"title": "Tom & Jerry", "link": "https://b.example/1"}]).replace(
        b"Tom &amp; Jerry", b"Tom & Jerry")
    feed = parse_feed(body, url=URL)
    assert feed.entries[0].link == "https://b.example/1"
    assert feed.warning and "not well-formed" in feed.warning


def test_urls_as_keys_drop_fragments_and_tracking() -> None:
    assert normalize_url("HTTPS://News.Example/a?utm_source=x&id=3#top") == \
        "https://news.example/a?id=3"


def test_opml_with_folders_and_repeats() -> None:
    opml = b"""<?xml version="1.0"?><opml version="2.0"><head><title>subs</title></head><body>
      <outline text="News"><outline type="rss" text="Coast" xmlUrl="https://coast.example/feed"/>
        <outline type="rss" text="JSON" xmlUrl="https://json.example/feed.json"/></outline>
      <outline type="rss" text="Coast again" xmlUrl="https://coast.example/feed"/>
    </body></opml>"""
    subs = read_opml(opml)
    assert [s.url for s in subs] == ["https://coast.example/feed",
                                     "https://json.example/feed.json"]
    assert subs[0].title == "Coast"


def test_an_opml_file_without_feeds_is_refused() -> None:
    with pytest.raises(InvalidFeed, match="lists no feeds"):
        read_opml(b"<opml><body><outline text='empty folder'/></body></opml>")
    with pytest.raises(InvalidFeed):
        read_opml(b"https://not-fetched.example/list.opml")


def test_page_metadata_and_the_article_a_page_makes() -> None:
    body = page("Harbour to be deepened", STORY_A,
                canonical="https://coast.example/harbour-deepened")
    meta = page_metadata(body.decode(), "https://coast.example/harbour?ref=rss")
    assert meta.title == "Harbour to be deepened"
    assert meta.canonical_url == "https://coast.example/harbour-deepened"
    assert meta.site_name == "Coast Post" and meta.published_at == "2026-11-30"
    fetched = Fetched("https://coast.example/harbour?ref=rss", 200, "text/html", "utf-8", body)
    article, _ = article_from_page(fetched, url="https://coast.example/harbour?ref=rss")
    assert article.title == "Harbour to be deepened" and article.source == "Coast Post"
    assert article.canonical_url == "https://coast.example/harbour-deepened"
    assert article.text.splitlines()[:2] == ["Harbour to be deepened", STORY_A.split("\n")[0]]
    assert "Home" not in article.text and "rights reserved" not in article.text
