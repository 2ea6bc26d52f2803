"""The least text worth a briefing: ``MIN_WORDS`` words of the cleaned article.

A briefing condenses an article into a sentence or two; below about a sentence's worth of
words there is nothing to condense ("hello", a test ping, a headline alone), and the text
would still be stored and become a story of the day's digest. Ten words keep a one-sentence
news item in a language of long words (Greek, Korean, Finnish: 12 to 15 words) and refuse
most headlines alone (6 to 9 words in English). Words are counted as a reader sees them
(:data:`service.words.WORD`); in scripts written without spaces (Chinese, Japanese, Thai,
Khmer, Lao, Burmese, Tibetan) a run of letters is one "word" to a regex, so there every
``CHARS_PER_WORD`` characters count as a word.
"""

from __future__ import annotations

import regex

from service.words import WORD

__all__ = ["CHARS_PER_WORD", "MIN_WORDS", "count_words"]

MIN_WORDS = 10
CHARS_PER_WORD = 2  # about a word's length in Chinese and Japanese (Thai's are longer)

_SPACELESS = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]"
)


def count_words(text: str) -> int:
    """Words in ``text``; characters of scripts without spaces count ``CHARS_PER_WORD`` to
    a word."""
    spaceless = len(_SPACELESS.findall(text))
    spaced = sum(1 for _ in WORD.finditer(_SPACELESS.sub(" ", text)))
    return spaced + spaceless // CHARS_PER_WORD
