"""The normalised facts of one source text (tokens, numbers, months), computed once and reused for
every check.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from decimal import Decimal

from service.checks.numbers import _ORDINAL, _TIME, _digit_numbers, _months, _Number, _word_numbers
from service.checks.text import _fold, _prepare
from service.checks.vocabulary import (
    _COMMON_ENDINGS,
    _COMMON_OPENERS,
    _DEMONYM_SUFFIXES,
    _EQUIVALENT_GROUPS,
    _PLACE_TO_DEMONYM,
)
from service.words import WORD

_TOKEN_RE = WORD
_GLUE_RE = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
_DOTTED_ACRONYM_RE = re.compile(r"\b(?:[A-Za-z]\.){2,}")


def _equivalence_groups() -> list[tuple[tuple[str, ...], frozenset[str]]]:
    """(phrases, the words they add) for each group."""
    groups = []
    for group in _EQUIVALENT_GROUPS:
        phrases = tuple(p.strip() for p in group.split(","))
        groups.append((phrases, frozenset(w for p in phrases for w in p.split())))
    return groups


_EQUIVALENTS = _equivalence_groups()


@dataclass(frozen=True)
class SourceFacts:
    """The normalized facts of one source text, computed once and reused for every check."""

    tokens: frozenset[str]
    values: tuple[Decimal, ...]  # sorted
    kinds: tuple[str | None, ...]  # aligned with ``values``: currency, ordinal, time or None
    months: frozenset[int]
    prefixes: frozenset[str]  # first five letters of each longer source token

    @classmethod
    def from_text(cls, source: str) -> SourceFacts:
        """Extract tokens, numeric values (with currency) and months from ``source``."""
        text = _prepare(source if isinstance(source, str) else "")
        # Scraped text often loses the space at a boundary ("25 AprilKings XI"); read it both ways.
        unglued = _GLUE_RE.sub(" ", text)
        words = _TOKEN_RE.findall(text)
        tokens = {_fold(t) for t in words}
        if unglued != text:
            tokens.update(_fold(t) for t in _TOKEN_RE.findall(unglued))
        tokens.update(_fold(m.group(0).replace(".", "")) for m in _DOTTED_ACRONYM_RE.finditer(text))
        flat = None
        for phrases, group_words in _EQUIVALENTS:
            for phrase in phrases:
                if " " not in phrase:
                    hit = phrase in tokens
                else:
                    if flat is None:
                        flat = " " + " ".join(_fold(t) for t in words) + " "
                    hit = f" {phrase} " in flat
                if hit:
                    tokens.update(group_words)
                    break
        numbers = [n for _, n in _digit_numbers(text)] + [n for _, n in _word_numbers(text)]
        pairs = sorted({(n.value, n.kind) for n in numbers}, key=lambda p: (p[0], p[1] or ""))
        return cls(
            tokens=frozenset(tokens),
            values=tuple(p[0] for p in pairs),
            kinds=tuple(p[1] for p in pairs),
            months=frozenset(number for _, _, number in _months(unglued, lenient=True)),
            prefixes=frozenset(t[:5] for t in tokens if len(t) >= 5),
        )

    def supports_number(self, number: _Number) -> bool:
        """True if a source value of a compatible kind lies within the claim's rounding window.

        Ordinal claims accept any number ("12th" = "12"); cardinals do not accept ordinal words
        ("eighth" does not back "8"); amounts and percentages need the same unit or a plain
        number ("£5m" does not back "5%"); times compare on a 24-hour clock.
        """
        if number.kind == _TIME:
            values = [number.value]
            if number.twelve_hour:
                values.append(number.value + 12)
            return any(self._kinds_at(v, Decimal(0)) & {_TIME} for v in values)
        kinds = self._kinds_at(number.value, number.tolerance)
        if number.ordinal:
            return bool(kinds)
        kinds.discard(_ORDINAL)
        kinds.discard(_TIME)
        if number.kind is None:
            return bool(kinds)
        return None in kinds or number.kind in kinds

    def _kinds_at(self, value: Decimal, tolerance: Decimal) -> set[str | None]:
        lo = bisect.bisect_left(self.values, value - tolerance)
        hi = bisect.bisect_right(self.values, value + tolerance)
        return {self.kinds[k] for k in range(lo, hi)}

    def looks_ordinary(self, token: str) -> bool:
        """True if a sentence-initial word is probably a common word: a common opener, a common
        word ending, or the source uses a form of it (same first five letters)."""
        if token in _COMMON_OPENERS or token.endswith(_COMMON_ENDINGS):
            return True
        if self.supports_token(token):
            return True
        return len(token) >= 5 and token[:5] in self.prefixes

    def supports_token(self, token: str) -> bool:
        """True if a name token (already folded) occurs in the source, allowing simple variants."""
        if token in self.tokens:
            return True
        parts = [p for p in re.split(r"[-'.&]", token) if p]
        if len(parts) > 1 and all(self.supports_token(p) for p in parts):
            return True
        if token.endswith("s") and len(token) > 3 and token[:-1] in self.tokens:
            return True
        for suffix, replacement in _DEMONYM_SUFFIXES:
            if token.endswith(suffix) and len(token) - len(suffix) >= 3:
                if token[: -len(suffix)] + replacement in self.tokens:
                    return True
        # The source may only use the demonym: "Bangladesh" <- "Bangladeshi", "Syria" <- "Syrian".
        return len(token) >= 4 and any(token + end in self.tokens for end in _PLACE_TO_DEMONYM)
