"""Issue 26: extraction keeps what the article says, on pages of every kind and language.

Small pages written here (no evaluation data): the lead a page's description points at, the
teasers a label introduces, furniture lines in several languages, and the lines those rules
must leave alone; quotes kept as written; every removal counted by its rule.
"""

from __future__ import annotations

import pytest

from service.preprocess import preprocess
from service.preprocess.boilerplate import boilerplate_rule
from service.preprocess.html import extract_page
from service.preprocess.prose import assess

_BODY = (
    "<p>The storm arrived shortly after midnight, bringing winds of more than 120 kilometres "
    "an hour to the islands.</p>"
    "<p>Emergency services said they had been called out more than 400 times by the morning, "
    "mostly to fallen trees.</p>"
    "<p>Schools in the region will stay closed until Wednesday, the ministry said in a "
    "statement on its website.</p>"
)


def _page(head: str, body: str) -> str:
    return (f"<html><head><title>Storm hits coast</title>"
            f'<link rel="canonical" href="https://example.org/news/storm">{head}</head>'
            f"<body><header><h1>Storm hits coast</h1></header>{body}</body></html>")


# -- the lead the description points at ------------------------------------------------------


def test_the_lead_that_the_description_names_is_kept() -> None:
    lead = ("Kiel – Ferry crews in the north were told to stay in port on Monday, and the "
            "island of Sylt was cut off for the day.")
    html = _page(
        '<meta name="description" content="Ferry crews in the north were told to stay in port '
        'on Monday, and the island…">',
        f'<div class="teaser"><p><b>Kiel</b> – Ferry crews in the north were told to stay in '
        f"port on Monday, and the island of Sylt was cut off for the day.</p></div>"
        f"<article>{_BODY}</article>",
    )
    text = extract_page(html).text
    assert text.splitlines()[0] == lead
    assert text.count("Ferry crews") == 1
    doc = preprocess(html, html=True)
    assert doc.paragraphs[0] == lead
    assert preprocess(doc.text).text == doc.text


def test_a_standfirst_that_the_body_restates_is_not_added() -> None:
    # A summary over the story (the body says it all): a deck in a paragraph.
    html = _page(
        '<meta name="description" content="The storm brought winds of more than 120 kilometres '
        'an hour, and schools in the region will stay closed.">',
        '<p class="standfirst">The storm brought winds of more than 120 kilometres an hour, and '
        "schools in the region will stay closed.</p>"
        f"<article>{_BODY}</article>",
    )
    text = extract_page(html).text
    assert "The storm brought" not in text
    assert text.startswith("The storm arrived")


def test_a_described_heading_or_link_is_no_lead() -> None:
    description = ("Ferry crews in the north were told to stay in port on Monday, and the "
                   "island of Sylt was cut off for the day.")
    for markup in (f"<h2>{description}</h2>", f'<p><a href="/news/storm">{description}</a></p>'):
        html = _page(f'<meta name="description" content="{description}">',
                     f"{markup}<article>{_BODY}</article>")
        assert "Ferry crews" not in extract_page(html).text


# -- teasers behind a label ------------------------------------------------------------------


def test_a_label_and_a_link_to_another_story_of_the_site_is_a_teaser() -> None:
    html = _page("", (
        f"<article>{_BODY}"
        '<p><b>LE PUEDE INTERESAR: <a href="https://www.example.org/otra/nota">La ficha del '
        "ministro en la corte de Nueva York</a></b></p>"
        '<p><strong>À lire aussi »</strong> <a href="/sante/ventre">Ballonnements, lourdeurs : '
        "quel est votre profil digestif ?</a></p>"
        '<p>Czytaj też: <a href="https://example.org/swiat/wyscig">Wyścig zbrojeń ruszył z '
        "kopyta</a></p>"
        '<p>He said <a href="/news/budget">the budget was wrong and would be rewritten</a>.</p>'
        '<p>Source: <a href="https://other.example.com/report">the annual report of the '
        "agency</a></p>"
        "<p><strong>Schon gelesen?</strong></p>"
        '<blockquote><p><a href="https://example.org/luftwaffe">Luftwaffe lässt Piloten in '
        "Italien ausbilden</a></p></blockquote>"
        "<p>The clean-up will take weeks, the mayor said on Tuesday at a press conference.</p>"
        "</article>"
    ))
    text = extract_page(html).text
    for teaser in ("LE PUEDE", "La ficha", "lire aussi", "Ballonnements", "Czytaj",
                   "Wyścig", "Schon gelesen", "Luftwaffe"):
        assert teaser not in text, teaser
    # a sentence with a link in it, and a link to another site, stay
    assert "He said the budget was wrong and would be rewritten." in text
    assert "Source: the annual report of the agency" in text
    assert "The clean-up will take weeks" in text


# -- furniture lines, in the languages of the pages ------------------------------------------


@pytest.mark.parametrize(("line", "rule"), [
    ("Czytaj też: Wyścig zbrojeń ruszył z kopyta", "link label"),
    ("Lea también: Impiden ingreso a Nicaragua a reportero", "link label"),
    ("À lire aussi » Ballonnements, lourdeurs", "link label"),
    ("Lesen Sie auch: Die Bahn erhöht die Preise", "link label"),
    ("Das könnte Sie auch interessieren", "call to action"),
    ("Weitere Artikel zum Thema", "call to action"),
    ("Te puede interesar", "call to action"),
    ("Crédits photos : Bestimage", "credit"),
    ("Fot. Jan Kowalski / Agencja", "credit"),
    ("Titelbild: Max Muster/Agentur", "credit"),
    ("Foto: dpa", "credit"),
    ("Copyright: Gisele Muster", "copyright"),
    ("Quelle: Deutscher Wetterdienst", "source line"),
])
def test_furniture_lines_in_other_languages_are_named(line: str, rule: str) -> None:
    assert boilerplate_rule(line) == rule


@pytest.mark.parametrize("line", [
    "Bilder zeigen die Zerstörung der Altstadt nach dem Sturm.",
    "Lesen Sie auch, was der Minister am Dienstag sagte.",
    "Ver también cómo respondió el gobierno es difícil.",
    "Fotos der Nacht zeigen, wie hoch das Wasser stand.",
    # a deal the story reports, with its price
    "Sign up for 4 months of Amazon Music Unlimited for just $1.",
    # the story with a credit in front of it
    "(c) Example Wie der Minister am Dienstag vergangener Woche in München erklärte, würde "
    "die Abgabe die geplanten Investitionen gefährden.",
])
def test_story_lines_are_not_furniture(line: str) -> None:
    assert boilerplate_rule(line) is None


def test_copyright_notices_of_short_sentences_are_still_furniture() -> None:
    assert boilerplate_rule("© 2020 Example Media. All rights reserved.") == "copyright"
    assert boilerplate_rule("Copyright 2020 The Press. All rights reserved. This material "
                            "may not be published, broadcast or rewritten.") == "copyright"


# -- what the text says, as written, and what went ------------------------------------------


def test_quotes_are_kept_as_written() -> None:
    text = ("Die „Krone“ zitiert heute meinen Beitrag. C’est la guerre, a-t-il dit. "
            "“I’m going to take some time,” she said.")
    assert preprocess(text).text == text


def test_every_removal_is_counted_by_its_rule() -> None:
    text = ("Storm hits coast\n\nThe storm arrived shortly after midnight, with strong winds."
            "\n\nAdvertisement\n\nFoto: dpa\n\nThe storm arrived shortly after midnight, with "
            "strong winds.\n\nSchools will stay closed until Wednesday, the ministry said.")
    doc = preprocess(text)
    counts = doc.stats.removed_by_rule
    assert sum(counts.values()) == len(doc.removed)
    assert counts["boilerplate: call to action"] == 1
    assert counts["boilerplate: credit"] == 1
    assert counts["exact duplicate"] == 1
    assert doc.stats.as_dict()["removed_by_rule"] == counts


def test_a_table_extracted_a_row_per_paragraph_is_a_table_beside_the_story() -> None:
    story = " ".join(
        f"Paragraph {n}: the council wrote to every member of parliament about the plan, and "
        "the answers it received were mixed, officials said on Monday." for n in range(6)
    )
    rows = "\n\n".join(f"| Town {n} | Member {n} | member.{n}@parliament.example |"
                       for n in range(60))
    verdict = assess(f"{story}\n\n| Constituency | Member | Email |\n\n{rows}")
    assert verdict.prose and verdict.kind == "table"


def test_prose_paragraphs_with_commas_are_no_table() -> None:
    # Chinese pages often write ASCII commas without a space: one-line paragraphs of such
    # prose are no table rows (only tabs and bars make a row).
    line = "在抗击疫情的日子里,封在城里的父母们总要小心翼翼回应着孩子的追问,生活依然要继续。"
    verdict = assess("\n\n".join([line] * 12))
    assert verdict.prose and verdict.kind is None
