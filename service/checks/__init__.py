"""Faithfulness checker: flag summary sentences whose hard facts the source does not contain.

Why: a seq2seq summarizer's most damaging mistakes in a briefing are invented specifics -- a wrong
number, amount, date or name reads as authoritative. Those are also the errors a cheap lexical
check can catch reliably, without a second model. So this module extracts the checkable claims of
each summary sentence (numbers, amounts, percentages, months, proper names), normalizes both sides
the same way (``1,000`` = ``1000``, ``2 per cent`` = ``2%``, ``two`` = ``2``, ``£5m`` = ``£5
million``, ``NATO's`` = ``NATO``, names by tokens and case-insensitive) and reports what the source
does not support. It favours precision over recall: when in doubt, a claim is not flagged, so a
flag means something. It does not judge paraphrase, negation or who-did-what; that needs a model.

Names are capitalized words away from a sentence start. A capitalized first word counts as a
name only with evidence: an acronym, capitalized elsewhere in the summary, or not a form of any
source word, without a common-word ending and followed by what follows names ("said", "'s", a
verb, another capitalized word). Bench figures and how they were measured: bench/quality_checker.py.

Layout: ``vocabulary`` (word tables), ``text`` (normalisation, sentences), ``numbers``
(numbers, amounts, months), ``names`` (proper names), ``facts`` (a source's facts); this module
checks a summary against them.

Pure functions, no I/O. ``SourceFacts.from_text(source)`` does the per-source work once and can be
reused across several summaries of the same source.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.checks.facts import SourceFacts
from service.checks.names import _capitalized_non_initial, _is_title_case, _name_spans
from service.checks.numbers import _digit_numbers, _months, _word_numbers
from service.checks.text import _prepare, _split_sentences

__all__ = ["SourceFacts", "Unsupported", "find_unsupported"]


@dataclass(frozen=True)
class Unsupported:
    """One summary sentence and the claims in it that the source does not support."""

    sentence: str
    missing: list[str]

    def as_dict(self) -> dict:
        """JSON-ready form: ``{"sentence": ..., "missing": [...]}``."""
        return {"sentence": self.sentence, "missing": list(self.missing)}


def _sentence_missing(
    sentence: str, facts: SourceFacts, capitalized_elsewhere: frozenset[str],
    names: bool = True,
) -> list[str]:
    text = _prepare(sentence)
    missing: list[tuple[int, str]] = []
    for offset, number in _digit_numbers(text) + _word_numbers(text):
        if number.claim:
            if not facts.supports_number(number):
                missing.append((offset, sentence[offset : offset + len(number.text)]))
    for offset, written, month in _months(text, lenient=False):
        if month not in facts.months:
            missing.append((offset, sentence[offset : offset + len(written)]))
    if names and not _is_title_case(text):
        for offset, written, tokens in _name_spans(
            text, capitalized_elsewhere, facts.looks_ordinary
        ):
            if not all(facts.supports_token(t) for t in tokens):
                missing.append((offset, sentence[offset : offset + len(written)]))
    result: list[str] = []
    for _, written in sorted(missing):
        written = written.strip()
        if written and written not in result:
            result.append(written)
    return result


def find_unsupported(
    summary: str, source: str, *, facts: SourceFacts | None = None, names: bool = True
) -> list[Unsupported]:
    """Summary sentences with numbers, amounts, dates or names that ``source`` does not support.

    Pass ``facts`` (from ``SourceFacts.from_text(source)``) to reuse the source's extraction.
    ``names=False``: numbers and dates only (a summary in another language than the source,
    whose nouns may be capitalized or names spelled otherwise).
    """
    if not isinstance(summary, str) or not summary.strip():
        return []
    if facts is None:
        facts = SourceFacts.from_text(source if isinstance(source, str) else "")
    sentences = _split_sentences(summary)
    capitalized = _capitalized_non_initial([_prepare(s) for s in sentences])
    out = []
    for sentence in sentences:
        missing = _sentence_missing(sentence, facts, capitalized, names)
        if missing:
            out.append(Unsupported(sentence=sentence, missing=missing))
    return out
