"""Golden tests for the faithfulness checker (service.checks), on small inline texts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.checks import SourceFacts, Unsupported, find_unsupported

SOURCE = (
    "Nato secretary general Jens Stoltenberg said on Tuesday that the alliance would send "
    "1,000 extra troops to Estonia, about 2 per cent of its rapid reaction force. "
    "Two soldiers were injured in an exercise in January. The deployment will cost £5m, "
    "and the US has pledged $1.2bn over the third phase. NATO's budget rose 3.5% in 2023. "
    "The meeting starts at 9.30pm. Dr Urho Kujala of the University of Jyväskylä advised."
)


def missing(summary: str, source: str = SOURCE) -> list[str]:
    """All missing items reported for ``summary``."""
    return [item for flag in find_unsupported(summary, source) for item in flag.missing]


@pytest.mark.parametrize(
    "summary",
    [
        "The alliance will send 1000 extra troops.",  # 1,000 = 1000
        "The alliance will send 1,000 extra troops.",
        "The force is 2% of the total.",  # 2 per cent = 2%
        "The force is 2 percent of the total.",
        "The force is 2 per cent of the total.",
        "2 soldiers were injured.",  # two = 2
        "Two soldiers were injured.",
        "The deployment will cost £5 million.",  # £5m = £5 million
        "The deployment will cost 5 million pounds.",
        "The US pledged $1.2 billion.",  # $1.2bn = $1.2 billion
        "The budget rose 3.5 per cent in 2023.",
        "It is the 3rd phase.",  # third = 3rd
        "The meeting starts at 21:30.",  # 9.30pm = 21:30
        "Soldiers were injured in Jan. 2023.",  # Jan. = January
        "Stoltenberg said troops would go to Estonia.",  # a name by its tokens
        "Officials said JENS STOLTENBERG and estonia agreed.",  # case-insensitive
        "It was Nato's decision, said NATO's Stoltenberg.",  # possessive
        "Officials in Britain spoke to Urho Kujala in Jyvaskyla.",  # accents folded
        "Mr Stoltenberg said on Tuesday that the American pledge was generous.",  # title, demonym
    ],
)
def test_supported_claims_give_no_flags(summary: str) -> None:
    assert find_unsupported(summary, SOURCE.replace("Estonia", "Estonia and Britain")) == []


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("The alliance will send 1,500 extra troops to Estonia.", "1,500"),
        ("Three soldiers were injured in an exercise.", "Three"),
        ("The force is 5% of the total.", "5%"),
        ("The deployment will cost £6m.", "£6m"),
        ("The deployment will cost £5bn.", "£5bn"),  # same digit, different scale
        ("The deployment will cost €5m.", "€5m"),  # same amount, different currency
        ("The US pledged $1.7 billion.", "$1.7 billion"),
        ("Soldiers were injured in an exercise in March.", "March"),
        ("The meeting starts at 10pm.", "10pm"),
        ("The budget rose 3.5% in 2021.", "2021"),
    ],
)
def test_swapped_number_is_reported(summary: str, expected: str) -> None:
    assert expected in missing(summary)


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("Nato chief Angela Merkel said troops would go to Estonia.", "Angela Merkel"),
        ("The alliance will send troops to Latvia.", "Latvia"),
        ("Officials said Merkel's plan was approved.", "Merkel"),
        ("Merkel said troops would go to Estonia.", "Merkel"),  # sentence-initial, then a verb
        ("Jens Stoltenberg met Dr Kujala in Helsinki.", "Helsinki"),
    ],
)
def test_swapped_name_is_reported(summary: str, expected: str) -> None:
    assert expected in missing(summary)


def test_name_needs_all_tokens() -> None:
    assert missing("Troops were sent by Jens Smith.") == ["Jens Smith"]


def test_ordinary_capitalized_words_are_not_names() -> None:
    summary = (
        "The alliance will send troops. However, Nato said it would. Troops arrived. "
        "Meanwhile Stoltenberg said so. Officials were pleased."
    )
    assert find_unsupported(summary, SOURCE) == []


def test_letters_glued_to_a_number_are_no_name() -> None:
    # A sentence quoted from the article is supported, "256GB", "4K" and "2B Mindset" too;
    # the same quantity with another number is still caught.
    source = ("Amazon offers the 12-inch laptop with 256GB of storage for $700. The console "
              "streams games in 4K at 30 frames a second. The 2B Mindset plan starts today.")
    for sentence in source.split(". "):
        assert find_unsupported(sentence, source) == [], sentence
    assert "512" in missing("The laptop comes with 512GB of storage.", source)


def test_one_and_first_are_not_claims() -> None:
    assert find_unsupported("It is one of the first deployments.", SOURCE) == []


def test_result_shape_and_as_dict() -> None:
    summary = "Stoltenberg said 1,000 troops would go. Then Merkel's army sent 40 to Latvia."
    flags = find_unsupported(summary, SOURCE)
    sentence = "Then Merkel's army sent 40 to Latvia."
    assert flags == [Unsupported(sentence=sentence, missing=["Merkel", "40", "Latvia"])]
    assert flags[0].as_dict() == {"sentence": sentence, "missing": ["Merkel", "40", "Latvia"]}


def test_source_facts_can_be_reused() -> None:
    facts = SourceFacts.from_text(SOURCE)
    assert find_unsupported("Two soldiers were injured.", SOURCE, facts=facts) == []
    assert missing("Seven soldiers were injured.") == ["Seven"]
    flagged = find_unsupported("Seven soldiers were injured.", "", facts=facts)
    assert flagged[0].missing == ["Seven"]


def test_tokenized_text_and_mojibake() -> None:
    source = "Prices rose to Â£2,100 a year , the study 's author said ."
    assert find_unsupported("Prices rose to £ 2,100 a year, the study's author said.", source) == []


@pytest.mark.parametrize(
    ("summary", "source", "expected"),
    [
        ("", "", []),
        ("   ", "", []),
        ("\n\n", "The council met.", []),
        (".", "", []),
        ("He left.", "", []),  # no number, amount or name: nothing to check
        ("42", "", [Unsupported("42", ["42"])]),
        ("42", "It cost 42 euros.", []),
    ],
)
def test_degenerate_inputs(summary: str, source: str, expected: list[Unsupported]) -> None:
    assert find_unsupported(summary, source) == expected


def test_a_long_source() -> None:
    # Its speed is measured by bench/quality_checker.py, not asserted here.
    source = (SOURCE + " ") * 400  # about 200,000 characters
    assert find_unsupported("Stoltenberg said 1,000 troops would cost £5 million.", source) == []
    assert missing("Stoltenberg said 1,001 troops would cost £5 million.", source) == ["1,001"]


_PIECES = list("abcXYZ019 ,.'%$£€#:-\n") + [
    "Mr ",
    "two ",
    "bn",
    "m ",
    "per cent",
    "May ",
    "Jan. ",
    "UNK",
    "’s",
    "Â£",
    "9.30pm",
    "1,000",
    "U.S.",
    "a dozen",
    "twenty-",
    "and ",
    "hundred",
    "th",
    "12:",
    "am",
]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    summary=st.one_of(st.text(max_size=80), _TEXT), source=st.one_of(st.text(max_size=120), _TEXT)
)
def test_never_raises(summary: str, source: str) -> None:
    result = find_unsupported(summary, source)
    assert isinstance(result, list)
    for flag in result:
        assert flag.missing and all(isinstance(m, str) and m for m in flag.missing)
        assert flag.sentence


def test_place_phrases_and_demonyms() -> None:
    assert find_unsupported("British troops left.", "Troops of the United Kingdom left.") == []
    assert find_unsupported("Troops left Bangladesh.", "Bangladeshi troops left.") == []
    # "United" alone is not the United Kingdom.
    assert missing("The winner is a Briton.", "Manchester United won the race.") == ["Briton"]
