"""Repair and normalize raw article text before anything looks at its content.

Scraped text carries mojibake (``â‚¬78bn`` for ``€78bn``), HTML entities, NBSP-only lines,
odd Unicode spaces, control characters and mixed line endings; models and dedup both see
cleaner input if these are settled first, in one place.

``repair`` runs, line by line:
  1. line endings unified (``\\r\\n``, ``\\r``, U+2028/2029, NEL)
  2. control and invisible characters removed (before ftfy, so that removing them can never
     put two halves of a mojibake sequence next to each other after ftfy has looked)
  3. ftfy: mojibake, HTML entities, ligatures, full-width letters, NFC (quotes are kept as
     written: „…“, “…”, ’ are the article's text, and a snippet quoted from the page must
     still be found in it)
  4. every kind of space becomes one ASCII space; lines stripped; blank runs collapsed

and repeats a changed line until it no longer changes, so repairing repaired text is a no-op
(ftfy alone is not idempotent: ``&amp;amp;`` loses one level of escaping per pass).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import ftfy

__all__ = ["Repaired", "normalize_text", "repair", "split_paragraphs"]

# Every Unicode space separator (NBSP, thin space, ideographic space, …) plus tab/FF/VT.
_ODD_SPACES = re.compile(r"[\t\v\f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# Zero-width and bidi formatting characters carry no content for a summarizer; C0/C1 control
# characters except tab (a space, below) and newline neither.
_INVISIBLE_OR_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff\u200e\u200f\u202a-\u202e"
    r"\u2066-\u2069\ufff9-\ufffb]"
)
_SPACE_RUN = re.compile(r" {2,}")
_BLANK_RUN = re.compile(r"\n{3,}")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\x85]")

# ftfy costs about 1 s per MB, and most lines of English news cannot be changed by it: a
# line made only of printable ASCII without "&" and of curly quotes, dashes, ellipses and
# NBSP holds no entity and no mojibake. Mojibake is UTF-8 read in a legacy code page, so it
# needs a lead and a continuation byte of that code page: in cp1252, latin-1 and the
# Cyrillic, Greek and Central European pages these marks are all continuation bytes (the
# leads are letters such as Â Ã â Ð), in MacRoman all lead bytes (the continuations are
# letters and symbols such as Ä • ° £). ftfy leaves such a line as it is (quotes are not
# straightened: see _FTFY_CONFIG); tests/test_preprocess.py checks that this shortcut gives
# ftfy's answer on any text drawn from this alphabet.
_FTFY_SAFE = re.compile(r"[\x09\x20-\x25\x27-\x7e\u00a0\u02bc\u2018-\u201f\u2013\u2014\u2026]*")
# unescape_html=True rather than "auto": HTML goes through the extractor (preprocess.html)
# first, so what reaches this point is text, and "auto" would keep entities on any line that
# happens to contain "<", which makes the result depend on where lines are cut.
# uncurl_quotes=False: curly quotes and apostrophes are the article's own characters (German
# „…“ and French « … » carry which side they open), and the text is kept as written.
_FTFY_CONFIG = ftfy.TextFixerConfig(unescape_html=True, uncurl_quotes=False, explain=False)
# A line still changing after this many passes is left as the last pass made it.
_MAX_PASSES = 4


@dataclass(frozen=True)
class Repaired:
    """Normalized text, and how much of it had to be repaired."""

    text: str
    lines_repaired: int  # lines ftfy changed (mojibake, entities, widths, …)
    control_chars_removed: int  # control, zero-width and bidi formatting characters


def repair(text: str) -> Repaired:
    """Repair ``text`` (see the module docstring); paragraphs end up one blank line apart.

    Single newlines inside a paragraph are kept: :func:`split_paragraphs` decides what they
    mean.
    """
    text = _LINE_BREAKS.sub("\n", text).replace("\u2029", "\n\n")
    lines: list[str] = []
    repaired = removed = 0
    for line in text.split("\n"):
        clean, fixed, dropped = _repair_line(line)
        lines.append(clean)
        repaired += fixed
        removed += dropped
    joined = _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip("\n")
    return Repaired(joined, repaired, removed)


def normalize_text(text: str) -> str:
    """Repaired text alone (see :func:`repair`)."""
    return repair(text).text


def _repair_line(line: str) -> tuple[str, bool, int]:
    """One line repaired to a fixed point: (text, whether ftfy changed it, chars removed)."""
    removed = 0
    fixed_any = False
    for _ in range(_MAX_PASSES):
        stripped, n = _INVISIBLE_OR_CONTROL.subn("", line)
        removed += n
        fixed = _fix_unicode(stripped)
        if fixed != stripped:
            fixed_any = True
        clean = _SPACE_RUN.sub(" ", _ODD_SPACES.sub(" ", fixed)).strip()
        if clean == line:
            break
        line = clean
    return line, fixed_any, removed


def _fix_unicode(line: str) -> str:
    if _FTFY_SAFE.fullmatch(line):
        return line
    # ftfy's own NFC step runs before its other fixes; the last NFC makes sure of the result.
    return unicodedata.normalize("NFC", ftfy.fix_text(line, _FTFY_CONFIG))


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of repaired text, each on one line.

    A blank line always ends a paragraph. A single line break ends one too, except where the
    text is only wrapped: the next line starts in lower case, or the line is one of several
    long lines of a hard-wrapped block, and in both cases the line does not end a sentence.
    Scrapers put one paragraph per line (and boilerplate such as "Advertisement" on lines of
    its own), so joining every line of a block, as plain text tools do, would glue titles,
    captions and furniture into the story.
    """
    paragraphs: list[str] = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        if not lines:
            continue
        wrapped = _is_hard_wrapped(lines)
        current = lines[0]
        for prev, line in zip(lines, lines[1:], strict=False):
            if _continues(prev, line, wrapped):
                current = f"{current} {line}"
            else:
                paragraphs.append(current)
                current = line
        paragraphs.append(current)
    return paragraphs


_ENDS_SENTENCE = re.compile(r"[.!?…:;][\"')\]’”»]*$")
# Lines of a hard-wrapped block are at least this long (characters) …
_WRAP_MIN = 40
# … and at least this share of the block's longest line.
_WRAP_SHARE = 0.6


def _is_hard_wrapped(lines: list[str]) -> int:
    """The wrap width of a hard-wrapped block (0 when the block is not hard-wrapped).

    Hard-wrapped: at least three lines, and most lines but the last are long and stop
    mid-sentence, as an e-mail or a fixed-width page wraps them.
    """
    if len(lines) < 3:
        return 0
    width = max(len(line) for line in lines)
    body = lines[:-1]
    mid = sum(
        1 for line in body
        if len(line) >= max(_WRAP_MIN, _WRAP_SHARE * width) and not _ENDS_SENTENCE.search(line)
    )
    return width if mid * 2 > len(body) else 0


def _continues(prev: str, line: str, wrap_width: int) -> bool:
    if _ENDS_SENTENCE.search(prev):
        return False
    if line[0].islower():
        return True
    return bool(wrap_width) and len(prev) >= max(_WRAP_MIN, _WRAP_SHARE * wrap_width)
