"""Proper names in a summary sentence: capitalised words away from a sentence start, and a first
word only with evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.checks.facts import _DOTTED_ACRONYM_RE
from service.checks.numbers import _MONTH_RE
from service.checks.text import _fold
from service.checks.vocabulary import (
    _COMMON_ENDINGS,
    _COMMON_OPENERS,
    _NAME_CONNECTORS,
    _NAME_STOP,
    _NEVER_NAMES,
    _SUBJECT_VERBS,
    _VERB_ENDINGS,
)
from service.words import compile_words

# A word that starts a token: not the letters glued to a number ("256GB", "4K", "2B Mindset"
# are quantities and brands, not names).
_NAME_TOKEN_RE = compile_words(r"(?<!\w)[^\W\d_][\w]*(?:['.&-][\w]+)*\.?")
_POSSESSIVE_RE = re.compile(r"(?:'s|')$", re.IGNORECASE)
_INITIAL_BREAK = re.compile(r"[\"'(\[:;-]\s*$")


def _is_capitalized(token: str) -> bool:
    return token[0].isupper()


def _is_acronym(token: str) -> bool:
    letters = [c for c in token if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _is_short_acronym(token: str) -> bool:
    """ "US", "WHO": acronyms that spell a stop word; longer capitals ("READ") are shouting."""
    return _is_acronym(token) and len(token.replace(".", "")) <= 3


def _clean_name_token(token: str) -> str:
    token = token.rstrip(".") if not _DOTTED_ACRONYM_RE.fullmatch(token) else token
    return _POSSESSIVE_RE.sub("", token)


def _name_spans(
    sentence: str, capitalized_elsewhere: frozenset[str], ordinary: Callable[[str], bool]
) -> list[tuple[int, str, list[str]]]:
    """(offset, text, content tokens) for each proper name in ``sentence``.

    A capitalized word at a sentence start counts as a name if it is an acronym, is capitalized
    elsewhere in the summary, starts a multi-word name, or is not ``ordinary`` (not a form of a
    word the source uses and not a stop word).
    """
    matches = list(_NAME_TOKEN_RE.finditer(sentence))
    spans: list[tuple[int, str, list[str]]] = []
    current: list[re.Match[str]] = []

    def flush() -> None:
        while current and current[-1].group(0).lower() in _NAME_CONNECTORS:
            current.pop()
        if current:
            words = [_clean_name_token(m.group(0)) for m in current]
            content = [
                _fold(w)
                for w in words
                if _is_capitalized(w)
                and _fold(w) not in _NEVER_NAMES
                and (_is_short_acronym(w) or _fold(w).replace(".", "") not in _NAME_STOP)
            ]
            shouting = len(words) > 1 and all(_is_acronym(w) for w in words)
            if content and not shouting:
                start, end = current[0].start(), current[-1].end()
                text = _POSSESSIVE_RE.sub("", sentence[start:end].rstrip("."))
                if sentence[start:end].endswith(".") and _DOTTED_ACRONYM_RE.search(text + "."):
                    text += "."
                spans.append((start, text, content))
        current.clear()

    for idx, m in enumerate(matches):
        word = _clean_name_token(m.group(0))
        if not word:
            flush()
            continue
        prev_text = sentence[matches[idx - 1].end() : m.start()] if idx else sentence[: m.start()]
        initial = (
            idx == 0
            or bool(_INITIAL_BREAK.search(prev_text))
            or bool(re.search(r"[.!?]\s*$", prev_text))
        )
        adjacent = bool(current) and prev_text.strip() == ""
        if not adjacent:
            flush()
        folded = _fold(word)
        if _is_capitalized(word):
            if initial and not current:
                nxt = matches[idx + 1] if idx + 1 < len(matches) else None
                nxt_word = _clean_name_token(nxt.group(0)) if nxt else ""
                gap = sentence[m.end() : nxt.start()] if nxt is not None else ""
                if folded in _NAME_STOP and not _is_short_acronym(word):
                    continue
                if not (
                    _is_acronym(word)
                    or folded in capitalized_elsewhere
                    or (_name_context(m.group(0), gap, nxt_word) and not ordinary(folded))
                ):
                    continue  # an ordinary sentence-initial word
            if _MONTH_RE.fullmatch(word) or _MONTH_RE.fullmatch(word.rstrip(".")):
                flush()
                continue
            current.append(m)
        elif current and folded in _NAME_CONNECTORS:
            current.append(m)
        else:
            flush()
    flush()
    return spans


def _name_context(word: str, gap: str, next_word: str) -> bool:
    """True if what follows a sentence-initial word is typical after a name: a possessive,
    a following capitalized word, a colon or comma, or a verb ("said", "has", "-ed", "-s")."""
    if _POSSESSIVE_RE.search(word) or gap.strip()[:1] in (":", ","):
        return True
    if gap.strip() or not next_word:
        return False
    lowered = next_word.lower()
    return next_word[0].isupper() or lowered in _SUBJECT_VERBS or lowered.endswith(_VERB_ENDINGS)


def _capitalized_non_initial(sentences: list[str]) -> frozenset[str]:
    """Tokens that appear capitalized away from a sentence start somewhere in the summary."""
    seen = set()
    for sentence in sentences:
        matches = list(_NAME_TOKEN_RE.finditer(sentence))
        for idx, m in enumerate(matches[1:], start=1):
            prev_text = sentence[matches[idx - 1].end() : m.start()]
            word = _clean_name_token(m.group(0))
            if word and _is_capitalized(word) and not _INITIAL_BREAK.search(prev_text):
                seen.add(_fold(word))
    return frozenset(seen)


def _is_title_case(sentence: str) -> bool:
    """Headline-style sentences capitalize ordinary words; names cannot be told apart there."""
    words = [w for w in _NAME_TOKEN_RE.findall(sentence) if len(w) > 3]
    if len(words) < 4 or not all(w[0].isupper() for w in words):
        return False
    # A run of names ("Jens Stoltenberg met Dr Kujala in Helsinki") is not a headline: require
    # a capitalized word past the first that is clearly an ordinary one.
    return any(
        _fold(w) in _NAME_STOP
        or _fold(w) in _COMMON_OPENERS
        or _fold(w).endswith(_COMMON_ENDINGS[:-1])
        for w in words[1:]
    )
