"""HTML input: find the article in a page and return it as plain text, one paragraph a line.

Navigation, footers, scripts, comments and sidebars are left behind by trafilatura's main-
content extraction; what remains still goes through repair, boilerplate rules and dedup.
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from service.preprocess.boilerplate import ENDS_SENTENCE
from service.preprocess.dedup import paragraph_key
from service.sites import registered_domain

log = logging.getLogger(__name__)

__all__ = [
    "Extracted",
    "as_html_document",
    "decode_html",
    "extract_page",
    "extract_text",
    "looks_like_html",
]

# Tags that only HTML has. One of the document-level ones, or a text that starts with a tag
# and has block tags, is "clearly HTML"; a stray "<b>" in prose is not.
_DOCUMENT_TAG = re.compile(r"<(?:!doctype\s+html|html|head|body)\b[^>]*>", re.IGNORECASE)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|h[1-6]|article|section|main|header|footer|nav|aside|ul|ol|li|table|tr|td|"
    r"blockquote|figure|figcaption|span|a|script|style|meta|link|title|img)\b[^<>]*>",
    re.IGNORECASE,
)
# Only the start of a large text is looked at: detection stays cheap on 1 MB of prose.
_SNIFF = 4096


def looks_like_html(text: str) -> bool:
    """Is ``text`` clearly an HTML document or fragment (not prose that mentions a tag)?"""
    head = text[:_SNIFF]
    if _DOCUMENT_TAG.search(head):
        return True
    return head.lstrip().startswith("<") and len(_BLOCK_TAG.findall(head)) >= 2


# <meta charset="…"> or <meta http-equiv="Content-Type" content="text/html; charset=…">, in
# the first bytes of a page (the HTML standard has browsers look at the first 1024; pages
# with long heads put it later, so a little more is read).
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_META_SNIFF = 4096
# Labels that the HTML standard decodes as windows-1252 (its C1 bytes are letters there).
_AS_CP1252 = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii",
                        "ascii", "windows-1252", "cp1252"})
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode_html(body: bytes, declared: str | None) -> str:
    """The text of an HTML page's bytes, as a browser decodes them.

    In order: a BOM; the charset the header declares (``declared``: invalid bytes raise
    ``UnicodeDecodeError``, an unknown name ``LookupError``, so the caller can refuse
    them clearly); a ``<meta charset>`` near the top of the page; UTF-8 when the bytes are
    valid UTF-8; else windows-1252, the web's legacy default (the HTML standard's choice
    for a page that declares nothing), with any byte it lacks replaced.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec)
    if declared:
        return body.decode(declared)
    found = _META_CHARSET.search(body[:_META_SNIFF])
    if found:
        label = found.group(1).decode("ascii").lower()
        try:
            return body.decode("cp1252" if label in _AS_CP1252 else label, errors="replace")
        except LookupError:
            pass  # a charset name no codec knows: decide as if none were given
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def as_html_document(html: str) -> str:
    """``html`` as a text that :func:`looks_like_html` recognises.

    For a body sent as ``Content-Type: text/html``: a fragment without block tags
    ("Rates rose <b>sharply</b>.") is wrapped in ``<html><body>``, so that preprocessing
    treats it as HTML (tags out, entities decoded) rather than as text.
    """
    if looks_like_html(html) or not html.strip():
        return html
    return f"<html><body>{html}</body></html>"


@dataclass(frozen=True)
class Extracted:
    """What :func:`extract_page` found in a page."""

    text: str  # the main text, one paragraph a line
    titles: tuple[str, ...] = ()  # the page's headline as <title>, og:title and <h1> give it
    visible_words: int = 0  # words a reader sees on the whole page (scripts and styles out)
    kept_words: int = 0  # words of ``text``
    mode: str = "precision"  # how the text was found (see EXTRACTION_MODES)

    @property
    def kept(self) -> float:
        """Share of the page's visible words that the text keeps (1.0 for an empty page)."""
        return min(1.0, self.kept_words / self.visible_words) if self.visible_words else 1.0


# precision: trafilatura's default; recall: its recall-oriented mode, tried when the first
# kept little of the page (see RECALL_BELOW); whole page: trafilatura found no article;
# markup stripped: no parser could read the page.
EXTRACTION_MODES = ("precision", "recall", "whole page", "markup stripped")
# When the default extraction keeps less than this share of a page's visible words, the
# recall-oriented mode is tried too, and kept when it finds at least RECALL_GAIN times the
# words, most of them in prose paragraphs (bench/pages.py measures the rule).
RECALL_BELOW = 0.25
RECALL_GAIN = 1.3
RECALL_PROSE = 0.6
# Elements a reader never sees: hidden ones, and the pop-up cards some sites fill with
# links beside names (their text ends up glued into the sentence around the name).
# (A "rollover" wraps the name and its card: the card is the rollover inside the rollover,
# not the name's own link, whose class may say "rollover" too.)
_HIDDEN = (
    "//*[@hidden or @aria-hidden='true' or contains(translate(@style, ' ', ''), "
    "'display:none') or contains(translate(@style, ' ', ''), 'visibility:hidden') or "
    "contains(@class, 'tooltip') or contains(@class, 'popover') or "
    "contains(@class, 'hovercard')] | "
    "//*[contains(@class, 'rollover')]//*[contains(@class, 'rollover') and not(self::a)]"
)
_VISIBLE_TEXT = (
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript or "
    "ancestor::template)]"
)
_TITLE_META = ("og:title", "twitter:title")
_DESCRIPTION_META = ("description", "og:description", "twitter:description")


def extract_text(html: str) -> str:
    """The main text of an HTML page (see :func:`extract_page`)."""
    return extract_page(html).text


def extract_page(html: str) -> Extracted:
    """The main text of an HTML page, paragraphs one per line, furniture left out; with the
    page's headlines and how much of its visible text the main text is.

    trafilatura refuses pages whose article is very short (a fragment such as
    ``<p>Rates rose.</p>``); their text is then taken whole, with scripts and styles dropped,
    so that nothing a user sent as HTML silently disappears.
    """
    import trafilatura  # only HTML requests pay for importing lxml and friends

    try:
        tree = trafilatura.load_html(html)
    except Exception as exc:  # a parser failure on hostile markup must not fail the request
        log.warning("HTML parser failed (%s: %s); the markup is stripped instead",
                    type(exc).__name__, exc)
        tree = None
    if tree is None:
        text = _strip_tags(html)
        return Extracted(text, (), len(text.split()), len(text.split()), "markup stripped")
    titles = _titles(tree)
    visible = len(" ".join(tree.xpath(_VISIBLE_TEXT)).split())
    _wrap_loose_text(tree)
    _drop_decks(tree)
    _drop_teasers(tree)
    _keep_embedded_posts(tree)
    lead = _described_lead(tree)
    spare = copy.deepcopy(tree)  # trafilatura changes the tree it is given
    text, mode = _trafilatura(tree, favor_recall=False), "precision"
    words = len(text.split()) if text else 0
    if text and visible and words < RECALL_BELOW * visible:
        recall = _trafilatura(spare, favor_recall=True)
        if recall and _better_recall(text, recall):
            text, mode, words = recall, "recall", len(recall.split())
    if text and lead and not _has_lead(text, lead) and not _restates(lead, text):
        text = f"{lead}\n{text}"
        words += len(lead.split())
    if not text:
        try:
            text, mode = trafilatura.html2txt(html), "whole page"
        except Exception as exc:  # as above: the markup stripped instead
            log.warning("main-text extraction failed (%s: %s); the markup is stripped instead",
                        type(exc).__name__, exc)
            text = ""
        if not text:
            text, mode = _strip_tags(html), "markup stripped"
        words = len(text.split())
    return Extracted(text, titles, max(visible, words), words, mode)


def _trafilatura(html: Any, *, favor_recall: bool) -> str:
    import trafilatura

    try:
        return trafilatura.extract(
            html, include_comments=False, include_tables=True, deduplicate=False,
            with_metadata=False, output_format="txt", favor_recall=favor_recall,
            prune_xpath=_HIDDEN,
        ) or ""
    except Exception as exc:  # a parser failure on hostile markup must not fail the request
        log.warning("HTML parser failed (%s: %s); no text from this markup",
                    type(exc).__name__, exc)
        return ""


def _better_recall(precise: str, recall: str) -> bool:
    """Whether the recall-oriented text adds enough, and mostly prose (not link lists,
    captions or labels), to be the better of the two."""
    have = set(precise.splitlines())
    added = [line for line in dict.fromkeys(recall.splitlines()) if line not in have]
    added_words = sum(len(line.split()) for line in added)
    prose = sum(len(line.split()) for line in added
                if len(line.split()) >= 8 and ENDS_SENTENCE.search(line.strip()))
    return (len(recall.split()) >= RECALL_GAIN * len(precise.split())
            and prose >= RECALL_PROSE * added_words)


# Containers whose text may be written straight in, beside their paragraphs; the elements
# that sit inside a line of text; and how many words of its own a run of such text needs to
# be prose (a label, a date or an icon's text stays as it is).
_CONTAINERS = "//body//*[self::section or self::div or self::article or self::main]"
_INLINE = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "dfn", "em", "font", "i",
    "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u",
    "var",
})
LOOSE_PROSE_WORDS = 8


def _wrap_loose_text(tree: Any) -> None:
    """Give prose written straight into a container a paragraph of its own.

    Some sites write an article's opening as bare text in a ``<section>`` or ``<div>``
    beside its paragraphs and headings ("<section>We bring you the best deals… <h2>…</h2>
    <p>…</p></section>"); the extractor reads paragraphs, and drops it. Each run of such
    text (with the inline elements inside it) between two blocks becomes a ``<p>`` when it
    has at least ``LOOSE_PROSE_WORDS`` words of its own; runs made of inline elements only
    (metadata spans, icons, links) are left as they are.
    """
    for container in tree.xpath(_CONTAINERS):
        children = list(container)
        if all(not isinstance(c.tag, str) or c.tag in _INLINE for c in children):
            continue  # no block inside: the container is a paragraph already
        runs: list[tuple[Any, list[Any]]] = []  # (what holds the run's first text, inline)
        owner: Any = container
        inline: list[Any] = []
        for child in children:
            if not isinstance(child.tag, str) or child.tag in _INLINE:
                inline.append(child)
            else:
                runs.append((owner, inline))
                owner, inline = child, []
        runs.append((owner, inline))
        for owner, inline in runs:
            first = owner.text if owner is container else owner.tail
            own = " ".join([first or "", *(c.tail or "" for c in inline)])
            if len(own.split()) < LOOSE_PROSE_WORDS:
                continue
            paragraph = container.makeelement("p", {})
            paragraph.text = first
            if owner is container:
                container.text = None
                container.insert(0, paragraph)
            else:
                owner.tail = None
                owner.addnext(paragraph)
            for child in inline:
                paragraph.append(child)  # with its tail


def _drop_decks(tree: Any) -> None:
    """Remove the deck: a subheading under the headline that is the page's description
    ("There are more devices than ever. Here's how to choose"), a summary the page's
    metadata shows as such; the article itself is in its paragraphs. (A description that
    is the article's first paragraph is left alone: only headings are looked at.)"""
    descriptions = {paragraph_key(content) for content in _meta(tree, _DESCRIPTION_META)}
    descriptions.discard("")
    if not descriptions:
        return
    for heading in tree.xpath("//body//*[self::h2 or self::h3 or self::h4]"):
        if paragraph_key(heading.text_content()) in descriptions:
            heading.drop_tree()


# A lead paragraph is prose: at least this many words, ending as a sentence does.
LEAD_MIN_WORDS = 8
# The words of the description that find its paragraph on the page (a site may cut the
# description short, with "…", or write the paragraph out longer than it).
_LEAD_NEEDLE_WORDS = 6
# A dateline may open the paragraph before the description's words: "Kiel (dpa) – ".
_LEAD_PLACE_WORDS = 4
_LEAD_BLOCKS = frozenset({"p", "div", "section", "header", "span", "strong", "em", "b",
                          "td", "li", "blockquote", "figure", "article", "main"})


def _described_lead(tree: Any) -> str | None:
    """The article's lead, where the page's own description (its ``<meta name=description>``
    or og:description) shows which paragraph that is.

    Sites set the lead apart from the body: in the header beside the headline, in a teaser
    box, in markup of its own; the extractor reads the body's paragraphs and leaves it out,
    although it is the article's first paragraph and often its summary. The smallest
    element of the body whose text starts with the description (or with its words up to a
    "…" that cuts it short) is that paragraph; it is the lead when it reads as prose (at
    least ``LEAD_MIN_WORDS`` words, ending as a sentence does; a dateline may come first),
    is no heading (a deck under the headline is dropped: :func:`_drop_decks`) and is no
    link (a teaser of this page). It is added in front of the text when the text lacks it
    and does not restate it (:func:`_restates`).
    """
    for description in _meta(tree, _DESCRIPTION_META):
        words = paragraph_key(description.rstrip(" .…")).split()
        if description.rstrip().endswith(("…", "...")):
            words = words[:-1]  # the last word may be cut
        if len(words) < LEAD_MIN_WORDS:
            continue
        needle = " ".join(words[:_LEAD_NEEDLE_WORDS])
        for element in _xpath(_LEAD_CANDIDATES)(tree, first=_first_word(description)):
            text = " ".join(element.text_content().split())
            key = paragraph_key(text)
            for _ in range(3):  # "<p><b>Berlin</b> – The …": up to the paragraph
                if len(key) >= len(needle) or key not in needle:
                    break
                parent = element.getparent()
                if parent is None:
                    break
                element = parent
                text = " ".join(element.text_content().split())
                key = paragraph_key(text)
            at = key.find(needle)
            if (
                element.tag not in _LEAD_BLOCKS
                or at < 0 or key[:at].count(" ") > _LEAD_PLACE_WORDS  # "Kiel – A storm …"
                or key[at:].split()[: len(words)] != words[: len(key[at:].split())]
                or len(key.split()) > 2 * len(words) + 20  # more than the lead in it
                or len(text.split()) < LEAD_MIN_WORDS
                or not ENDS_SENTENCE.search(text)
                or _xpath(_LEAD_EXCLUDED)(element)
            ):
                continue
            return text
    return None


# Elements of the body whose own text holds the description's first word (the innermost
# element that holds the lead is among them, or is the parent of one of them).
_LEAD_CANDIDATES = (
    "//body//*[not(self::script or self::style or self::noscript or self::template)]"
    "[text()[contains(., $first)]]"
)


_LEAD_EXCLUDED = (
    "ancestor-or-self::a | ancestor-or-self::*[self::h1 or self::h2 or self::h3 or self::h4]"
)


def _first_word(text: str) -> str:
    return text.split()[0] if text.split() else ""


# A described paragraph at least this share of whose longer words (four letters or more)
# the body has is a summary of it (a deck, a standfirst), not a paragraph of its own.
LEAD_RESTATED_SHARE = 0.5


def _restates(lead: str, text: str) -> bool:
    """Whether the body (``text``) says most of what the described paragraph says.

    A standfirst that sums up the story ("The US military says two service members were
    killed …" over "Two United States service members have been killed …") is a deck in a
    paragraph: the body says it all, and a briefing opening with it would open with the
    site's summary rather than the story (bench/pages.py: its leads). A lead that the body
    goes on from, without repeating it, is the article's first paragraph.
    """
    words = [w for w in paragraph_key(lead).split() if len(w) >= 4]
    have = set(paragraph_key(text).split())
    return bool(words) and sum(w in have for w in words) >= LEAD_RESTATED_SHARE * len(words)


def _has_lead(text: str, lead: str) -> bool:
    """Whether the extracted ``text`` holds the lead already (its first words, in order)."""
    head = " ".join(paragraph_key(lead).split()[:_LEAD_NEEDLE_WORDS + 2])
    return head in paragraph_key(text)


# Blocks that may be a teaser: a paragraph, a list item, a heading under the headline.
_TEASER_BLOCKS = (
    "//body//*[self::p or self::li or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
)
_NOT_A_PAGE = ("#", "javascript:", "mailto:", "tel:", "data:")


def _drop_teasers(tree: Any) -> None:
    """Remove blocks whose every word is a link to another page of the same site.

    Those are the site's related-story teasers, which sites put inside the article body as
    well as beside it: a paragraph that is one linked headline ("SEAN SPICER ELIMINATED FROM
    'DANCING WITH THE STARS'"), a card whose heading sits inside its link, a list of linked
    headlines under the story. The extractor keeps them when they sit among the article's
    paragraphs, and a briefing would then report another story. A link to another site (a
    shop in a deals post, a source, an embedded post) and a link within the page stay, and
    so does a block with any unlinked word. The site is the page's canonical URL (or
    og:url); without one, only relative links are known to be the site's.
    """
    site = _page_site(tree)
    above: list[Any] = []
    for block in tree.xpath(_TEASER_BLOCKS):
        if block.getparent() is None or not _is_teaser(block, site):
            continue
        card = _card(block)
        if card.getparent() is not None:  # not inside a card dropped already
            above.append(_label_above(card))
            card.drop_tree()
    for label in above:
        if label is not None and _is_label(label):
            label.drop_tree()


# A label over teasers ("Read also", "Schon gelesen?", "Das könnte Sie auch interessieren")
# is a few words, without a link or a full stop.
TEASER_LABEL_WORDS = 6


def _label_above(card: Any) -> Any:
    """The element right above a teaser card: itself, or above the wrapper that holds only
    the card (a quotation, a list); None when the card opens its container."""
    node = card
    for _ in range(3):
        previous = node.getprevious()
        while previous is not None and not isinstance(previous.tag, str):
            previous = previous.getprevious()  # a comment or a processing instruction
        if previous is not None:
            return previous
        parent = node.getparent()
        if parent is None or " ".join(parent.text_content().split()) != " ".join(
                node.text_content().split()):
            return None
        node = parent
    return None


def _is_label(element: Any) -> bool:
    """Whether ``element`` (above a teaser dropped) is the teasers' label: a short line of
    its own, no link in it, no full stop at its end; no page headline."""
    if element.getparent() is None or element.tag in ("h1", "img", "figure", "table"):
        return False
    text = " ".join(element.text_content().split())
    return (0 < len(text.split()) <= TEASER_LABEL_WORDS and not text.endswith(".")
            and not _xpath(".//a[@href] | .//img")(element))


# A teaser card's blurb under its linked heading is a line or two; a list's own item
# (a listicle's product and its review) says more.
TEASER_BLURB_WORDS = 25


def _card(teaser: Any) -> Any:
    """The list item a teaser heading heads, when the rest of it is a short blurb ("Pats
    place Olszewski on IR" over "New England's roster is re-shuffling"); else the teaser."""
    if teaser.tag not in ("h2", "h3", "h4", "h5", "h6"):
        return teaser
    item = next(iter(teaser.xpath("ancestor::li[1]")), None)
    if item is None:
        return teaser
    blurb = len(item.text_content().split()) - len(teaser.text_content().split())
    return item if blurb <= TEASER_BLURB_WORDS else teaser


# A label in front of a teaser's link ("Read also:", "À lire aussi »", "Lea también:",
# "<b>Czytaj też</b>"): a few words that end with a separator, or are set in bold.
_LABEL_WORDS = 4
_LABEL_END = re.compile(r"[:»›>|–—-]\s*$")
_BOLD = frozenset({"b", "strong"})


def _is_teaser(block: Any, site: str | None) -> bool:
    text = "".join(block.text_content().split())
    if not text:
        return False
    around = _xpath("ancestor::a[@href][1]")(block)
    if around:
        return _same_site(around[0].get("href"), site)
    links = _xpath(".//a[@href]")(block)
    if not links or not all(_same_site(a.get("href"), site) for a in links):
        return False
    linked = sum(len("".join(a.text_content().split())) for a in links)
    return linked >= len(text) or _labelled_link(block, links[0], linked)


def _labelled_link(block: Any, link: Any, linked: int) -> bool:
    """Whether ``block`` is a label, then links only: what comes before the first link is
    a few words ending with a separator or in bold, and nothing but punctuation follows."""
    before: list[str] = []
    bold = True
    for piece in _xpath(".//text()")(block):
        holder = piece.getparent()
        container = holder.getparent() if piece.is_tail else holder
        if container is None:
            return False
        chain = [container, *container.iterancestors()]
        if any(node is link for node in chain):
            break
        if piece.strip():
            before.append(str(piece))
            inside = chain[: chain.index(block)] if block in chain else []
            bold = bold and any(node.tag in _BOLD for node in inside)
    label = " ".join("".join(before).split())
    if not label or len(label.split()) > _LABEL_WORDS or len(label) > 40:
        return False
    after = len("".join(block.text_content().split())) - linked - len(label.replace(" ", ""))
    return (bool(_LABEL_END.search(label)) or bold) and after <= 2


# The markup social networks give publishers to embed a post: a blockquote with the post's
# text, which their script turns into a card.
_EMBEDDED_POSTS = (
    "//body//blockquote[contains(@class, 'twitter-tweet') or contains(@class, 'twitter-video')"
    " or contains(@class, 'instagram-media') or contains(@class, 'tiktok-embed')"
    " or contains(@class, 'bluesky-embed') or contains(@class, 'threads-post')]"
)
_EMBED_WRAPPERS = frozenset({"div", "figure", "span", "section", "aside"})


def _keep_embedded_posts(tree: Any) -> None:
    """Keep the posts an article embeds (tweets and the like) as the quotations they are.

    A story about what people posted quotes the posts, and readers and annotators count
    them as the article's text; but sites wrap them in containers named for social media,
    which the extractor drops with the share buttons. Each post's blockquote loses the
    embed's class and is lifted out of wrappers that hold nothing else (the embed script
    aside), so it is read like any quotation in the article.
    """
    for quote in tree.xpath(_EMBEDDED_POSTS):
        for name in list(quote.attrib):
            del quote.attrib[name]
        parent = quote.getparent()
        while parent is not None and _only_wraps(parent, quote):
            quote.tail = parent.tail
            parent.getparent().replace(parent, quote)
            parent = quote.getparent()


def _only_wraps(wrapper: Any, quote: Any) -> bool:
    """Whether ``wrapper`` holds ``quote`` and nothing a reader sees beside it."""
    others = [child for child in wrapper if child is not quote]
    loose_text = [wrapper.text or "", quote.tail or "", *(c.tail or "" for c in others)]
    return (
        wrapper.tag in _EMBED_WRAPPERS and wrapper.getparent() is not None
        and all(child.tag == "script" for child in others)
        and not "".join(loose_text).strip()
    )


@cache
def _xpath(expression: str) -> Any:
    """``expression`` compiled once (the teaser rule asks it of every block of a page)."""
    from lxml import etree

    return etree.XPath(expression)


def _page_site(tree: Any) -> str | None:
    """The registered domain of the page's canonical URL (or og:url), when it gives one."""
    for url in tree.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"):
        try:
            host = urlsplit(str(url).strip()).hostname
        except ValueError:
            continue
        if host:
            return registered_domain(host)
    return None


def _same_site(href: str | None, site: str | None) -> bool:
    """Whether ``href`` leads to another page of ``site`` (a relative link always does)."""
    href = (href or "").strip()
    if not href or href.lower().startswith(_NOT_A_PAGE):
        return False
    try:
        parts = urlsplit(href)
        host = parts.hostname
    except ValueError:
        return False
    if not parts.scheme and not parts.netloc:
        return True
    return bool(host and site and parts.scheme in ("http", "https", "")
                and registered_domain(host) == site)


def _meta(tree: Any, names: tuple[str, ...]) -> list[str]:
    """The contents of the page's ``<meta>`` elements of these property or name values."""
    return [m.get("content", "") for m in tree.xpath("//meta[@property or @name]")
            if (m.get("property") or m.get("name") or "").lower() in names]


def _titles(tree: Any) -> tuple[str, ...]:
    """The headline as the page gives it: <title>, og:title and twitter:title, each <h1>."""
    found: list[str] = []
    for text in (
        *tree.xpath("//head/title/text()"),
        *_meta(tree, _TITLE_META),
        *(h.text_content() for h in tree.xpath("//h1")[:3]),
    ):
        title = " ".join(str(text).split())
        if title and title not in found and len(title) <= 300:
            found.append(title)
    return tuple(found)


_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^<>]*>")


def _strip_tags(html: str) -> str:
    """Last resort when no parser could read the markup: tags out, text kept."""
    import html as html_lib

    return html_lib.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", html)))
