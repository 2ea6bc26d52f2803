"""Real pages as the API receives them: size limits per kind of body, charsets, extraction.

Small pages written here stand in for what news sites send; the 91 real pages of
``../shared/eval/pages`` are measured by bench/pages.py, never read by tests.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from service.preprocess.html import decode_html

HTML = {"Content-Type": "text/html"}

_PARAGRAPHS = (
    "<p>The city council voted on Tuesday to build a new bridge across the river, ending "
    "a debate that had lasted for more than a decade.</p>"
    "<p>The mayor said the bridge would open in 2027 and cost about 40 million euros.</p>"
    "<p>Opponents said the money should have gone to schools, and promised to keep "
    "fighting the plan in court.</p>"
)


def page(body: str = _PARAGRAPHS, head: str = "", padding: int = 0) -> str:
    """A small news page; ``padding`` bytes of markup (scripts) around the article."""
    script = f"<script>var data = '{'x' * padding}';</script>" if padding else ""
    return (f"<!doctype html><html><head>{head}<title>Council backs bridge</title></head>"
            f"<body>{script}<article>{body}</article></body></html>")


def _error(response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def test_a_page_larger_than_the_text_limit_is_accepted_up_to_the_html_limit(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(engine="extractive", max_body_bytes=2_000, max_html_body_bytes=20_000)
    big = page(padding=5_000).encode()
    assert 2_000 < len(big) < 20_000
    response = client.post("/v1/briefings", content=big, headers=HTML)
    assert response.status_code == 200, response.text
    assert "bridge" in response.json()["short"]


def test_every_413_names_the_setting_to_raise(make_client: Callable[..., TestClient]) -> None:
    client = make_client(engine="extractive", max_body_bytes=2_000, max_html_body_bytes=20_000)
    status, code, message = _error(
        client.post("/v1/briefings", content=page(padding=30_000).encode(), headers=HTML)
    )
    assert (status, code) == (413, "payload_too_large")
    assert "BRIEFING_MAX_HTML_BODY_BYTES" in message and "20000" in message
    status, code, message = _error(
        client.post("/v1/briefings", content=b"word " * 1_000,
                    headers={"Content-Type": "text/plain"})
    )
    assert (status, code) == (413, "payload_too_large")
    assert "BRIEFING_MAX_BODY_BYTES" in message
    status, code, message = _error(
        client.post("/v1/briefings", json={"text": "word " * 1_000})
    )
    assert (status, code) == (413, "payload_too_large")
    assert "BRIEFING_MAX_BODY_BYTES" in message


def test_a_page_declaring_its_charset_only_in_meta_is_decoded_with_it(
    extractive_client: TestClient,
) -> None:
    body = _PARAGRAPHS.replace("euros", "euros – “a fair price”, said Señor Müller")
    raw = page(body, head='<meta charset="windows-1252">').encode("cp1252")
    response = extractive_client.post("/v1/briefings", content=raw, headers=HTML)
    assert response.status_code == 200, response.text
    assert "Señor Müller" in response.json()["long"]


def test_decode_html_order_bom_header_meta_utf8_then_windows_1252() -> None:
    text = "<p>Café – “crème”</p>"
    assert decode_html(text.encode("utf-8"), None) == text
    assert decode_html(b"\xef\xbb\xbf" + text.encode(), None) == text  # BOM
    assert decode_html(text.encode("cp1252"), None) == text  # not UTF-8: the web's default
    http_equiv = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
    # ISO-8859-1 is read as windows-1252, as browsers do: 0x93 is a quote, not a control
    assert decode_html((http_equiv + text).encode("cp1252"), None) == http_equiv + text
    assert decode_html(text.encode("utf-16"), "utf-8") == text  # a BOM beats the header
    try:
        decode_html(text.encode("cp1252"), "utf-8")
    except UnicodeDecodeError:
        pass
    else:
        raise AssertionError("a declared charset that does not fit must be refused")


def test_a_page_whose_declared_charset_does_not_fit_is_a_clear_400(
    extractive_client: TestClient,
) -> None:
    raw = page().replace("euros", "€").encode("cp1252")
    status, code, message = _error(extractive_client.post(
        "/v1/briefings", content=raw, headers={"Content-Type": "text/html; charset=utf-8"}
    ))
    assert (status, code) == (400, "invalid_encoding")
    assert "charset" in message


def test_the_deck_under_the_headline_is_not_the_story() -> None:
    from service.preprocess import preprocess

    deck = "There are more ways to pay for a bridge than ever. Here is how to choose."
    page = (f'<html><head><meta name="description" content="{deck}"></head><body><article>'
            f"<h1>Bridges, bridges</h1><h2 class='sub-head'>{deck}</h2>{_PARAGRAPHS}"
            "</article></body></html>")
    doc = preprocess(page, html=True)
    assert deck not in doc.text
    assert doc.paragraphs[0].startswith("The city council voted on Tuesday")
    # a description that is the article's first paragraph stays
    first = "The city council voted on Tuesday to build a new bridge across the river, ending"
    lead_page = page.replace(f"<h2 class='sub-head'>{deck}</h2>", "").replace(
        f'content="{deck}"', f'content="{first}"')
    assert preprocess(lead_page, html=True).paragraphs[0].startswith(first)


_P1, _P2, _P3 = (p + "</p>" for p in _PARAGRAPHS.split("</p>")[:3])


def test_related_story_teasers_linked_to_the_same_site_are_left_out() -> None:
    from service.preprocess import preprocess

    canonical = '<link rel="canonical" href="https://news.example.com/2026/11/bridge.html">'
    teasers = (
        # a linked headline between paragraphs (absolute, same registered domain)
        '<p><strong><a href="https://www.example.com/2026/11/tunnel.html">'
        "TUNNEL PLAN SHELVED AFTER VOTE</a></strong></p>",
        # a card whose heading sits inside its link (relative)
        '<a href="/2026/11/ferry.html"><img src="/f.jpg"><h3>Ferry fares to rise in May</h3></a>',
        # a list of linked headlines under the story
        '<ul><li><a href="/a.html">Mayor opens new school</a></li>'
        '<li><a href="/b.html">Who will win the vote?</a></li></ul>',
    )
    body = _P1 + teasers[0] + _P2 + teasers[1] + _P3 + teasers[2]
    doc = preprocess(page(body, head=canonical), html=True)
    assert len(doc.paragraphs) == 3, doc.paragraphs
    for words in ("TUNNEL", "Ferry fares", "new school", "Who will win"):
        assert words not in doc.text


def test_a_teaser_cards_blurb_goes_with_it_but_a_listicles_review_stays() -> None:
    from service.preprocess import preprocess

    canonical = '<link rel="canonical" href="https://www.example.com/2026/11/bridge.html">'
    cards = ('<ul><li><h3><a href="/ferry.html">Ferry fares to rise</a></h3>'
             "<p>Operators blame the price of fuel.</p></li>"
             '<li><h3><a href="/school.html">School roof fixed</a></h3>'
             "<p>Pupils return on Monday.</p></li></ul>")
    review = ("The Harlow Rover is the lightest folding bike we tested this year, and its "
              "gears kept up on every hill of the route, though the saddle was hard and the "
              "rack rattled on cobbles, which matters on a daily commute through town.")
    listicle = (f'<ol><li><h2><a href="/reviews/rover.html">Harlow Rover</a></h2>'
                f"<p>{review}</p></li></ol>")
    doc = preprocess(page(_P1 + _P2 + _P3 + listicle + cards, head=canonical), html=True)
    assert "fuel" not in doc.text and "Pupils" not in doc.text  # cards, blurbs and all
    assert review in doc.text  # a list's own item says more than a blurb


def test_links_elsewhere_and_blocks_with_unlinked_words_stay() -> None:
    from service.preprocess import preprocess

    canonical = '<meta property="og:url" content="https://www.example.com/deals.html">'
    kept = (
        # a product in a deals post links to a shop: another site
        '<h2><a href="https://shop.example.org/kit">Bridge kit for $39.99</a></h2>',
        # a sentence with a link in it
        '<p>The plan is <a href="/plan.html">on the council site</a> for all to read.</p>',
        # a link within the page
        '<p><a href="#comments">Jump to the readers\' questions</a></p>',
    )
    doc = preprocess(page(_P1 + "".join(kept) + _P2, head=canonical), html=True)
    assert "Bridge kit for $39.99" in doc.text
    assert "on the council site for all to read" in doc.text
    assert "readers' questions" in doc.text
    # Without a canonical URL, an absolute link cannot be known to be the site's: it stays.
    absolute = '<p><a href="https://www.example.com/tunnel.html">Tunnel plan shelved</a></p>'
    assert "Tunnel plan shelved" in preprocess(page(_P1 + absolute + _P2), html=True).text
    relative = '<p><a href="/tunnel.html">Tunnel plan shelved</a></p>'
    assert "Tunnel plan shelved" not in preprocess(page(_P1 + relative + _P2), html=True).text


def test_embedded_posts_are_kept_as_quotations() -> None:
    from service.preprocess import preprocess

    post = ("The new bridge looks like a giant staple and I love it, said nobody at the "
            "council meeting tonight.")
    embed = ('<div class="social-media-embed"><blockquote class="twitter-tweet">'
             f'<p lang="en">{post}</p>— Ana Ruiz (@anaruiz) '
             '<a href="https://twitter.example/anaruiz/status/1">November 18, 2026</a>'
             '</blockquote><script async src="https://platform.twitter.example/w.js"></script>'
             "</div>")
    share = '<div class="social-share"><a href="/share">Share on social media</a></div>'
    doc = preprocess(page(_P1 + _P2 + embed + share + _P3), html=True)
    assert post in doc.text
    assert "Share on social media" not in doc.text
    assert doc.text.index(post) < doc.text.index("Opponents said the money")  # in its place


def test_prose_written_straight_into_a_section_is_read_as_a_paragraph() -> None:
    from service.preprocess import preprocess

    intro = ("We bring you the best bridge news of the week from every council in the "
             "county, updated daily.")
    body = (f'<section class="story">{intro} <em>Read on</em> for the rest.'
            f"<h2>Harlow</h2>{_PARAGRAPHS}"
            '<span itemprop="author">jdoe</span><span itemprop="date">2026-11-30</span>'
            "</section>")
    doc = preprocess(page(body), html=True)
    assert doc.paragraphs[0] == intro + " Read on for the rest."
    # Only prose gets a paragraph: a run of inline elements alone (metadata, icons) or a
    # few words of text are left as they are.
    import lxml.html

    from service.preprocess.html import _wrap_loose_text

    tree = lxml.html.fromstring(f"<html><body>{body.replace(intro, 'Updated daily.')}"
                                "</body></html>")
    before = len(tree.xpath("//p"))
    _wrap_loose_text(tree)
    assert len(tree.xpath("//p")) == before
    tree = lxml.html.fromstring(f"<html><body>{body}</body></html>")
    _wrap_loose_text(tree)
    assert len(tree.xpath("//p")) == before + 1
