"""Feeds, pages and article texts the ingest tests serve from the loopback site."""

from __future__ import annotations

import json
from html import escape

STORY_A = (
    "The harbour authority of Vellmar approved a plan on Monday to deepen the main shipping "
    "channel by four metres, so that container ships twice the current size can dock.\n\n"
    "The dredging will cost 310 million euros and take three years, the authority said. "
    "Fishing groups warned that silt from the work could harm the oyster beds north of the "
    "port, and asked for an independent study before the first contracts are signed.\n\n"
    "Port director Anja Selvik said the study would be published in March and that work "
    "would pause during the spawning season each spring."
)
STORY_A_RETOLD = (
    "Vellmar's harbour authority on Monday approved deepening the main shipping channel by "
    "four metres so container ships twice the current size can dock.\n\n"
    "The dredging will cost 310 million euros and take three years, the authority said. "
    "Fishing groups warned that silt from the work could harm the oyster beds north of the "
    "port, and asked for an independent study before the first contracts are signed.\n\n"
    "Port director Anja Selvik said the study would be published in March and that work "
    "would pause during the spawning season each spring."
)
STORY_B = (
    "The city council of Drammel voted to close the old tram depot on Dock Street and turn "
    "it into a covered market with sixty stalls.\n\n"
    "Construction starts in June and is expected to cost 12 million euros. Traders who now "
    "sell in the square will get the first pick of stalls, the council said, and rents will "
    "be frozen for two years.\n\n"
    "Residents asked for the depot's brick facade to be kept, and the architects agreed. "
    "The market will open six days a week, with late hours on Fridays in summer, "
    "and the council hopes it will draw visitors back to the waterfront."
)


def page(title: str, text: str, *, canonical: str | None = None, site: str = "Coast Post",
         published: str = "2026-11-30") -> bytes:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n"))
    link = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    return (
        "<!doctype html><html><head>"
        f"<title>{escape(title)} | {escape(site)}</title>{link}"
        f'<meta property="og:title" content="{escape(title)}">'
        f'<meta property="og:site_name" content="{escape(site)}">'
        f'<meta property="article:published_time" content="{published}T08:00:00Z">'
        "</head><body><nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav>"
        f"<article><h1>{escape(title)}</h1>{paragraphs}</article>"
        "<footer>© Coast Post. All rights reserved.</footer></body></html>"
    ).encode()


def rss(title: str, items: list[dict[str, str]], *, version: str = "2.0") -> bytes:
    parts = []
    for item in items:
        fields = "".join(
            f"<{name}>{escape(value)}</{name}>" for name, value in item.items()
            if name != "content"
        )
        if "content" in item:
            fields += f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>"
        parts.append(f"<item>{fields}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<rss version="{version}" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{escape(title)}</title><link>https://coast.example/</link>"
        f"<description>news</description>{''.join(parts)}</channel></rss>"
    ).encode()


def atom(title: str, entries: list[dict[str, str]]) -> bytes:
    parts = []
    for entry in entries:
        link = f'<link href="{escape(entry["link"])}"/>' if "link" in entry else ""
        content = (f'<content type="html">{escape(entry["content"])}</content>'
                   if "content" in entry else "")
        parts.append(
            f"<entry><id>{escape(entry['id'])}</id><title>{escape(entry['title'])}</title>"
            f"{link}<updated>2026-11-30T07:00:00Z</updated>{content}</entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:feed</id><updated>2026-11-30T07:00:00Z"
        f"</updated>{''.join(parts)}</feed>"
    ).encode()


def json_feed(title: str, items: list[dict[str, str]]) -> bytes:
    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": title,
        "home_page_url": "https://json.example/", "items": items,
    }).encode()


def as_html(text: str) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n"))
