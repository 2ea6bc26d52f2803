"""Is this text prose? A fast gate in front of the model, for any language and script.

A seq2seq model can only brief sentences of words. Input that is not prose (a run of one
character, digits, base64, minified script or other source code, a table, a pile of
combining accents) costs the whole request budget and yields noise, so the request path
refuses it first with ``not_prose``. Pure function, no I/O: ``assess(text)`` in linear time
(a few regular-expression passes; well under a second for the largest body).

How: the text is cut into blocks (blank-line paragraphs; long ones into windows of
``WINDOW_CHARS``), and each block is judged by what it is made of, never by its language:

  1. marks — combining marks stacked in runs (``MARK_RUN``+ in a row) are not writing;
     Devanagari, Thai or Vietnamese put one or two marks on a letter, never a pile.
  2. letters — under ``MIN_LETTER_SHARE`` of its visible characters are letters (digit runs,
     number tables, symbol art).
  3. code — the characters and shapes of programs (braces, ``=``, ``;``, ``a.b``, ``f(``)
     make ``CODE_SHARE`` or more of it; prose has a handful per paragraph.
  4. table — most of its lines (three or more) hold two or more cell separators (tab, ``|``,
     a run of spaces, a comma or semicolon without a space after it).
  5. encoded — most of its letters sit in "words" over ``LONG_TOKEN`` characters (base64,
     hex, one letter repeated); scripts written without spaces (Chinese, Japanese, Thai,
     Khmer, Lao, Myanmar, Tibetan) are exempt, as their words are not space-delimited.
  6. repeated — it compresses to under ``MIN_COMPRESSION`` of its size (one word or one
     character over and over; ordinary text in any script stays above 0.3).

The text is prose when blocks judged prose hold at least ``MIN_PROSE_SHARE`` of its visible
characters; or when the rest is data a story carries (tables, numbers) and its prose is an
article's worth (``MIN_PROSE_CHARS``, about a hundred words) and at least
``MIN_STORY_SHARE`` of it: a match report with its results table, whose rows the engines
rank behind its sentences. Otherwise the verdict names what most of the rest is.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass

import regex

WINDOW_CHARS = 2_000
MARK_RUN = 4
MAX_STACKED_MARK_SHARE = 0.05
MIN_LETTER_SHARE = 0.5
CODE_SHARE = 0.03
LONG_TOKEN = 40
MAX_LONG_TOKEN_SHARE = 0.5
MIN_COMPRESSION = 0.12
COMPRESSION_MIN_CHARS = 200  # shorter blocks compress badly whatever they hold
MIN_PROSE_SHARE = 0.5
MIN_PROSE_CHARS = 600
MIN_STORY_SHARE = 0.2
_STORY_DATA = frozenset({"table", "letters"})  # what a story may carry beside its prose
MIN_TABLE_LINES = 3

_BLOCKS = re.compile(r"\n[ \t\r\f\v]*\n")
_MARK = regex.compile(r"\p{M}")
_STACKED_MARKS = regex.compile(rf"\p{{M}}{{{MARK_RUN},}}")
# Program punctuation, and the shapes of code: a call "f(x", member access "a.b" (not
# "U.S." or "3.5"), snake_case. Each alternative opens with its trigger character, so the
# scan skips ordinary letters at C speed (stdlib re; this runs on every byte).
_CODE = re.compile(
    r"[{}\[\]<>=;|\\^~`]"
    r"|\((?<=[a-z\d_]\()(?=\S)"
    r"|\.(?<=[a-z_]\.)(?=[a-z_])"
    r"|_(?<=\w_)(?=\w)"
)
_LONG_TOKEN = re.compile(rf"\S{{{LONG_TOKEN + 1},}}")
# Scripts written without spaces between words: CJK, kana, Thai, Lao, Tibetan, Myanmar, Khmer.
_SPACELESS = re.compile(
    "[\u0e00-\u0fff\u1000-\u109f\u1780-\u17ff\u2e80-\u2fdf\u3040-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]"
)
_CELL_SEPARATORS = re.compile(r"\t|\||(?<=[^\s.!?]) {2,}(?=\S)|(?<!\d)[,;](?=\S)")

KINDS = ("marks", "letters", "code", "table", "encoded", "repeated")

# What each kind is, as the error message puts it.
DESCRIPTIONS = {
    "marks": "piles of combining accents",
    "letters": "digits or symbols rather than words",
    "code": "source code or markup",
    "table": "a table",
    "encoded": "long runs without spaces (encoded data, or one character repeated)",
    "repeated": "the same characters or words over and over",
}


@dataclass(frozen=True)
class ProseVerdict:
    """Whether a text reads as prose, and if not, what most of it is instead."""

    prose: bool
    prose_share: float  # of visible characters, in blocks judged prose
    kind: str | None = None  # one of KINDS: what most of the rest is (None: all prose)

    @property
    def description(self) -> str:
        return DESCRIPTIONS.get(self.kind or "", "")


def assess(text: str) -> ProseVerdict:
    """Judge ``text`` block by block (see the module docstring)."""
    prose = 0
    other: Counter[str] = Counter()
    for block in _blocks(text):
        visible = _visible(block)
        if not visible:
            continue
        kind = block_kind(block, visible)
        if kind is None:
            prose += visible
        else:
            other[kind] += visible
    total = prose + sum(other.values())
    if total == 0:
        return ProseVerdict(prose=False, prose_share=0.0, kind="letters")
    share = prose / total
    rest = other.most_common(1)[0][0] if other else None
    if share >= MIN_PROSE_SHARE or (
        prose >= MIN_PROSE_CHARS and share >= MIN_STORY_SHARE and set(other) <= _STORY_DATA
    ):
        return ProseVerdict(prose=True, prose_share=share, kind=rest)
    return ProseVerdict(prose=False, prose_share=share, kind=rest)


def block_kind(block: str, visible: int | None = None) -> str | None:
    """None when ``block`` reads as prose, else the kind of non-prose it is (KINDS)."""
    if visible is None:
        visible = _visible(block)
    if visible == 0:
        return None
    if sum(len(m) for m in _STACKED_MARKS.findall(block)) > MAX_STACKED_MARK_SHARE * visible:
        return "marks"
    # Letters and the marks on them: Myanmar or Devanagari write vowels as marks.
    letters = _letters(block) + len(_MARK.findall(block))
    if letters < MIN_LETTER_SHARE * visible:
        return "letters"
    if len(_CODE.findall(block)) >= CODE_SHARE * visible:
        return "code"
    if _is_table(block):
        return "table"
    long_letters = 0
    for token in _LONG_TOKEN.findall(block):
        token_letters = _letters(token)
        if len(_SPACELESS.findall(token)) * 2 < token_letters:
            long_letters += token_letters
    if long_letters > MAX_LONG_TOKEN_SHARE * letters:
        return "encoded"
    if len(block) >= COMPRESSION_MIN_CHARS:
        data = block.encode("utf-8")
        if len(zlib.compress(data, 1)) < MIN_COMPRESSION * len(data):
            return "repeated"
    return None


def _visible(text: str) -> int:
    """Characters other than white space (counted at C speed: this runs on every byte)."""
    return len(text) - sum(map(str.isspace, text))


def _letters(text: str) -> int:
    return sum(map(str.isalpha, text))


def _is_table(block: str) -> bool:
    lines = [line for line in block.splitlines() if line.strip()]
    if len(lines) < MIN_TABLE_LINES:
        return False
    rows = sum(1 for line in lines if len(_CELL_SEPARATORS.findall(line.strip())) >= 2)
    return rows * 2 > len(lines)


def _blocks(text: str) -> list[str]:
    """Blank-line paragraphs, each cut into windows of at most WINDOW_CHARS (at a line end
    or a space where there is one near the cut)."""
    blocks: list[str] = []
    for paragraph in _BLOCKS.split(text):
        start = 0
        while len(paragraph) - start > WINDOW_CHARS:
            end = start + WINDOW_CHARS
            cut = paragraph.rfind("\n", start + WINDOW_CHARS // 2, end)
            if cut < 0:
                cut = paragraph.rfind(" ", start + WINDOW_CHARS // 2, end)
            if cut < 0:
                cut = end
            blocks.append(paragraph[start:cut])
            start = cut
        blocks.append(paragraph[start:])
    return blocks


__all__ = ["DESCRIPTIONS", "KINDS", "ProseVerdict", "assess", "block_kind"]
