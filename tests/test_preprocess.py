"""Preprocessing: golden values for each stage, the seed article, and properties on any text."""

from __future__ import annotations

import re

import ftfy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import service.preprocess as pp
from service.preprocess import Document, preprocess, split_sentences
from service.preprocess.boilerplate import boilerplate_rule
from service.preprocess.cleaner import _one_edit
from service.preprocess.dedup import (
    NearDuplicateIndex,
    containment,
    paragraph_key,
    repeats,
    shingles,
)
from service.preprocess.html import as_html_document, extract_text, looks_like_html
from service.preprocess.normalize import _FTFY_CONFIG, _fix_unicode, repair, split_paragraphs
from tests.conftest import SEED_ARTICLE
from tests.similarity import jaccard

# -- public API --------------------------------------------------------------------------------


def test_public_api_is_complete() -> None:
    for name in pp.__all__:
        assert hasattr(pp, name), name
    assert {"preprocess", "split_sentences", "PREPROCESS_VERSION"} <= set(pp.__all__)
    doc = preprocess("The council met on Monday. It agreed a budget.")
    assert isinstance(doc, Document)
    assert doc.text == "The council met on Monday. It agreed a budget."
    assert doc.paragraphs == [doc.text]
    assert doc.sentences == ["The council met on Monday.", "It agreed a budget."]
    stats = doc.stats.as_dict()
    for key in ("chars_in", "chars_out", "paragraphs_in", "paragraphs_out",
                "duplicates_removed", "exact_duplicates_removed", "near_duplicates_removed",
                "sentence_duplicates_removed", "boilerplate_removed", "sentences"):
        assert key in stats, key
    assert split_sentences is pp.split_sentences


# -- 1. repair ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("The deal is worth â‚¬78bn", "The deal is worth €78bn"),  # UTF-8 read as cp1252
        ("He didnâ€™t say", "He didn\u2019t say"),
        ("CafÃ© owners", "Café owners"),
        ("AT&amp;T and &quot;Verizon&quot;", 'AT&T and "Verizon"'),
        ("double &amp;amp; escaped", "double & escaped"),  # a fixed point, not one level
        ("cafe\u0301", "caf\u00e9"),  # NFC
        ("ﬁnal ＬＯＵＤ", "final LOUD"),  # ligature, full width
        ("a\u00a0\u2009\u3000b\tc", "a b c"),  # odd spaces
        ("The mayor spoke.\x00\x07\x1b Then she left.", "The mayor spoke. Then she left."),
        ("\u202eThe council\u202c met\u200b.", "The council met."),  # bidi, zero width
        ("\ufeffBOM first", "BOM first"),
        ("one\r\ntwo\rthree\u2028four", "one\ntwo\nthree\nfour"),
        ("p1\u2029p2", "p1\n\np2"),
        ("  spaced   out  \n\n\n\n next ", "spaced out\n\nnext"),
        # quotes are kept as written (a page's snippet must still be found in its text)
        ("\u201cCurly\u201d \u2018quotes\u2019 \u201eGerman\u201c",
         "\u201cCurly\u201d \u2018quotes\u2019 \u201eGerman\u201c"),
    ],
)
def test_repair_golden(raw: str, clean: str) -> None:
    assert repair(raw).text == clean


def test_repair_counts_what_it_did() -> None:
    result = repair("Worth â‚¬78bn\nfine line\nbad\x00\x01 line\u200b")
    assert result.lines_repaired == 1
    assert result.control_chars_removed == 3
    assert repair("plain text").lines_repaired == 0


_SAFE = "\t !\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u00a0\u02bc\u2018\u2019\u201a\u201b" \
        "\u201c\u201d\u201e\u201f\u2013\u2014\u2026"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_SAFE, max_size=60))
def test_ftfy_shortcut_gives_ftfys_answer(text: str) -> None:
    assert _fix_unicode(text) == ftfy.fix_text(text, _FTFY_CONFIG)


# -- 2. paragraphs ----------------------------------------------------------------------------


def test_split_paragraphs_lines_blocks_and_wrapping() -> None:
    text = (
        "A title line\n"
        "The first paragraph is on one line.\n"
        "Advertisement\n"
        "The second one\n"
        "wraps onto a lower-case line.\n\n"
        "This block is hard-wrapped at a fixed width as an e-mail\n"
        "would do it, so every line but the last stops in the\n"
        "middle of a sentence and Capitalised words start lines\n"
        "too.\n\n"
        "Last."
    )
    assert split_paragraphs(text) == [
        "A title line",
        "The first paragraph is on one line.",
        "Advertisement",
        "The second one wraps onto a lower-case line.",
        "This block is hard-wrapped at a fixed width as an e-mail would do it, so every "
        "line but the last stops in the middle of a sentence and Capitalised words start "
        "lines too.",
        "Last.",
    ]


# -- 3. HTML --------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><title>Rates rise</title><script>var a=1;</script></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/biz">Business</a></nav>
<article><h1>Central bank raises rates to a ten-year high</h1>
<p>The central bank raised its main interest rate by half a point on Tuesday, the biggest
increase in a decade, as inflation stayed well above its target.</p>
<div class="ad">Advertisement</div>
<p>Economists had expected a smaller rise &amp; said the decision showed how worried the
bank had become about prices of food and energy.</p>
<p>Read more: <a href="/x">Inflation hits 5% as food prices soar</a></p>
<p>The governor said further increases could not be ruled out if wages kept rising fast.</p>
</article>
<footer><p>&copy; 2024 Example News Ltd. All rights reserved.</p>
<a href="/privacy">Privacy policy</a></footer></body></html>"""


def test_html_page_is_cut_to_its_article() -> None:
    doc = preprocess(PAGE)
    assert doc.stats.html is True
    # the headline (the page's <h1>) is not the story's first sentence
    assert doc.paragraphs[0].startswith("The central bank raised its main interest rate")
    assert "Central bank raises rates to a ten-year high" not in doc.text
    assert "Economists had expected a smaller rise & said" in doc.text
    assert "further increases could not be ruled out" in doc.text
    for furniture in ("Advertisement", "Read more", "Privacy", "rights reserved", "var a",
                      "Business"):
        assert furniture not in doc.text, furniture


@pytest.mark.parametrize(
    ("text", "is_html"),
    [
        (PAGE, True),
        ("<html><script>alert(1)</script><p>The bank raised rates.</p></html>", True),
        ("<p>One.</p>\n<p>Two.</p>", True),
        ("<div><p>Nested</p></div>", True),
        ("The <b>bold</b> claim that 3 < 4 and 5 > 2.", False),
        ("Use the <p> tag for paragraphs and <br> for breaks.", False),
        ("Plain prose.", False),
        ("", False),
    ],
)
def test_looks_like_html(text: str, is_html: bool) -> None:
    assert looks_like_html(text) is is_html


def test_html_fragments_and_forcing() -> None:
    assert preprocess("<html><script>alert(1)</script><p>The bank raised rates.</p></html>"
                      ).text == "The bank raised rates."
    fragment = as_html_document("Rates rose <b>sharply</b> &amp; fast.")
    assert looks_like_html(fragment)
    assert preprocess(fragment).text == "Rates rose sharply & fast."
    assert as_html_document(PAGE) is PAGE
    # html=False: text that looks like HTML is taken as text (tags kept).
    assert "<p>" in preprocess("<p>One.</p>\n<p>Two.</p>", html=False).text
    assert preprocess("Plain prose here.", html=True).text == "Plain prose here."
    assert extract_text("<html><body></body></html>").strip() == ""


# -- 4. boilerplate -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("Advertisement", "call to action"),
        ("ADVERTISEMENT", "call to action"),
        ("Story continues below advertisement", "call to action"),
        ("Share this article", "call to action"),
        ("Comments (12)", "call to action"),
        ("Media playback is unsupported on your device", "call to action"),
        ("Read more: NATO warns allies over shell stocks", "link label"),
        ("RELATED | Ukraine asks for more air defence", "link label"),
        ("Read more: Rates rise for the fifth time this year.", "link label"),
        ("Advertisement - Scroll to continue", "call to action"),
        ("Watch | The moment the bridge fell", "link label"),
        ("Sign up for our Morning Briefing newsletter.", "newsletter"),
        ("Get the best of the news in your inbox: sign up for our newsletter", "newsletter"),
        ("Subscribe for full access", "subscribe"),
        ("Follow us on Twitter @NewsDesk", "social"),
        ("Follow BBC Wales on Facebook", "social"),
        ("Share on Reddit", "share"),
        ("Email this story", "share"),
        ("Click here for more news", "click here"),
        ("The article continues after this message", "continues below"),
        ("Image copyright Getty Images", "credit"),
        ("Photo: AP", "credit"),
        ("© 2024 Example Media Ltd", "copyright"),
        ("Copyright 2024 The Daily Example. All rights reserved.", "copyright"),
        ("Published 10:32 GMT, 5 May 2024", "dateline"),
        ("Updated: 3 hours ago", "dateline"),
        ("5 min read", "reading time"),
        ("24 comments", "comment count"),
        ("* * *", "separator"),
        ("By Jane Smith", "byline"),
        ("By Tom Lee and Ana Ruiz, Political Reporters", "byline"),
        ("Minister quits over expenses row [LATEST]", "teaser"),
        ("Flood waters rise at the harbour on Sunday.Reuters", "caption"),
        ("A fisherman mends his net in the port. REUTERS/Ana Lopez", "caption"),
        ("The Morning Catch Newsletter", "newsletter"),
        ("Thanks for signing up!", "signup message"),
        ("Check your inbox to confirm your address.", "signup message"),
        ("If you buy something through our links, we may earn a commission.", "affiliate"),
        ("Comments that are abusive or off-topic will not be approved.", "comment policy"),
        ("Comentários ofensivos não serão aprovados pelo moderador.", "comment policy"),
        ("We use cookies to give you the best experience.", "cookie notice"),
        ("GET THE NEWS APP BY CLICKING HERE", "shouted call to action"),
        ("SEE MORE: Storm leaves thousands without power", "link label"),
        ("Also on Example News: the best beaches this summer", "link label"),
        ("Most read in business", "most read"),
        ("Explore further", "call to action"),
        ("Filed under: Politics |", "filed under"),
        ("SOURCE: News agencies", "source line"),
        ("Additional reporting by Tom Lee", "reporting credit"),
        ("Have a tip? Ana Ruiz can be reached at ana@example.com.", "contact line"),
        ("To order presentation-ready copies for distribution, visit example.com.", "ordering"),
        ("Follow our full coverage of the election at https://example.com/vote", "coverage link"),
        ("Listen to the show live at 9:00 weekdays - or listen back here.", "listen line"),
        ("UPDATED: Tue., Nov. 19, 2019", "dateline"),
        ("Updated at 1:23 p.m.", "dateline"),
        ("5:45 AM PST 11/19/2019 by Ana Ruiz", "timestamp"),
        ("2019-11-19T08:57:40+01:00", "timestamp"),
        ("Tempo de leitura: 2 minutos", "reading time"),
        ("Staff Reports", "call to action"),
        ("BAAR, SWITZERLAND", "dateline"),
        ("The lamps in the hall, installation views, photos © Studio Ruiz, 2018", "credit"),
        ("1 May | 20 June 2019 copyright Example Press 2019 - ISSN: 1234-5678", "copyright"),
        ("If you enjoyed this article, join our members' club today.", "subscription pitch"),
    ],
)
def test_furniture_lines_are_named(line: str, rule: str) -> None:
    assert boilerplate_rule(line) == rule


@pytest.mark.parametrize(
    "sentence",
    [
        "Share prices fell 3% on Monday.",
        "More than 10,000 people signed up for the newsletter in its first week.",
        "Subscribers rose 5%.",
        "By Tuesday the council had agreed.",
        "Follow the money, she said.",
        "Follow us on this path.",
        "More: the minister said he would resign.",
        "Photos taken by the drone showed damage.",
        "The advertisement was banned by the regulator.",
        "Print sales fell again.",
        "Print on demand sales fell.",
        "Email records show the meeting took place.",
        "Home prices rose 5% in May.",
        "Search teams found the boat on Monday.",
        "Copyright lawyers say the ruling matters.",
        "Updated 2024 figures show growth.",
        "Updated guidance was published on 5 May 2024.",
        "Find us a solution, he demanded.",
        "Join us in welcoming the new head.",
        "Latest: Police say two people have died.",
        "The story continues below the fold of the newspaper.",
        "Sign up rates for the scheme were low, the report said.",
        "In 2015 the club was sold.",
        '"Read more: that is what I tell my students," she said.',
        "😀🎉🔥",
        "The police told Reuters.",
        "He said the plan, backed by the AP, would pass.",
        "Sources said the deal was close.",
        "If you like the plan, join us, he said.",
        "Comments by the minister were approved by the cabinet and later published.",
        "The newsletter, launched in 2019, has 40,000 readers.",
        "Listen to what the voters are saying here, she urged the committee.",
        "NATO and the EU met in Brussels.",
        "Ten people died in the fire [on Monday], officials said.",
        "WHO IS THE FRONT-RUNNER?",  # a subhead set in capitals is text
        "GIRLS BASKETBALL",
    ],
)
def test_story_sentences_are_never_furniture(sentence: str) -> None:
    assert boilerplate_rule(sentence) is None
    assert boilerplate_rule(sentence, standalone=False) is None


def test_boilerplate_lines_and_sentences_are_removed() -> None:
    text = (
        "Council approves budget for new schools\n\n"
        "By Jane Smith\n"
        "The council approved a budget of £4m for two new schools on Monday.\n\n"
        "Advertisement\n\n"
        "Building will start in spring and finish by 2027, officials said. "
        "Read more: Town hall to close early\n\n"
        "Sign up for our daily newsletter."
    )
    doc = preprocess(text)
    assert doc.paragraphs == [
        "The council approved a budget of £4m for two new schools on Monday.",
        "Building will start in spring and finish by 2027, officials said.",
    ]
    assert doc.stats.boilerplate_removed == 5
    reasons = [r.reason for r in doc.removed]
    assert reasons == ["boilerplate: byline", "boilerplate: call to action",
                       "boilerplate: newsletter", "boilerplate: headline (a first line)",
                       "boilerplate: link label"]


def test_repeated_short_labels_are_said_once_but_not_the_title() -> None:
    # A short line said three times or more is kept once: the first copy is judged as any
    # line is (a plan's "Eat every 2-3 hours" under each day is the article's own), the
    # later ones go as a repeated label.
    body = [f"Paragraph number {n} says something different about the flood." for n in range(4)]
    text = "\n\n".join(["Flood hits the valley town"]
                       + [p + "\n\nPicture agency" for p in body] + ["Flood hits the valley town"])
    doc = preprocess(text)
    assert doc.text.count("Picture agency") == 1
    assert [r.reason for r in doc.removed if r.text == "Picture agency"] == [
        "boilerplate: repeated label"] * 3
    assert doc.stats.removed_by_rule["boilerplate: repeated label"] == 3
    assert preprocess(doc.text).text == doc.text
    reasons = {r.reason for r in doc.removed if r.text == "Flood hits the valley town"}
    assert reasons == {"boilerplate: headline (a first line)", "boilerplate: headline (repeated)"}
    assert doc.paragraphs[0] == body[0]


# -- 5. dedup -------------------------------------------------------------------------------


def test_paragraph_key_ignores_case_punctuation_and_spacing() -> None:
    assert paragraph_key("The  Council, met!") == paragraph_key("the council met")
    assert paragraph_key("😀🎉") == "😀🎉"


def test_words_keep_their_combining_marks() -> None:
    # Hindi's vowel signs and virama, Arabic's short vowels and Thai's vowels are marks: a
    # word is not cut at them (Python's re did, so "हिन्दी" was three one-letter "words").
    assert paragraph_key("हिन्दी भाषा") == "हिन्दी भाषा"
    assert paragraph_key("كَتَبَ الوَلَدُ") == "كَتَبَ الوَلَدُ"
    assert paragraph_key("ภาษาไทย ง่าย") == "ภาษาไทย ง่าย"


@pytest.mark.parametrize("first, second", [
    ("أَحْبِبْ صَدِيقَكَ قَلِيلًا فَرُبَّمَا يَصِيرُ عَدُوَّكَ فِي يَوْمٍ مِنَ الأَيَّامِ",
     "وَاكْرَهْ عَدُوَّكَ قَلِيلًا فَرُبَّمَا يَصِيرُ صَدِيقَكَ فِي يَوْمٍ مِنَ الأَيَّامِ"),
    ("अपने मित्र से थोड़ा प्रेम करो क्योंकि वह किसी दिन तुम्हारा शत्रु बन सकता है।",
     "अपने शत्रु से थोड़ा बैर करो क्योंकि वह किसी दिन तुम्हारा मित्र बन सकता है।"),
])
def test_lines_that_differ_in_words_are_not_near_duplicates_in_any_script(
    first: str, second: str
) -> None:
    # Two lines of a saying with their words swapped: letter pairs alike, word pairs not.
    doc = preprocess(f"{first}\n\n{second}")
    assert doc.paragraphs == [first, second]
    # An exact repeat is still one.
    assert preprocess(f"{first}\n\n{second}\n\n{first}").paragraphs == [first, second]


def test_shingles_and_jaccard() -> None:
    assert shingles("a b c") == frozenset({"a b", "b c"})
    assert shingles("a b c d", 3) == frozenset({"a b c", "b c d"})
    assert shingles("a") == frozenset({"a"})
    assert shingles("") == frozenset()
    assert jaccard(shingles("a b c d"), shingles("a b c d")) == 1.0
    assert jaccard(shingles("a b c d"), shingles("a b c e")) == pytest.approx(2 / 4)


def test_near_duplicate_index_is_exact() -> None:
    index = NearDuplicateIndex(0.6)
    for key in ("w x y z", "a b c d e f", "p q r s t u v"):
        index.add(shingles(key))
    assert index.find(shingles("a b c d e g")) == 1  # 4 of its 5 bigrams are in set 1
    assert index.find(shingles("b c d")) == 1  # a part of an earlier text
    assert index.find(shingles("a b c d e f g h i j k")) is None  # an extension: new text
    assert index.find(shingles("a b x d e y")) is None
    assert index.find(frozenset()) is None
    # Brute force agrees on every pair of a small family.
    keys = ["a b c d", "a b c", "b c d e", "a c b d", "d c b a", "a b c d e", "x a b c d y z"]
    for t in (0.3, 0.5, 0.7, 1.0):
        idx = NearDuplicateIndex(t)
        for k in keys:
            idx.add(shingles(k))
        for q in keys + ["c d e f", "z y x"]:
            brute = [i for i, k in enumerate(keys) if repeats(shingles(q), shingles(k), t)]
            assert idx.find(shingles(q)) == (brute[0] if brute else None), (t, q)
    assert containment(shingles("a b c"), shingles("a b c d")) == 1.0


def test_near_duplicate_paragraph_is_removed_but_an_extension_stays() -> None:
    first = ("Police said the man, who is 34, was arrested at his home in Leeds on Friday "
             "and later charged with two counts of fraud.")
    edited = ("Police said the man, who is 34, was arrested at his home in Leeds on Friday "
              "and charged with two counts of fraud.")  # a word dropped
    other = ("Police said the woman, who is 29, was released from custody in York on Monday "
             "without charge after questioning.")
    doc = preprocess("\n\n".join([first, other, edited]))
    assert doc.paragraphs == [first, other]
    assert doc.stats.near_duplicates_removed == 1
    assert doc.removed[0].reason == "near duplicate (95% in an earlier paragraph)"
    extension = first[:-1] + (", a spokesman for West Yorkshire Police told reporters outside "
                              "the court, adding that a second man had been released on bail.")
    assert preprocess(f"{first}\n\n{extension}").paragraphs == [first, extension]


def test_exact_repeats_are_removed_first_kept_in_order() -> None:
    text = ("The river burst its banks on Sunday night.\n\n"
            "Hundreds of homes were flooded, the council said.\n\n"
            "The River Burst Its Banks On Sunday Night\n\n"
            "the river  burst its banks, on Sunday night!")
    doc = preprocess(text)
    assert doc.paragraphs == ["The river burst its banks on Sunday night.",
                              "Hundreds of homes were flooded, the council said."]
    assert (doc.stats.exact_duplicates_removed, doc.stats.duplicates_removed) == (2, 2)


def test_distinct_templated_sentences_are_kept() -> None:
    a = "The 24-year-old joined Leeds in 2015 on a three-year deal."
    b = "The 22-year-old joined Hull in 2017 on a two-year deal."
    assert preprocess(f"{a}\n\n{b}").paragraphs == [a, b]


def test_templated_lines_with_other_names_or_numbers_are_new() -> None:
    lines = [
        "Mohamed Salah (Egypt) wins a free kick in the defensive half.",
        "Ali Gabr (Egypt) wins a free kick in the defensive half.",
        "Police said 12 people were hurt in the crash on the motorway near Leeds.",
        "Police said 13 people were hurt in the crash on the motorway near Leeds.",
    ]
    assert preprocess("\n\n".join(lines)).paragraphs == lines
    # A name misspelt by one letter is the same name: the copy goes.
    first = "Mr Janner was charged by police on Friday after a long inquiry into claims."
    typo = "Mr Jannre was charged by police on Friday after a long inquiry into claims."
    assert preprocess(f"{first}\n\n{typo}").paragraphs == [first]
    assert _one_edit("janner", "jannre") and _one_edit("janner", "janer")
    assert not _one_edit("salah", "gabr") and not _one_edit("cat", "cut")


def test_story_text_in_front_of_furniture_is_kept() -> None:
    doc = preprocess("Survivors include his wife and a granddaughter. "
                     "©2015 The Hollywood Reporter. All rights reserved.")
    assert doc.text == "Survivors include his wife and a granddaughter."
    doc = preprocess("Scroll down for video A new graph reveals the favourite teams. "
                     "Media playback is unsupported on your device Fans voted online.")
    assert doc.sentences == ["A new graph reveals the favourite teams.", "Fans voted online."]
    assert doc.stats.boilerplate_removed == 2


def test_repeated_sentences_inside_new_paragraphs_are_cut() -> None:
    text = ("The mayor resigned on Tuesday after a vote of no confidence.\n\n"
            "The mayor resigned on Tuesday after a vote of no confidence. Her deputy takes "
            "over until an election in May.\n\n"
            "He said no. The vote was close.\n\n"
            "He said no. The result surprised many councillors.")
    doc = preprocess(text)
    assert doc.paragraphs == [
        "The mayor resigned on Tuesday after a vote of no confidence.",
        "Her deputy takes over until an election in May.",
        "He said no. The vote was close.",
        "He said no. The result surprised many councillors.",  # short sentences stay
    ]
    assert doc.stats.sentence_duplicates_removed == 1


def test_whole_article_repeated_as_one_block_is_removed() -> None:
    paragraphs = [
        "Storm Ciara brought winds of up to 90mph to the coast on Sunday.",
        "Trains were cancelled across the north and thousands lost power.",
        "Forecasters expect the wind to ease by Tuesday afternoon.",
    ]
    text = "\n\n".join(paragraphs) + "\n\n" + " ".join(paragraphs)
    doc = preprocess(text)
    assert doc.paragraphs == paragraphs
    assert doc.stats.duplicates_removed == 1
    assert doc.removed[-1].reason == "repeats earlier sentences"


def test_title_glued_to_the_text_is_cut() -> None:
    title = "Storm Ciara batters the coast"
    text = f"{title}\n\n{title} Storm Ciara brought winds of up to 90mph on Sunday."
    doc = preprocess(text)
    assert doc.paragraphs == ["Storm Ciara brought winds of up to 90mph on Sunday."]
    assert doc.stats.title_repeats_removed == 1
    # A first sentence that starts with the headline's words stays whole.
    lead = f"{title}, forecasters said on Sunday as winds reached 90mph."
    assert preprocess(f"{title}\n\n{lead}").paragraphs == [lead]


def test_emoji_only_and_empty_text() -> None:
    assert preprocess("😀🎉🔥").sentences == ["😀🎉🔥"]
    for blank in ("", " \n\n\t\u00a0 ", "\x00\u200b"):
        doc = preprocess(blank)
        assert (doc.text, doc.paragraphs, doc.sentences) == ("", [], [])


def test_seed_article_title_once_and_body_once() -> None:
    doc = preprocess(SEED_ARTICLE)
    stats = doc.stats
    # the title twice (as the headline, then repeated) and the body twice
    assert (stats.paragraphs_in, stats.paragraphs_out, stats.duplicates_removed) == (22, 10, 10)
    assert stats.exact_duplicates_removed == 10 and stats.boilerplate_removed == 2
    assert doc.text.count("NATO's secretary general has urged allies") == 0
    assert doc.paragraphs[0].startswith("NATO allies need to sign more contracts")
    assert "\u00a0" not in doc.text
    assert preprocess(doc.text).text == doc.text


# -- properties -----------------------------------------------------------------------------

_PIECES = (
    "The council said. Mr. Smith went home! Is it? Advertisement Read more: Share this "
    "\u2019 \u201c caf\u00e9 \u00e2\u20ac\u2122 &amp; \u00a0 a.Bc community.Dr Venter 5 p.m. "
    "\u00c3\u00a9 \t \x00 \u200b By Jane Smith Sign up for our newsletter police arrested a "
    "man on Friday in Leeds <p> </p> ... * 2024 © 😀"
).split(" ")
_dirty = st.lists(
    st.one_of(st.sampled_from(_PIECES), st.sampled_from(["\n", "\n\n", "\r\n", " "])),
    max_size=50,
).map(" ".join)
_any_text = st.one_of(st.text(max_size=300), _dirty)
_WORD = re.compile(r"\w+")
_PROPERTY = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY
@given(_any_text)
def test_never_raises_and_is_consistent(text: str) -> None:
    doc = preprocess(text)
    assert doc.text == "\n\n".join(doc.paragraphs)
    assert doc.stats.paragraphs_out == len(doc.paragraphs)
    assert doc.stats.sentences == len(doc.sentences)
    assert doc.stats.chars_out == len(doc.text)
    assert all(p and "\n" not in p for p in doc.paragraphs)


@_PROPERTY
@given(_any_text)
def test_idempotent(text: str) -> None:
    once = preprocess(text).text
    assert preprocess(once).text == once


@_PROPERTY
@given(_any_text)
def test_never_invents_text(text: str) -> None:
    source = set(_WORD.findall(repair(text).text))
    for word in _WORD.findall(preprocess(text, html=False).text):
        assert word in source


@_PROPERTY
@given(st.lists(st.sampled_from([
    "The river burst its banks on Sunday night.",
    "Hundreds of homes were flooded, the council said.",
    "Rescue teams worked through the night to reach stranded families.",
    "Advertisement",
    "Read more: Flood warnings issued for the north",
]), min_size=1, max_size=12))
def test_every_repeat_goes_and_every_sentence_stays_once(paragraphs: list[str]) -> None:
    doc = preprocess("\n\n".join(paragraphs))
    story = {p for p in paragraphs if boilerplate_rule(p) is None}
    assert sorted(doc.paragraphs) == sorted(story)


# -- the API and the CLI ------------------------------------------------------------------


def test_api_takes_html_and_reports_the_stats(extractive_client) -> None:
    response = extractive_client.post(
        "/v1/briefings", content=PAGE.encode(), headers={"Content-Type": "text/html"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["input"]["html"] is True
    assert "Advertisement" not in body["long"] and "central bank" in body["long"].lower()
    fragment = extractive_client.post(
        "/v1/briefings",
        content=b"The bank raised rates <b>again</b> on Tuesday &amp; said more would follow.",
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    assert fragment.status_code == 200
    assert fragment.json()["long"] == (
        "The bank raised rates again on Tuesday & said more would follow.")
    seed = extractive_client.post("/v1/briefings", content=SEED_ARTICLE,
                                  headers={"Content-Type": "text/plain"}).json()["input"]
    assert (seed["paragraphs_in"], seed["paragraphs_out"], seed["duplicates_removed"]) == (
        22, 10, 10)
    assert seed["boilerplate_removed"] == 2 and seed["html"] is False


def test_cli_preprocess_json_says_what_was_removed(capsys, tmp_path) -> None:
    import json

    from service.cli import main

    path = tmp_path / "page.txt"
    path.write_text("Rates rise again\n\nAdvertisement\n\nThe bank raised rates on Tuesday.\n")
    assert main(["preprocess", "--json", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["text"] == "Rates rise again\n\nThe bank raised rates on Tuesday."
    assert out["removed"] == [{"reason": "boilerplate: call to action", "text": "Advertisement"}]
    assert out["stats"]["boilerplate_removed"] == 1
    html = tmp_path / "page.html"
    html.write_text("<p>Rates rose.</p>")
    assert main(["preprocess", "--text", str(html)]) == 0
    assert capsys.readouterr().out.startswith("<p>Rates rose.")
    assert main(["preprocess", "--html", str(html)]) == 0
    assert capsys.readouterr().out.strip() == "Rates rose."


# -- headlines ------------------------------------------------------------------------------

_LEAD = "The city council voted on Tuesday to build a new bridge across the river."
_MORE = "The mayor said work would start in the spring and end by 2027."


@pytest.mark.parametrize(
    "headline",
    [
        "Council backs new bridge",
        "Will the new bridge ever be built?",
        "Bridge at last!",
        'Mayor on the new bridge: "We did it"',
        "Council backs new bridge…",
    ],
)
def test_a_first_line_that_reads_as_a_headline_is_removed(headline: str) -> None:
    doc = preprocess(f"{headline}\n\n{_LEAD}\n\n{_MORE}")
    assert doc.paragraphs == [_LEAD, _MORE]
    assert doc.removed[0].reason == "boilerplate: headline (a first line)"
    assert preprocess(doc.text).text == doc.text


def test_a_kicker_and_a_headline_go_before_the_prose() -> None:
    doc = preprocess(f"Transport\n\nCouncil backs new bridge\n\n{_LEAD}")
    assert doc.paragraphs == [_LEAD]


def test_a_question_that_opens_the_story_stays_when_the_title_is_known() -> None:
    question = "Remember the city's long quest to build a bridge?"
    text = f"Council backs new bridge\n\n{question}\n\n{_LEAD}"
    doc = preprocess(text, title="Council backs new bridge")
    assert doc.paragraphs == [question, _LEAD]


def test_nothing_is_guessed_when_the_title_is_known_but_not_in_the_text() -> None:
    # The request or the page named its headline and the text does not have it: the first
    # line is the story's, whatever it looks like (a question lede, a product line).
    for first in ("Remember the city's long quest to build a bridge?",
                  "Bridge kit for $39.99", "Tested by: Ana Ruiz | Price: 40 euros"):
        doc = preprocess(f"{first}\n\n{_LEAD}\n\n{_MORE}", title="Council backs new bridge")
        assert doc.paragraphs == [first, _LEAD, _MORE], first
        page = (f"<html><head><title>Council backs new bridge | Example News</title></head>"
                f"<body><article><p>{first}</p><p>{_LEAD}</p><p>{_MORE}</p></article>"
                "</body></html>")
        assert preprocess(page, html=True).paragraphs == [first, _LEAD, _MORE], first
    # Without a title, such a first line is taken for the headline.
    assert preprocess(f"Bridge kit for $39.99\n\n{_LEAD}").paragraphs == [_LEAD]
    # The title reworded is still the headline: most of its words are the title's.
    doc = preprocess(f"Council backs the bridge at last\n\n{_LEAD}",
                     title="At last, the council backs a new bridge")
    assert doc.paragraphs == [_LEAD]
    assert doc.removed[0].reason == "boilerplate: headline (like the title)"


def test_two_sentences_are_not_a_headline() -> None:
    first = "This post was sponsored by a bridge company. All opinions are mine #ad"
    assert preprocess(f"{first}\n\n{_LEAD}").paragraphs == [first, _LEAD]


def test_first_lines_that_are_not_a_headline_stay() -> None:
    # prose first
    assert preprocess(f"{_LEAD}\n\n{_MORE}").paragraphs == [_LEAD, _MORE]
    # a line that announces what follows, and a short line before more short lines
    listing = "Here is what the council decided:\n\nA new bridge\n\nTwo schools"
    assert preprocess(listing).paragraphs == listing.split("\n\n")


def test_the_request_title_is_removed_wherever_it_leads() -> None:
    text = f"Council votes for bridge, ending decade of debate\n\n{_LEAD}\n\n{_MORE}"
    doc = preprocess(text, title="Council votes for bridge, ending decade of debate")
    assert doc.paragraphs == [_LEAD, _MORE]
    assert doc.removed[0].reason == "boilerplate: headline (the title)"
    # a title the text does not start with removes nothing else
    assert preprocess(f"{_LEAD}\n\n{_MORE}", title="Something else").paragraphs == [_LEAD, _MORE]


def test_the_page_title_og_title_and_h1_are_the_headline() -> None:
    for head, body_head in [
        ("<title>Council votes for bridge, ending debate | City | Example News</title>", ""),
        ('<meta property="og:title" content="Council votes for bridge, ending debate">', ""),
        ("", "<h1>Council votes for bridge, ending debate</h1>"),
    ]:
        page = (f"<html><head>{head}</head><body><article>{body_head}"
                "<p>Transport</p><p>Council votes for bridge, ending debate.</p>"
                f"<p>{_LEAD}</p><p>{_MORE}</p></article></body></html>")
        doc = preprocess(page, html=True)
        assert doc.paragraphs == [_LEAD, _MORE], head or body_head


def test_hidden_pop_up_cards_are_not_glued_into_the_sentence() -> None:
    page = ("<html><body><article><p>The plan was backed by Gov. "
            '<span class="rollover-people"><a class="rollover-people-link" href="/p/1">Ana Ruiz</a>'
            '<span class="rollover-people-block"><a href="/x">Ana Maria Ruiz</a>'
            '<a href="/y">Ruiz doubles down on budget</a></span></span> on Monday, and the '
            "council agreed to pay for it.</p><p hidden>Hidden text that no reader sees.</p>"
            f"<p>{_MORE}</p></article></body></html>")
    doc = preprocess(page, html=True)
    assert "backed by Gov. Ana Ruiz on Monday" in doc.text
    assert "doubles down" not in doc.text and "no reader sees" not in doc.text


def test_long_lines_missing_their_stop_are_sentences_not_headlines() -> None:
    first = ("Chelsea have this morning paid the fee to the league to secure the record "
             "signing of the goalkeeper from the Spanish club after weeks of talks")
    second = "This has freed the way for the move of their own keeper to Madrid"
    text = f"{first}\n\n{second}\n\n{_LEAD}"
    assert preprocess(text).paragraphs == [first, second, _LEAD]
