"""Length rules: whole sentences, no repeats, within the limits."""

from __future__ import annotations

from service.lengths import fit_length, is_complete


def test_cuts_at_sentence_boundaries_within_the_word_limit() -> None:
    text = "One two three four five. Six seven eight nine ten. Eleven twelve thirteen."
    assert fit_length(text, max_words=10) == "One two three four five. Six seven eight nine ten."
    assert fit_length(text, max_words=12) == "One two three four five. Six seven eight nine ten."
    assert fit_length(text, max_words=100, max_sentences=1) == "One two three four five."


def test_drops_repeated_sentences_and_a_trailing_fragment() -> None:
    text = "Prices rose in March. Prices rose in March. prices rose in march! The bank said it"
    assert fit_length(text, max_words=50) == "Prices rose in March."


def test_a_single_overlong_sentence_is_shortened_visibly() -> None:
    text = " ".join(["word"] * 80) + "."
    out = fit_length(text, max_words=50, max_sentences=2)
    assert out.endswith("…") and len(out.split()) == 50


def test_is_complete() -> None:
    assert is_complete('He said "yes."')
    assert is_complete("Really?")
    assert not is_complete("The bank said it")
    assert fit_length("", max_words=5) == ""
