"""Tests for the sentence splitter: golden values on small texts, and properties on any text."""

from __future__ import annotations

import re
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pysbd.lang.english import English
from pysbd.processor import Processor

from service.preprocess import pysbd_runner, sentences
from service.preprocess.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # abbreviations, initials and decimals are not boundaries
        (
            "Dr. Smith met Mr. Jones at 5 p.m. on Friday. They talked for an hour.",
            ["Dr. Smith met Mr. Jones at 5 p.m. on Friday.", "They talked for an hour."],
        ),
        (
            "Bring some fruit, e.g. apples or pears. Then come inside.",
            ["Bring some fruit, e.g. apples or pears.", "Then come inside."],
        ),
        (
            "The U.S. economy grew by 3.5 percent last year. Analysts were surprised.",
            ["The U.S. economy grew by 3.5 percent last year.", "Analysts were surprised."],
        ),
        (
            "J.K. Rowling wrote another book. It sold well.",
            ["J.K. Rowling wrote another book.", "It sold well."],
        ),
        (
            "The price is $3.50 today. Tomorrow it is $4.",
            ["The price is $3.50 today.", "Tomorrow it is $4."],
        ),
        (
            "He works at Pitt, Briggs & Co. in London. It pays well.",
            ["He works at Pitt, Briggs & Co. in London.", "It pays well."],
        ),
        ("See p. 55 for details. Then stop.", ["See p. 55 for details.", "Then stop."]),
        # a clock time alone is not a sentence (pysbd splits after "a.m." here)
        (
            "At 5 a.m. Mr. Smith went to the bank. He left at 6 P.M. Mr. Smith then went home.",
            [
                "At 5 a.m. Mr. Smith went to the bank.",
                "He left at 6 P.M.",
                "Mr. Smith then went home.",
            ],
        ),
        # quotes
        (
            '"We will win," she said. "Nobody doubts it."',
            ['"We will win," she said.', '"Nobody doubts it."'],
        ),
        (
            "She turned to him, 'This is great.' She said it twice.",
            ["She turned to him, 'This is great.'", "She said it twice."],
        ),
        # URLs, domains and e-mail addresses stay whole
        (
            "Read more at example.com or www.example.org/news. Then tell us.",
            ["Read more at example.com or www.example.org/news.", "Then tell us."],
        ),
        (
            "Shares in Amazon.Com rose. Email jane.doe@example.com for details.",
            ["Shares in Amazon.Com rose.", "Email jane.doe@example.com for details."],
        ),
        # ellipses
        ("I waited... Then he left.", ["I waited...", "Then he left."]),
        ("I waited...Then he left.", ["I waited...Then he left."]),
    ],
)
def test_golden_values(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "It was a success for the community.Dr Venter said more.",
            ["It was a success for the community.", "Dr Venter said more."],
        ),
        (
            "Prices rose 2.75% in May.Inflation is back.",
            ["Prices rose 2.75% in May.", "Inflation is back."],
        ),
        ("Is it true?Nobody knows.", ["Is it true?", "Nobody knows."]),
        ("Wow!Nobody expected that.", ["Wow!", "Nobody expected that."]),
        (
            'He called the plan "dead".Ministers denied it.',
            ['He called the plan "dead".', "Ministers denied it."],
        ),
        # a straight quote after the stop opens the next sentence...
        (
            'The minister was delighted."It is a great day for us," he said.',
            ["The minister was delighted.", '"It is a great day for us," he said.'],
        ),
        # ...unless a quote is open, then it closes the current one
        (
            '"It is over," he said."Now we rebuild."',
            ['"It is over," he said.', '"Now we rebuild."'],
        ),
        (
            'He said: "It is over."Now they rebuild.',
            ['He said: "It is over."', "Now they rebuild."],
        ),
        (
            "It ended 1-1 (after extra time).Penalties decided it.",
            ["It ended 1-1 (after extra time).", "Penalties decided it."],
        ),
        (
            "The final score was 24-10.Owens scored twice.",
            ["The final score was 24-10.", "Owens scored twice."],
        ),
        (
            "He has lived in the UK.Last week he moved to Paris.",
            ["He has lived in the UK.", "Last week he moved to Paris."],
        ),
        (
            "Hello world.Today is Tuesday.Mr. Smith bought 1,000.That is a lot.",
            ["Hello world.", "Today is Tuesday.", "Mr. Smith bought 1,000.", "That is a lot."],
        ),
    ],
)
def test_glued_sentences_are_split(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mr.Smith arrived late.",
        "She met Dr.Venter and St.Clair there.",
        "Shares in Amazon.Com and ASP.Net rose.",
        "Write to Jane.Doe@example.com today.",
        "The team in Group F.Should they win, they go through.",
        "It runs on the U.S.Army network.",
        "Use e.g.Python for that.",
        "Call obj.Method(x) twice.",
    ],
)
def test_glue_exceptions_stay_whole(text: str) -> None:
    assert split_sentences(text) == [text]


def test_numbered_list_item_is_not_cut() -> None:
    assert split_sentences("1.First item\n2.Second item") == ["1.First item", "2.Second item"]


def test_blank_line_is_always_a_boundary() -> None:
    text = "First paragraph has no full stop\n\nSecond paragraph.\n \t\nThird one"
    assert split_sentences(text) == [
        "First paragraph has no full stop",
        "Second paragraph.",
        "Third one",
    ]
    assert split_sentences("It was a cold\n\nnight.") == ["It was a cold", "night."]


def test_wrapped_line_is_joined() -> None:
    assert split_sentences("It was a cold \nnight in the city.") == [
        "It was a cold night in the city."
    ]
    assert split_sentences("This is a sentence\r\ncut off in the middle.") == [
        "This is a sentence cut off in the middle."
    ]


def test_line_breaks_between_items_and_headlines_are_boundaries() -> None:
    assert split_sentences("features\ncontact manager\nevents, activities\n") == [
        "features",
        "contact manager",
        "events, activities",
    ]
    assert split_sentences("Storm hits the coast\nThe storm arrived at dawn.") == [
        "Storm hits the coast",
        "The storm arrived at dawn.",
    ]
    assert split_sentences("Menu:\nsoup\nbread") == ["Menu:", "soup", "bread"]


@pytest.mark.parametrize("text", ["", " ", "\n\n\n", " \t\r\n \u2028 "])
def test_empty_input(text: str) -> None:
    assert split_sentences(text) == []


def test_long_paragraph_is_split_exactly() -> None:
    # one 100 KB line: pysbd only ever sees windows of it
    sentences = [f"This is sentence number {i} of the test." for i in range(2500)]
    assert split_sentences(" ".join(sentences)) == sentences


def test_long_text_without_boundaries_keeps_all_text() -> None:
    text = "x" * 50_000 + " " + "word " * 5_000
    out = split_sentences(text)
    assert "".join("".join(s.split()) for s in out) == "".join(text.split())


def test_threads_share_the_segmenter_safely() -> None:
    texts = [f"Thread {i} starts here. Dr. Who {i} ends it.Next one {i}." for i in range(8)]
    expected = [split_sentences(t * 20) for t in texts]
    results: dict[int, list[str]] = {}

    def run(i: int) -> None:
        results[i] = split_sentences(texts[i] * 20)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[i] for i in range(len(texts))] == expected


# Pieces that reach the special cases, including pysbd's own placeholder characters.
_PIECES = [
    "Dr.", "U.S.", "e.g.", "community.Dr", "said.\"The", "1,000.That", "UK.Last", "a.m.",
    "At 5 a.m.", "3.5", "...", "…", "example.com", "x@y.org", "Hello", "world.", "(", ")", "a)",
    "1.", "?", "!", '"', "'", "“", "”", "’", "∯", "ȸ", "♨", "☏", "&ᓰ&", "Ü", "ß", "-", "•",
    " ", "  ", "\t", "\n", "\n\n", "\r", "\u2028", "\x0c",
]  # fmt: skip
_TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(_PIECES), max_size=40).map("".join),
    st.text(alphabet=st.sampled_from(list("aZ .!?\"')(\n:1,-")), max_size=120),
)


def _squash(text: str) -> str:
    return " ".join(text.split())


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(_TEXTS)
def test_never_raises_and_never_invents_text(text: str) -> None:
    out = split_sentences(text)
    squashed = _squash(text)
    for sentence in out:
        assert sentence and sentence == sentence.strip()
        assert _squash(sentence) in squashed
    # nothing lost either: in order, the sentences hold all of the text but its whitespace
    assert "".join("".join(s.split()) for s in out) == "".join(text.split())


# -- the fast path: pysbd is asked only about the parts where its rules have work to do --


def _pysbd_whole(text: str) -> list[str]:
    """``split_sentences`` as before the fast path: unmodified pysbd on every piece whole."""
    with sentences.as_before():
        return split_sentences(text)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        # plain sentences: cut, and pysbd is not asked
        (
            "The council met on Monday. It agreed a budget! Was anyone against? Nobody.",
            [
                ("The council met on Monday.", True),
                ("It agreed a budget!", True),
                ("Was anyone against?", True),
                ("Nobody.", True),
            ],
        ),
        # stops inside numbers and addresses end nothing
        (
            "Shares rose 3.5% to 120p. Traders at example.com cheered.",
            [("Shares rose 3.5% to 120p.", True), ("Traders at example.com cheered.", True)],
        ),
        # no cut after a title; the part with one goes to pysbd
        (
            "Gov. Brown spoke first. Then he left.",
            [("Gov. Brown spoke first.", False), ("Then he left.", True)],
        ),
        # other abbreviations end a sentence for pysbd before a capital, but not before "I"
        (
            "The vote is in Sept. Nobody expects a change.",
            [("The vote is in Sept.", True), ("Nobody expects a change.", True)],
        ),
        ("It was held in Sept. I was there.", [("It was held in Sept. I was there.", False)]),
        # no cut inside a quotation where pysbd hides the stops, and no need to ask it; a
        # cut after the closing quote
        (
            "He said 'Go home. Now.' and left. Then it rained.",
            [("He said 'Go home. Now.' and left.", True), ("Then it rained.", True)],
        ),
        (
            'She said: "We won. It is over." Then she left.',
            [('She said: "We won. It is over."', True), ("Then she left.", True)],
        ),
        # a quote at the very start is no pair for pysbd (it wants a space before it)
        ("'Go home. Now.' He left.", [("'Go home. Now.' He left.", False)]),
        # a quotation pysbd takes as a sentence of its own is no plain part
        ('"Go home" Smith said.', [('"Go home" Smith said.', False)]),
    ],
)
def test_fast_path_parts(text: str, parts: list[tuple[str, bool]]) -> None:
    plan = pysbd_runner._plan(text)
    assert plan is not None
    assert [(text[p.start : p.end], p.plain) for p in plan.pieces] == parts
    assert split_sentences(text) == _pysbd_whole(text)


@pytest.mark.parametrize(
    "text",
    [
        "Choose a. the red one or b. the blue one. Then pay.",  # pysbd makes a list of these
        'He said "yes" (quietly) "or no." Then he left.',  # parentheses between quotes
        "It was the first.5 Then came the second.",  # a numbered reference
        "Text with pysbd's own ∯ placeholder. Then more.",
    ],
)
def test_fast_path_leaves_whole_text_to_pysbd(text: str) -> None:
    assert pysbd_runner._plan(text) is None
    assert split_sentences(text) == _pysbd_whole(text)


@pytest.mark.parametrize(
    "text",
    [
        # found by fuzzing the fast path against pysbd on the whole text
        "a) x@y.orgi.e.he home.",  # "x.y.z": pysbd hides the first stop, not the second
        "'Was – said ?3.5 2 we a 1 50p?' Jones's 10 we al-Shabab!",  # quotation at the start
        "1 50p Jones's home the I it! \u00a0\"ii a Smith I'm I\" I'm London -- a left",  # no stop
        "London don't? '50p i was players' Jones's Smith al-Shabab Dr – a a I 10.'",  # same
    ],
)
def test_fast_path_regressions(text: str) -> None:
    assert split_sentences(text) == _pysbd_whole(text)


def test_plain_sentences_never_reach_pysbd(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(piece: str) -> tuple[tuple[int, int], ...]:
        raise AssertionError(f"pysbd asked about {piece!r}")

    monkeypatch.setattr(pysbd_runner, "_pysbd_spans", fail)
    text = 'The council met on Monday. It agreed a budget of £3.5m. "We are pleased," he said.'
    assert split_sentences(text) == [
        "The council met on Monday.",
        "It agreed a budget of £3.5m.",
        '"We are pleased," he said.',
    ]


_WORDS = [
    "the", "man", "said", "it", "was", "over", "we", "left", "Smith", "I", "I'm", "it's",
    "players'", "50p", "2014", "3.5", "U.S.", "Mr.", "Dr", "No.", "e.g.", "a.m.", "p.m.",
    "(pictured)", "(AFP)", "[sic]", "--", "–", "build-up", "a", "b", "i", "ii", "1", "2", "10",
    "Yahoo!", "example.com", "J.K.", "x.y.z", "'Tis",
]  # fmt: skip
_PAIRS = [
    ('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("(", ")"), ("[", "]"), ("«", "»"),
    ("--", "--"), ("", ""), ("", ""), ("", ""),
]  # fmt: skip


@st.composite
def _news_like(draw: st.DrawFn) -> str:
    """Sentences of words that pysbd has rules for, in and out of quotes and brackets."""
    text = ""
    for _ in range(draw(st.integers(1, 6))):
        words = draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8))
        if draw(st.booleans()):
            words[0] = words[0].capitalize()
        stop = draw(st.sampled_from([".", ".", "!", "?", "", "...", "?!", ".'", '."', "?'"]))
        opener, closer = draw(st.sampled_from(_PAIRS))
        space = draw(st.sampled_from([" ", " ", " ", "  ", "", "\u00a0"]))
        text += opener + " ".join(words) + stop + closer + space
    return text


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.one_of(_news_like(), _TEXTS))
def test_fast_path_splits_as_pysbd_on_the_whole_text(text: str) -> None:
    assert split_sentences(text) == _pysbd_whole(text)


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.one_of(_news_like(), _TEXTS))
def test_faster_pysbd_rules_give_pysbd_output(text: str) -> None:
    ours = pysbd_runner._Processor(text, pysbd_runner._English).process()
    assert ours == Processor(text, English).process()


@pytest.mark.parametrize(
    "text",
    [
        "Call {dr} Smith. He is in.",  # pysbd's look-up of the next letter finds something
        "The ſt. Louis team. Kelvin scale no. 5 is K. Then no. 6.",  # IGNORECASE folds
        "Mr. Smith and MR. JONES met Mr. Brown. no. 5 and No. 6 and NO. 7 are left.",
        "a. First b. Second c. Third",
        "1. One 2. Two 3. Three",
        "He met e.g. Dr. Who at 5 a.m. in the U.S. Then he left.",
    ],
)
def test_faster_pysbd_rules_golden(text: str) -> None:
    ours = pysbd_runner._Processor(text, pysbd_runner._English).process()
    assert ours == Processor(text, English).process()


def test_regex_case_folds_and_whitespace_match_str() -> None:
    # _English finds abbreviations with str.lower/str.isspace where re.IGNORECASE and \s
    # would give the same: these are the only characters where they would not.
    letters = re.compile("[a-z]", re.IGNORECASE)
    chars = [chr(c) for c in range(0x80, 0x110000)]
    assert {c for c in chars if letters.fullmatch(c)} == set(pysbd_runner._FOLDS_TO_ASCII)
    space = re.compile(r"\s")
    assert all((space.fullmatch(c) is not None) == c.isspace() for c in chars)


def test_fast_path_setting_turns_it_off_with_the_same_sentences(monkeypatch):
    text = "Gov. Brown spoke. Prices rose 3.5% in May. \"Go,\" he said. It rained. Then it stopped."
    fast = split_sentences(text)

    def planner_called(piece):
        raise AssertionError("the fast path ran while turned off")

    monkeypatch.setattr(pysbd_runner, "_plan", planner_called)
    pysbd_runner.use_fast_path(False)
    try:
        assert split_sentences(text) == fast
    finally:
        pysbd_runner.use_fast_path(True)


def test_fast_path_setting_is_read_from_the_environment(monkeypatch):
    from service.config import Settings

    monkeypatch.setenv("BRIEFING_SENTENCE_FAST_PATH", "false")
    assert Settings().sentence_fast_path is False
    monkeypatch.delenv("BRIEFING_SENTENCE_FAST_PATH")
    assert Settings().sentence_fast_path is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sen. Ron Wyden, D-Ore., said no.", ["Sen. Ron Wyden, D-Ore., said no."]),
        ("In October, Rep. David McKinley, R-W.Va., visited the border. He left.",
         ["In October, Rep. David McKinley, R-W.Va., visited the border.", "He left."]),
        ("Gov. Gavin Newsom, D-Calif., signed it. Then he left.",
         ["Gov. Gavin Newsom, D-Calif., signed it.", "Then he left."]),
        ("Sen. Joe Manchin, D-W.Va. said no.", ["Sen. Joe Manchin, D-W.Va. said no."]),
        ("Sen. Bob Casey, D-Pa., and Sen. Pat Toomey, R-Pa., agreed.",
         ["Sen. Bob Casey, D-Pa., and Sen. Pat Toomey, R-Pa., agreed."]),
        ("The mayor of Washington, D.C. said so.", ["The mayor of Washington, D.C. said so."]),
        # a boundary after an abbreviation stays one before a capital, and a lower-case
        # start after an ordinary word is still a sentence of its own
        ("I live in the U.S. How about you?", ["I live in the U.S.", "How about you?"]),
        ("The envoy left. she said.", ["The envoy left.", "she said."]),
        ("Prices rose in March. prices fell in May.",
         ["Prices rose in March.", "prices fell in May."]),
        ("He moved to Paris. then he wrote.", ["He moved to Paris.", "then he wrote."]),
        ("Sales at Acme Corp. rose, and Acme Inc. said so.",
         ["Sales at Acme Corp. rose, and Acme Inc. said so."]),
        # a lone lower-case consonant is an abbreviation (AP sports agate "d." = defeated)
        ("Harlow d. Epping 70-44\n\nWare d. Hertford 3-1",
         ["Harlow d. Epping 70-44", "Ware d. Hertford 3-1"]),
        ("The mill was built c. 1850 by the Marsh family. It burned in 1901.",
         ["The mill was built c. 1850 by the Marsh family.", "It burned in 1901."]),
        # a vowel can be a word that ends the sentence
        ("Her name is Ann without an e. The clerk spelt it wrong.",
         ["Her name is Ann without an e.", "The clerk spelt it wrong."]),
        ("He picked answer a. It was wrong.", ["He picked answer a.", "It was wrong."]),
    ],
)
def test_ap_style_abbreviations_do_not_end_the_sentence(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected
