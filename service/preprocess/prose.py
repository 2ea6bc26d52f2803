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
     a run of spaces, a comma or semicolon without a space after it); a run of one-line
     paragraphs that are such rows (a page's table, extracted a row per paragraph) is one
     block. Looked at before code: cells of e-mail addresses or links are no program.
  5. encoded — most of its letters sit in "words" over ``LONG_TOKEN`` characters (base64,
     hex, one letter repeated); scripts written without spaces (Chinese, Japanese, Thai,
     Khmer, Lao, Myanmar, Tibetan) are exempt, as their words are not space-delimited.
  6. repeated — it compresses to under ``MIN_COMPRESSION`` of its size (one word or one
     character over and over; ordinary text in any script stays above 0.3).

Checks 2 and 3 look at characters, which a story about software shares with a program: a
news item quoting ``<img src=x onerror=alert(1)>``, a paragraph explaining the ``<b>`` tag,
a release note with a snippet. So a block they flag is not refused for holding code; it is
measured by how much of it reads as sentences (``sentence_chars``): on each line, runs of
``MIN_RUN_WORDS`` or more words (words with small letters, or in a script without case;
numbers, capitals and names like ``readItem`` ride along uncounted), plus the code a
sentence quotes — what lies between two such runs (up to ``GAP_TOKENS`` code tokens, each
counted up to ``LONG_TOKEN`` characters), or opens or ends a line that holds a sentence
and ``EDGE_WORDS`` words. A program's lines hold keywords and names between its symbols,
seldom three plain words in a row (and SQL's are capitals, CSS's ``display: grid;`` a list of
declarations); its comments are sentences and count as such. Those characters are prose,
the rest is what the check found, and the block reads as prose when they make
``MIN_PROSE_SHARE`` of it (it then still faces checks 4–6).

The text is prose when prose holds at least ``MIN_PROSE_SHARE`` of its visible characters
(a Chinese character or kana counts ``DENSE_WEIGHT`` times: it says as much as two letters
or more) — a story quoting code does, a dump of code with a comment line does not; or when
the rest is data a story carries (tables, numbers) and its prose is an article's worth
(``MIN_PROSE_CHARS``, about a hundred words) and at least ``MIN_STORY_SHARE`` of it: a match
report with its results table, whose rows the engines rank behind its sentences. Otherwise
the verdict names what most of the rest is.
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
MIN_RUN_WORDS = 3  # words in a row that read as (part of) a sentence
GAP_TOKENS = 6  # what a sentence may quote between two runs of words, in code tokens
EDGE_WORDS = 6  # a line with this many words and a sentence: code that opens or ends it counts
DENSE_WEIGHT = 2  # a Chinese character or kana, in letters' worth (see _size)

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
# Sentences (see sentence_chars), read token by token in one pass: a token is what lies
# between spaces, and a run of a space-less script's characters (with its full-width
# punctuation) is a token of its own.
_SPACELESS_CLASS = (
    "\u0e00-\u0fff\u1000-\u109f\u1780-\u17ff\u2e80-\u2fdf\u3000-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff"
)
# Chinese characters and kana: each says about as much as two or three letters.
_DENSE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_OPENING = "\"'(“‘„«‹¿¡"
_CLOSING = "\"'”’»›).,;:!?…%"
# Letters, marks and digits other than a space-less script's; possessive: no backtracking
# over a long token.
_WORD_PART = rf"[[\p{{L}}\p{{M}}\p{{N}}]--[{_SPACELESS_CLASS}]]++"
_ENDS = rf"(?![^\s{_SPACELESS_CLASS}])"  # the token ends here
_TOKENS = regex.compile(
    r"(?P<line>\n)"
    rf"|(?P<spaceless>[{_SPACELESS_CLASS}]+)"
    # A number: "2027", "12.5%", "$4.3bn" is a word below; "1,250,000", "22:00", "24/7".
    rf"|(?P<number>[{_OPENING}]*(?:[$€£¥])?\d[\d.,:/'’\-]*+%?[{_CLOSING}]*){_ENDS}"
    # A word: letters and digits, joined inside by an apostrophe, a hyphen or a slash
    # ("l'eau", "vingt-quatre", "and/or", "HTTP/3"), or a number's "." "," ":"; or an
    # abbreviation ("U.S.", "e.g."). Quotes and brackets may open it, punctuation close it;
    # not a quoted key ('"id":').
    rf"|(?P<word>[{_OPENING}]*(?:(?:\p{{L}}\.){{2,}}|(?:[$€£¥](?=\d))?{_WORD_PART}"
    rf"(?:(?:['’/\-]|(?<=\d)[.,:](?=\d)){_WORD_PART})*+%?)"
    r"(?:[\"'”’»›)]*[.,;!?…%]*|[.,;:!?…%)”’»›]*))"
    rf"{_ENDS}"
    # Punctuation standing alone (a dash, a bullet, French " : " and « »): neither.
    rf"|(?P<punctuation>[-–—•·*…&/:;!?«»\"“”„'‘’,.]+){_ENDS}"
    # Anything else is code (or a path, an address, a payload).
    rf"|[^\s{_SPACELESS_CLASS}]+",
    regex.V1,  # for the set difference in _WORD_PART
)
_EDGES = _OPENING + _CLOSING
_RUN_KINDS = frozenset({"word", "number", "spaceless"})
_KEY_END = re.compile(r"[\"']:")  # '": ' after a key ('{"标题": "…"}'): code, not punctuation
_TAG_TEXT = regex.compile(r">\p{L}[\p{L}\p{M}\p{N}'’\-]*[.,;:!?]*$")  # "<title>Storm"
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
    prose_share: float  # of visible characters (weighed as _size does), that read as prose
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
        size = _size(block, visible)
        sentences, kind = _judge(block, visible, size)
        prose += sentences
        if kind is not None and size > sentences:
            other[kind] += size - sentences
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
    size = _size(block, visible)
    sentences, kind = _judge(block, visible, size)
    return None if sentences >= MIN_PROSE_SHARE * size else kind


def _size(block: str, visible: int) -> int:
    """How much ``block`` says, in characters: its visible ones, with Chinese characters and
    kana counted DENSE_WEIGHT times (one says about as much as two or three letters do)."""
    return visible + (DENSE_WEIGHT - 1) * _DENSE.subn("", block)[1]


def _judge(block: str, visible: int, size: int) -> tuple[int, str | None]:
    """(how much of ``block`` is prose, out of ``size``; the kind of the rest: None when all
    of it is prose)."""
    if sum(len(m) for m in _STACKED_MARKS.findall(block)) > MAX_STACKED_MARK_SHARE * visible:
        return 0, "marks"
    # Letters and the marks on them: Myanmar or Devanagari write vowels as marks.
    letters = _letters(block) + len(_MARK.findall(block))
    flagged = None
    if letters < MIN_LETTER_SHARE * visible:
        flagged = "letters"
    elif _is_table(block):  # (cells of e-mail addresses or links look like code)
        return 0, "table"
    elif len(_CODE.findall(block)) >= CODE_SHARE * visible:
        flagged = "code"
    sentences = size
    if flagged is not None:  # a program's characters: how much of it reads as sentences?
        if _repeated(block):
            return 0, flagged  # (a pasted script, markup over and over: not worth reading)
        sentences = min(sentence_chars(block), size)
        if sentences < MIN_PROSE_SHARE * size:
            return sentences, flagged
    if _is_table(block):
        return 0, "table"
    long_letters = 0
    for token in _LONG_TOKEN.findall(block):
        token_letters = _letters(token)
        if len(_SPACELESS.findall(token)) * 2 < token_letters:
            long_letters += token_letters
    if long_letters > MAX_LONG_TOKEN_SHARE * letters:
        return 0, "encoded"
    if flagged is None and _repeated(block):
        return 0, "repeated"
    return sentences, flagged if sentences < size else None


def _repeated(block: str) -> bool:
    """Does ``block`` compress to under MIN_COMPRESSION of its size?"""
    if len(block) < COMPRESSION_MIN_CHARS:
        return False
    data = block.encode("utf-8")
    return len(zlib.compress(data, 1)) < MIN_COMPRESSION * len(data)


def sentence_chars(block: str) -> int:
    """The visible characters of ``block`` that read as sentences: runs of words on a line,
    and what a line quotes between two of them (see the module docstring).

    A run is a sentence when ``MIN_RUN_WORDS`` of its words have small letters only after
    the first (or letters without case), no fewer than its all-capital words (SQL's "ORDER
    BY x DESC"), and at most a quarter of its tokens end with ":" or ";" ("display: grid;
    gap: 1rem;"). Numbers and names written like a program's ("readItem") ride along
    uncounted. A line that starts with "|" is a table's row."""
    total = 0
    # The run of words being read: words that count, capital ones, characters, tokens,
    # tokens ending with ":" or ";".
    words = capitals = chars = tokens = declarations = 0
    # What lies between the line's last sentence (if any: after) and the run; the last
    # sentence's words.
    gap_chars = gap_tokens = 0
    # What opens the line before its first sentence; the line's words (in runs).
    lead_chars = lead_tokens = line_words = 0
    loose = 0  # punctuation standing alone, before a run of words (or else in the gap)
    # A row of a table; the last code read opens a value (a key, '"title":', or a tag with
    # its text, "<title>Storm"), and so the run of words being read is a record's field
    # (data, not a sentence).
    after = row = key = value = False
    for match in _TOKENS.finditer(block + "\n"):
        kind = match.lastgroup
        if row and kind != "line":
            continue
        token = match.group()
        if kind == "punctuation" and not _KEY_END.search(token):
            if tokens:
                chars += len(token)
            else:
                loose += len(token)
            continue
        if not tokens and kind in _RUN_KINDS:
            value = key
            chars, loose = loose, 0
        if kind == "word":
            core = token.strip(_EDGES)
            tail = core[1:]
            if len(core) > 1 and core.isupper():
                capitals += 1
            elif tail == tail.lower():
                words += 1
            chars += len(token)
            tokens += 1
            declarations += token[-1] in ":;"
            continue
        if kind == "number":
            chars += len(token)
            tokens += 1
            continue
        if kind == "spaceless":  # a word per two characters
            words += max(1, len(token) // 2)
            chars += len(token) + (DENSE_WEIGHT - 1) * _DENSE.subn("", token)[1]
            tokens += 1
            continue
        # A line's end or code: the run of words ends here.
        gap_chars += loose
        loose = 0
        if tokens:
            if not value:
                line_words += words
            sentence = not value and words >= MIN_RUN_WORDS and capitals <= words
            if sentence and declarations * 4 <= tokens:
                if after:
                    if gap_tokens <= GAP_TOKENS:
                        total += gap_chars  # what it quotes, between two sentences
                else:
                    lead_chars, lead_tokens = gap_chars, gap_tokens
                total += chars
                gap_chars = gap_tokens = 0
                after = True
            else:  # too short a run: words within what a sentence quotes
                gap_chars += chars
            words = capitals = chars = tokens = declarations = 0
        if kind == "line":
            # A line of sentences also takes the code that opens or ends it ("`git reflog`
            # finds lost commits", "… then run `make install`").
            if after and line_words >= EDGE_WORDS:
                total += lead_chars if lead_tokens <= GAP_TOKENS else 0
                total += gap_chars if gap_tokens <= GAP_TOKENS else 0
            gap_chars = gap_tokens = lead_chars = lead_tokens = line_words = 0
            after = row = key = False
        elif not after and not gap_tokens and token.startswith("|"):
            row = True  # a table's row
        else:
            gap_chars += min(len(token), LONG_TOKEN)
            gap_tokens += 1
            key = _KEY_END.search(token) is not None or _TAG_TEXT.search(token) is not None
    return total


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


# The cells of a table row that extraction wrote out ("| Aberconwy | Robin Millar |"):
# tabs or bars only (commas without a space are how Chinese prose is often written).
_ROW_CELLS = re.compile(r"\t|\|")


def _table_runs(paragraphs: list[str]) -> list[str]:
    """The paragraphs, with each run of MIN_TABLE_LINES or more one-line table rows (two
    tabs or bars or more) joined into one block: a page's table comes out of extraction a
    row per paragraph, and is judged as the table it is."""
    out: list[str] = []
    run: list[str] = []
    for paragraph in [*paragraphs, ""]:
        if "\n" not in paragraph.strip() and len(_ROW_CELLS.findall(paragraph.strip())) >= 2:
            run.append(paragraph)
            continue
        if len(run) >= MIN_TABLE_LINES:
            out.append("\n".join(run))
        else:
            out.extend(run)
        run = []
        out.append(paragraph)
    return out[:-1]


def _blocks(text: str) -> list[str]:
    """Blank-line paragraphs, each cut into windows of at most WINDOW_CHARS (at a line end
    or a space where there is one near the cut)."""
    blocks: list[str] = []
    for paragraph in _table_runs(_BLOCKS.split(text)):
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


__all__ = ["DESCRIPTIONS", "KINDS", "ProseVerdict", "assess", "block_kind", "sentence_chars"]
