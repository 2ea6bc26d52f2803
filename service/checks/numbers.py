"""Numbers, amounts, percentages, clock times and months in a text, normalised so that
"1,000" and "1000", "two" and "2", "£5m" and "£5 million" compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from service.checks.vocabulary import (
    _AMBIGUOUS_MONTHS,
    _CURRENCY_SYMBOLS,
    _CURRENCY_WORDS,
    _MONTH_ABBR,
    _MONTHS,
    _MULTIPLIERS,
    _NOT_CLAIMS,
    _ORDINAL_TENS,
    _ORDINAL_UNITS,
    _SCALES,
    _TENS,
    _UNITS,
)

_NUM_RE = re.compile(
    r"""
    (?<![\w.,:/])
    (?:(?P<cur>US\$|[A-Z]{1,2}\$|[$£€¥₹]|\#(?=\s?\d))\s?)?
    (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)
    (?![\d,]\d)
    (?:
        (?P<ord>st|nd|rd|th)\b
      | (?P<decade>s)\b
      | (?P<scale>\s?(?i:thousand|million|billion|trillion|mln|mn|bn|trn|tn|m|k)\b)
    )?
    (?P<pct>\s?(?i:%|per\s?cent\b|percent\b|pc\b))?
    (?P<curword>\s(?i:pounds?|sterling|dollars?|euros?|yen|rupees?)\b)?
    """,
    re.VERBOSE,
)
_TIME_RE = re.compile(
    r"(?<![\w.,:/])(?P<hour>\d{1,2})(?:[.:](?P<minute>[0-5]\d))?\s?(?P<ampm>[ap])(?:\.m\.|m\b)"
    r"|(?<![\w.,:/])(?P<hour24>[01]?\d|2[0-3]):(?P<minute24>[0-5]\d)(?![\d:])",
    re.IGNORECASE,
)

# Kinds of numeric fact besides currencies: ordinals written as words, and clock times.
_ORDINAL = "#ordinal"
_TIME = "#time"
_PERCENT = "%"


@dataclass(frozen=True)
class _Number:
    """One numeric mention: ``kind`` is a currency code, ``_PERCENT``, ``_ORDINAL``, ``_TIME``
    or None (a plain number)."""

    text: str
    value: Decimal
    tolerance: Decimal  # half the unit of the last written digit, scaled
    kind: str | None
    claim: bool
    ordinal: bool = False
    twelve_hour: bool = False  # a clock time written without am/pm


def _decimals(num: str) -> int:
    return len(num.split(".", 1)[1]) if "." in num else 0


def _times(text: str) -> list[tuple[int, int, _Number]]:
    """Clock times (``9.30pm``, ``21:30``) as (start, end, number) with a 24-hour value."""
    found = []
    for m in _TIME_RE.finditer(text):
        if m.group("hour") is not None:
            hour, minute = int(m.group("hour")), int(m.group("minute") or 0)
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if m.group("ampm").lower() == "p" else 0)
            ambiguous = False
        else:
            hour, minute = int(m.group("hour24")), int(m.group("minute24"))
            ambiguous = hour <= 12
        value = Decimal(hour) + Decimal(minute) / 100
        number = _Number(m.group(0).rstrip(), value, Decimal(0), _TIME, True, twelve_hour=ambiguous)
        found.append((m.start(), m.end(), number))
    return found


def _digit_numbers(text: str) -> list[tuple[int, _Number]]:
    """Numbers written with digits: currency, scale, percent, ordinal and clock times handled."""
    found: list[tuple[int, _Number]] = []
    taken: list[tuple[int, int]] = []
    for start, end, number in _times(text):
        found.append((start, number))
        taken.append((start, end))
        hour = re.match(r"\d+", number.text)
        if hour:  # "9pm" also backs a bare "9"; never a claim of its own
            found.append(
                (start, _Number(hour.group(0), Decimal(hour.group(0)), Decimal(0), None, False))
            )
    for m in _NUM_RE.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        raw = m.group("num")
        try:
            value = Decimal(raw.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the regex only admits valid numbers
            continue
        tolerance = Decimal(5).scaleb(-_decimals(raw) - 1)
        scale = _SCALES.get((m.group("scale") or "").strip().lower(), 1)
        currency = None
        if m.group("cur"):
            cur = m.group("cur")
            currency = _CURRENCY_SYMBOLS.get(cur, "$" if cur.endswith("$") else None)
        elif m.group("curword"):
            currency = _CURRENCY_WORDS.get(m.group("curword").strip().lower())
        if m.group("pct"):
            currency = _PERCENT
        written = m.group(0).rstrip()
        ordinal = m.group("ord") is not None
        found.append(
            (
                m.start(),
                _Number(written, value * scale, tolerance * scale, currency, True, ordinal=ordinal),
            )
        )
        if scale != 1:  # the bare mantissa also backs (never claims): "5m" backs "5 metres"
            found.append((m.start(), _Number(written, value, tolerance, currency, False)))
    return found


_NUMBER_WORDS = {
    **_UNITS,
    **_TENS,
    **_ORDINAL_UNITS,
    **_ORDINAL_TENS,
    **_MULTIPLIERS,
    "dozen": 12,
    "and": 0,
    "a": 0,
}
_WORD_RE = re.compile(r"[A-Za-z]+")
_A_FOLLOWERS = frozenset(_MULTIPLIERS) | {"dozen"}
_WORD_NUM_START = (
    set(_UNITS) | set(_TENS) | set(_ORDINAL_UNITS) | set(_ORDINAL_TENS) | {"a", "dozen"}
)


def _word_numbers(text: str) -> list[tuple[int, _Number]]:
    """Numbers written in words: ``two``, ``twenty-five``, ``three million``, ``a dozen``."""
    words = [(m.start(), m.end(), m.group(0).lower()) for m in _WORD_RE.finditer(text)]
    found = []
    i = 0
    while i < len(words):
        if words[i][2] not in _WORD_NUM_START:
            i += 1
            continue
        j = i
        total, current, seen_number = 0, 0, False
        while j < len(words) and words[j][2] in _NUMBER_WORDS:
            word = words[j][2]
            if j > i:  # words must be joined by a space or hyphen only
                gap = text[words[j - 1][1] : words[j][0]]
                if gap not in (" ", "-"):
                    break
            if word == "a":
                if j > i or j + 1 >= len(words) or words[j + 1][2] not in _A_FOLLOWERS:
                    break
                current = 1
            elif word == "and":
                if not seen_number or j + 1 >= len(words) or words[j + 1][2] not in _NUMBER_WORDS:
                    break
            elif word == "dozen":
                current = max(current, 1) * 12
                seen_number = True
            elif word in _MULTIPLIERS:
                if not seen_number and current == 0:
                    break
                mult = _MULTIPLIERS[word]
                if mult == 100:
                    current = max(current, 1) * 100
                else:
                    total += max(current, 1) * mult
                    current = 0
                seen_number = True
            else:
                value = _UNITS.get(word, _TENS.get(word, _ORDINAL_UNITS.get(word)))
                if value is None:
                    value = _ORDINAL_TENS[word]
                if seen_number and current % 10 != 0 and value < 100:
                    break  # "two three" is two numbers
                current += value
                seen_number = True
            j += 1
        if not seen_number:
            i += 1
            continue
        last = j - 1
        while last > i and words[last][2] in ("and", "a"):
            last -= 1
        start, end = words[i][0], words[last][1]
        phrase = text[start:end]
        lowered = phrase.lower()
        claim = (
            lowered not in _NOT_CLAIMS and "dozen" not in lowered and not lowered.startswith("a ")
        )
        ordinal = words[last][2] in _ORDINAL_UNITS or words[last][2] in _ORDINAL_TENS
        found.append(
            (
                start,
                _Number(
                    phrase,
                    Decimal(total + current),
                    Decimal(0),
                    _ORDINAL if ordinal else None,
                    claim,
                    ordinal=ordinal,
                ),
            )
        )
        i = max(j, i + 1)
    return found


# --------------------------------------------------------------------------------------------
# Months
# --------------------------------------------------------------------------------------------

_MONTH_RE = re.compile(
    r"\b(?P<word>January|February|March|April|May|June|July|August|September|October|November"
    r"|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b(?P<dot>\.)?",
    re.IGNORECASE,
)
_NEAR_NUMBER_AFTER = re.compile(r"\s?\d")
_NEAR_NUMBER_BEFORE = re.compile(r"\d(?:st|nd|rd|th)?(?:\s+of)?\s?$")


def _months(text: str, *, lenient: bool) -> list[tuple[int, str, int]]:
    """(offset, text, month number) for month mentions; ``lenient`` for the source side.

    "May" and "March" count only next to a number or capitalized mid-sentence (the source side
    accepts any capitalized use); abbreviations only next to a number (or, in the source, dotted).
    """
    found = []
    for m in _MONTH_RE.finditer(text):
        word = m.group("word")
        key = word.lower()
        near_number = bool(
            _NEAR_NUMBER_AFTER.match(text, m.end())
            or _NEAR_NUMBER_BEFORE.search(text, max(0, m.start() - 12), m.start())
        )
        if key in _MONTHS:
            number = _MONTHS[key]
            if key in _AMBIGUOUS_MONTHS:
                j = m.start() - 1
                while j >= 0 and text[j].isspace():
                    j -= 1
                mid_sentence = j >= 0 and text[j] not in ".!?\"'(:;-"
                ok = near_number or (word[0].isupper() and (lenient or mid_sentence))
            else:
                ok = True
        else:
            number = _MONTH_ABBR[key]
            ok = word[0].isupper() and (near_number or (lenient and m.group("dot") is not None))
        if ok:
            written = m.group(0) if key in _MONTH_ABBR else word
            found.append((m.start(), written, number))
    return found
