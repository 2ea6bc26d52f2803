"""HTML input: find the article in a page and return it as plain text, one paragraph a line.

Navigation, footers, scripts, comments and sidebars are left behind by trafilatura's main-
content extraction; what remains still goes through repair, boilerplate rules and dedup.
"""

from __future__ import annotations

import re

__all__ = ["as_html_document", "decode_html", "extract_text", "looks_like_html"]

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


def extract_text(html: str) -> str:
    """The main text of an HTML page: paragraphs one per line, furniture left out.

    trafilatura refuses pages whose article is very short (a fragment such as
    ``<p>Rates rose.</p>``); their text is then taken whole, with scripts and styles dropped,
    so that nothing a user sent as HTML silently disappears.
    """
    import trafilatura  # only HTML requests pay for importing lxml and friends

    try:
        text = trafilatura.extract(
            html, include_comments=False, include_tables=True, deduplicate=False,
            with_metadata=False, output_format="txt",
        )
        if not text:
            text = trafilatura.html2txt(html)
    except Exception:  # a parser failure on hostile markup must not fail the request
        text = None
    return text or _strip_tags(html)


_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^<>]*>")


def _strip_tags(html: str) -> str:
    """Last resort when no parser could read the markup: tags out, text kept."""
    import html as html_lib

    return html_lib.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", html)))
