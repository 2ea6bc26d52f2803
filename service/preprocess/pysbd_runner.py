"""How pysbd is run: one entry point (:func:`pysbd_spans`), pysbd made faster, the fast path.

pysbd costs about 200 µs a call plus 2-3 µs a character. Two things make it cheaper, each
giving exactly pysbd's sentences (tests compare with unmodified pysbd, ``as_before()``;
bench/sentences.py measures the agreement):

* its abbreviation and list passes made faster (``_English``, ``_Processor``);
* the fast path (``_plan``): a piece is cut where pysbd would cut too and where neither
  side changes what pysbd does on the other, and only the parts where its rules have work
  to do (abbreviations, initials, quotations and such) go to pysbd.

The fast path is on by default; ``BRIEFING_SENTENCE_FAST_PATH=false`` turns it off
(:func:`use_fast_path`), for a pysbd version whose rules it was not read from, or to rule
it out when a split looks wrong.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from pysbd.between_punctuation import BetweenPunctuation
from pysbd.exclamation_words import ExclamationWords
from pysbd.lang.english import English
from pysbd.lists_item_replacer import ListItemReplacer
from pysbd.processor import Processor
from pysbd.utils import Text

log = logging.getLogger(__name__)

__all__ = ["as_before", "pysbd_spans", "use_fast_path"]


class _English(English):
    """pysbd's English rules, with its abbreviation pass made faster (same output)."""

    class AbbreviationReplacer(English.AbbreviationReplacer):
        def search_for_abbreviations_in_string(self, text: str) -> str:
            """What pysbd's method returns, without its repeated work.

            For each abbreviation in the text pysbd scans it again with a regex built on the
            spot, then runs a replacement regex per occurrence: most of pysbd's time, and
            its ~600 patterns overflow ``re``'s cache. Its look-up of the letter after an
            abbreviation has a typo (literal braces: ``(?<={dr} ).``) that finds nothing in
            text without "{", so there every occurrence gets the replacement of its own
            spelling, and once per spelling is enough: replacing "." by "∯" never makes one
            of these regexes match where it did not. Occurrences of abbreviations without
            a "." are found with str.find where that is exact (no character that
            ``re.IGNORECASE`` folds to an ASCII letter, as "ſ" to "s").
            """
            if "{" in text:
                return super().search_for_abbreviations_in_string(text)
            lowered = text.lower()
            exact_find = _FOLDS_TO_ASCII.isdisjoint(text)
            abbreviation = self.lang.Abbreviation
            for abbr in abbreviation.ABBREVIATIONS:
                stripped = abbr.strip()
                if stripped not in lowered:
                    continue
                if exact_find and "." not in stripped:
                    found = _occurrences(text, lowered, stripped)
                else:
                    found = [m.strip() for m in _abbreviation_finder(stripped).findall(text)]
                for am in dict.fromkeys(found):
                    if am + "." not in text:
                        continue  # every replacement below needs the stop after it
                    lower = am.lower()
                    if lower in abbreviation.PREPOSITIVE_ABBREVIATIONS:
                        pattern = _PREPOSITIVE_STOP.format(abbr=am)
                    elif lower in abbreviation.NUMBER_ABBREVIATIONS:
                        pattern = _PRE_NUMBER.format(abbr=am)
                    else:
                        pattern = _PERIOD_OF_ABBR.format(abbr=re.escape(am))
                    # pysbd puts a space in front for the look-behind, then takes it off
                    text = _compiled(pattern).sub("∯", " " + text)[1:]
            return text


# The replacements of pysbd.abbreviation_replacer (replace_prepositive_abbr,
# replace_pre_number_abbr, AbbreviationReplacer.replace_period_of_abbr), verbatim.
_PREPOSITIVE_STOP = r"(?<=\s{abbr})\.(?=(\s|:\d+))"
_PRE_NUMBER = r"(?<=\s{abbr})\.(?=(\s\d|\s+\())"
_PERIOD_OF_ABBR = r"(?<=\s{abbr})\.(?=((\.|\:|-|\?|,)|(\s([a-z]|I\s|I'm|I'll|\d|\())))"
# Non-ASCII characters that re.IGNORECASE matches to an ASCII letter (tests check the list).
_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f\u212a")  # İ ı ſ K (Kelvin)


def _occurrences(text: str, lowered: str, stripped: str) -> list[str]:
    r"""What ``re.findall(r"(?:^|\s|\r|\n)" + stripped, text, re.IGNORECASE)`` finds in
    pysbd, stripped: the spellings of ``stripped`` at the start or after whitespace."""
    found = []
    at = lowered.find(stripped)
    while at >= 0:
        if at == 0 or text[at - 1].isspace():
            found.append(text[at : at + len(stripped)])
        at = lowered.find(stripped, at + 1)
    return found


class _Processor(Processor):
    """pysbd's Processor, skipping its list pass on text without two list items of a kind
    (the pass changes nothing there; see _has_list_items)."""

    def process(self):  # type: ignore[no-untyped-def]
        # pysbd.processor.Processor.process, with the list pass made conditional
        if not self.text:
            return self.text
        self.text = self.text.replace("\n", "\r")
        if _has_list_items(self.text) or "♨" in self.text or "☝" in self.text:
            self.text = ListItemReplacer(self.text).add_line_break()
        self.replace_abbreviations()
        self.replace_numbers()
        self.replace_continuous_punctuation()
        self.replace_periods_before_numeric_references()
        self.text = Text(self.text).apply(
            self.lang.Abbreviation.WithMultiplePeriodsAndEmailRule,
            self.lang.GeoLocationRule,
            self.lang.FileFormatRule,
        )
        return self.split_into_segments()


@functools.cache
def _abbreviation_finder(stripped: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|\s|\r|\n){stripped}", flags=re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# -- fast path: pysbd only where its rules have something to do ------------------------------
#
# pysbd costs about 200 µs a call plus 2-3 µs a character (0.4 MB/s at best), yet most
# sentences of news give none of its rules anything to do. The fast path cuts a piece of
# text where pysbd would cut too *and* where the text on one side cannot change what pysbd
# does on the other. Each part is then "plain" (no sentence punctuation but its final stop,
# and no quotation that pysbd's sentence regex takes apart: pysbd would return it whole) or
# goes to pysbd, consecutive ones together. So pysbd stays the authority and the spans are
# the ones pysbd gives for the whole piece: the rules below are read off pysbd 0.3.4's code
# and use its own constants, and a piece with something whose effect reaches across a cut
# (list items, which pysbd matches over the whole text; parentheses between quotes; numbered
# references) goes to pysbd whole, as before. tests/test_sentences.py checks the two agree
# on generated texts; bench/sentences.py measures it on the eval articles.

_FAST_PATH = True  # see as_before()

_ABBREVIATIONS = frozenset(a.lower() for a in English.Abbreviation.ABBREVIATIONS)
_PREPOSITIVE_ABBREVIATIONS = frozenset(English.Abbreviation.PREPOSITIVE_ABBREVIATIONS)
_PUNCTUATIONS = frozenset(English.Punctuations)
_EXCLAMATION_WORD = re.compile(ExclamationWords.EXCLAMATION_REGEX)
# Characters pysbd uses as placeholders, and the backslash its quote rules treat as an escape:
# text holding one goes to pysbd whole.
_PLACEHOLDERS = frozenset("∯∮ȸȹ☉☈☇☄ᓴᓷᓰᓱᓳᓸ⎋✂⌬♨☝ƪ☏♟♝♬♭\\")
# A cut candidate: a stop at the end of a word (no stops in it but between digits, "£3.5m"),
# maybe one closing quote, whitespace, then a capital or an opening quote (the word is
# checked by _cuts_here).
_CUT = re.compile(r"(?P<stop>[.!?])(?P<quote>[\"'”]?)(?=(?P<space>\s+)(?P<next>[A-Z\"“'‘]))")
_WORD = re.compile(r"(?:[^\s.!?。．！？]|(?<=\d)\.(?=\d))+")
_MAX_WORD = 64  # longer words are no prose: no cut
_OPENING = "\"'“‘(["
# pysbd's rules that reach across the whole text: a piece where one matches goes whole.
# Each with a string every match holds ("(") or a quick regex every match matches.
_WHOLE_PIECE_RULES = [
    ("(", re.compile(English.PARENS_BETWEEN_DOUBLE_QUOTES_REGEX)),
    (re.compile(r"[.∯][\[\d]"), re.compile(English.NUMBERED_REFERENCE_REGEX)),
    ("(", re.compile(ListItemReplacer.ROMAN_NUMERALS_IN_PARENTHESES)),
]
_DOUBLE_PUNCTUATION = re.compile(English.DoublePunctuationRules.DoublePunctuation)
# List items: pysbd matches them over the whole text and turns two or more of a kind that
# follow each other ("a." and "b.", "1." and "2.") into a list. Each kind: a quick regex that
# every item matches (fewer than two matches: fewer than two items), pysbd's regex, and the
# items it keeps.
_LIST_ITEMS = [
    (
        re.compile(hint),
        re.compile(regex),
        frozenset(kinds) if kinds else None,
    )
    for hint, regex, kinds in [
        (r"(?<!\S)[a-z]\.", ListItemReplacer.ALPHABETICAL_LIST_WITH_PERIODS,
         ListItemReplacer.LATIN_NUMERALS + ListItemReplacer.ROMAN_NUMERALS),
        (r"(?<![^\s(])(?:[a-z]|[ivx]{2,5})\)", ListItemReplacer.ALPHABETICAL_LIST_WITH_PARENS,
         ListItemReplacer.LATIN_NUMERALS + ListItemReplacer.ROMAN_NUMERALS),
        (r"(?<![^\s\-⁃])\d{1,2}\.[\s)]", ListItemReplacer.NUMBERED_LIST_REGEX_1, None),
        (r"\d\)\s", ListItemReplacer.NUMBERED_LIST_PARENS_REGEX, None),
    ]
]
# Every item of any kind, with a space put in front of the text: where this matches (fast:
# a match starts with one of a few characters).
_ANY_LIST_HINT = re.compile(r"[\s(\-⁃](?:[a-z]|[ivx]{2,5}|\d{1,2})[.)]|\d\)\s")
# Pairs inside which pysbd hides sentence punctuation (BetweenPunctuation, in its order),
# each with a string it needs and whether it also hides the apostrophes inside.
_BETWEEN = [
    (re.compile(BetweenPunctuation.BETWEEN_SINGLE_QUOTES_REGEX), "'", False),
    (re.compile(BetweenPunctuation.BETWEEN_SINGLE_QUOTE_SLANTED_REGEX), "‘", True),
    (re.compile(BetweenPunctuation.BETWEEN_DOUBLE_QUOTES_REGEX_2), '"', True),
    (re.compile(BetweenPunctuation.BETWEEN_SQUARE_BRACKETS_REGEX_2), "[", True),
    (re.compile(BetweenPunctuation.BETWEEN_PARENS_REGEX_2), "(", True),
    (re.compile(BetweenPunctuation.BETWEEN_QUOTE_ARROW_REGEX_2), "«", True),
    (re.compile(BetweenPunctuation.BETWEEN_EM_DASHES_REGEX_2), "--", True),
    (re.compile(BetweenPunctuation.BETWEEN_QUOTE_SLANTED_REGEX_2), "“", True),
]
_LEADING_APOSTROPHE = re.compile(BetweenPunctuation.WORD_WITH_LEADING_APOSTROPHE)
# The quotation alternatives of pysbd's sentence regex (a quotation followed by a capital is
# a sentence of its own): everything before its "two or more stops" alternative.
_QUOTATION_HEAD, _SEP, _ = English.SENTENCE_BOUNDARY_REGEX.partition("|[。．.！!?？ ]{2,}|")
_QUOTATION_FOUND = bool(_SEP)  # else (another pysbd version) no fast path at all
_QUOTATION = re.compile(_QUOTATION_HEAD)
_QUOTATION_OPENERS = "（「(\'\"“"
_STOP = re.compile("[" + "".join(English.Punctuations) + "]")
_QUOTATION_OPENER = re.compile(f"[{re.escape(_QUOTATION_OPENERS)}]")
_QUOTE_AT_END = re.compile(English.QUOTATION_AT_END_OF_SENTENCE_REGEX)
_CLOSING = "\"'”’)]»"
# Stops pysbd never ends a sentence at, whatever surrounds them (its Numbers rules and
# WithMultiplePeriodsAndEmailRule): "3.5", ".5", "2014.\"", "example.com". Not the second
# stop of "x.y.z": that rule's matches do not overlap, so it leaves "y.z" alone.
_INERT_STOP = re.compile(
    r"(?<=[A-Za-z0-9_])(?<!\.[A-Za-z0-9_])\.(?=[A-Za-z0-9_])|\.(?=[0-9])|(?<=[0-9])\.(?=\S)"
)


class _Piece(NamedTuple):
    start: int
    end: int
    plain: bool  # one sentence for pysbd: no need to ask it
    stop: bool = False  # it ends at a stop that no rule of pysbd's hides (no quote after it)


class _Plan(NamedTuple):
    pieces: list[_Piece]
    lists: bool  # the text holds two list items of a kind (pysbd makes no list of them)


def _plan(text: str) -> _Plan | None:
    """``text`` cut where pysbd cuts and neither side changes what it does on the other, or
    None where a rule that reaches across cuts applies (pysbd then gets it whole)."""
    lists = _has_list_items(text)
    if not _separable(text, lists):
        return None
    pairs = _pairs(text)
    inside, span_ends = pairs.inside, pairs.ends
    pieces: list[_Piece] = []
    start = 0
    for m in _CUT.finditer(text):
        cut = m.end()
        if inside[cut] or not _cuts_here(text, m, span_ends):
            continue
        pieces.append(_Piece(start, cut, _is_plain(pairs, start, cut), not m["quote"]))
        start = cut + len(m["space"])
    pieces.append(_Piece(start, len(text), _is_plain(pairs, start, len(text))))
    return _Plan(pieces, lists)


def _cuts_here(text: str, m: re.Match[str], span_ends: set[int]) -> bool:
    """Whether pysbd ends a sentence at this candidate whatever comes before or after it.

    The stop must be one that no rule of pysbd's hides: not after a title ("Gov.", pysbd's
    list), another abbreviation before "I" ("Sept. I"), "Yahoo!", a single letter, or a word
    with stops inside ("U.S."), and not at the very start ("1. "). A closing quote after
    it: pysbd cuts after the quote only when the quotation hid the stop, or for "!" and "?",
    and then only before one space and a capital (its QUOTATION_AT_END_OF_SENTENCE rule).
    """
    stop = m["stop"]
    at = m.start()
    left = text[max(0, at - _MAX_WORD) : at]
    if not left or left[-1].isspace():
        return False
    word = left.split()[-1]
    if len(word) == _MAX_WORD or not _WORD.fullmatch(word):
        return False
    last = word[-1]
    if last.isalpha():
        # pysbd looks for abbreviations and single letters after a space: "50p." or
        # "build-up." cannot be one, "(Gov." can
        core = word.lstrip(_OPENING).lower()
        if len(core) < 2:
            return False
        if core in _ABBREVIATIONS and (
            core in _PREPOSITIVE_ABBREVIATIONS or m["quote"] or m["next"] == "I"
        ):
            # pysbd keeps the stop of a title ("Gov. Brown"); of another abbreviation only
            # before a lower-case word, a digit, "(" or "I" ("Sept. I"), not before "He"
            return False
    elif last.isdigit():
        if not last.isascii() or at == len(word):  # "1. " at the start is a list item
            return False
    elif last not in _CLOSING and last != "%":
        return False
    if _EXCLAMATION_WORD.search(word + stop):
        return False
    if not m["quote"]:
        return True
    if len(m["space"]) != 1 or not m["next"].isalpha():
        return False
    return m.end() in span_ends or (stop in "!?" and m["quote"] in "\"'")


def _has_list_items(text: str) -> bool:
    """Whether ``text`` holds two list items of a kind (which pysbd may make a list of)."""
    spaced = " " + text  # so that an item at the start has a space before it too
    first = _ANY_LIST_HINT.search(spaced)
    if first is None or _ANY_LIST_HINT.search(spaced, first.start() + 1) is None:
        return False  # not two places where an item of any kind could be
    for hint, regex, kinds in _LIST_ITEMS:
        if len(hint.findall(text)) < 2:
            continue  # pysbd's (slow) regex cannot find two either
        items = regex.findall(text)
        if kinds is not None:
            items = [i for i in items if i in kinds]
        if len(items) > 1:
            return True
    return False


def _makes_list(text: str) -> bool:
    """Whether pysbd's ListItemReplacer changes ``text`` (makes a list of items in it)."""
    return ListItemReplacer(text).add_line_break() != text


def _separable(text: str, lists: bool) -> bool:
    """Whether none of pysbd's rules that look at the whole text applies (``lists``: it
    holds two list items of a kind)."""
    if not _PLACEHOLDERS.isdisjoint(text) or _DOUBLE_PUNCTUATION.match(text):
        return False
    for needs, rule in _WHOLE_PIECE_RULES:
        if (needs in text if isinstance(needs, str) else needs.search(text)) and rule.search(
            text
        ):
            return False
    return not (lists and _makes_list(text))


class _Pairs(NamedTuple):
    inside: bytearray  # 1: no cut here (inside a protected pair or a quotation pysbd takes)
    protected: bytearray  # 1: inside a pair where pysbd hides the stops
    ends: set[int]  # where protected pairs end
    view: str  # the text as pysbd's sentence regex sees it (some apostrophes hidden)


def _pairs(text: str) -> _Pairs:
    """The pairs of quotes and brackets in ``text`` that pysbd gives a meaning."""
    inside = bytearray(len(text) + 1)
    protected = bytearray(len(text) + 1)
    ends: set[int] = set()
    hidden: list[tuple[int, int]] = []  # pairs whose apostrophes pysbd hides
    skips = None
    for regex, needs, hides in _BETWEEN:
        if needs not in text:
            continue
        if not hides and skips is None:  # single quotes: pysbd may leave them alone
            skips = _skips_single_quotes(text)
        for m in regex.finditer(text):
            a, b = m.span()
            inside[a + 1 : b] = b"\x01" * (b - a - 1)
            if hides or not skips:
                protected[a + 1 : b] = b"\x01" * (b - a - 1)
            ends.add(b)
            if hides:
                hidden.append((a, b))
    view = text
    if hidden and "'" in text:
        chars = list(text)
        for a, b in hidden:
            at = text.find("'", a, b)
            while at >= 0:
                chars[at] = "\x00"
                at = text.find("'", at + 1, b)
        view = "".join(chars)
    for opener in _QUOTATION_OPENER.finditer(view):
        i = opener.start()
        m = _QUOTATION.match(view, i)
        if m:
            inside[i + 1 : m.end()] = b"\x01" * (m.end() - i - 1)
            # The regex takes the quotation whole only when a capital follows it: pysbd
            # asked about the part before a cut right after it might split the quotation
            # at a stop inside that nothing else protects. No cut there, then.
            if any(not protected[s.start()] for s in _STOP.finditer(view, i + 1, m.end() - 1)):
                inside[m.end()] = 1
    return _Pairs(inside, protected, ends, view)


def _is_plain(pairs: _Pairs, start: int, end: int) -> bool:
    """Whether pysbd keeps ``text[start:end]`` (between two cuts) as one sentence: no stop
    in it but its last, a stop pysbd never ends a sentence at ("3.5") or one it hides
    inside quotes or brackets (then restores, and only cuts after a quote followed by a
    space and a capital)."""
    view = pairs.view
    text = view[start:end]
    body_end = start + len(text.rstrip(_CLOSING))
    if body_end > start and view[body_end - 1] in _PUNCTUATIONS:
        body_end -= 1
    for stop in _STOP.finditer(view, start, body_end):
        at = stop.start()
        if not pairs.protected[at] and not (view[at] == "." and _INERT_STOP.match(view, at)):
            return False
    if _QUOTE_AT_END.search(text):
        return False
    # a quotation at its start that pysbd's sentence regex would take as a sentence
    return not (text[0] in _QUOTATION_OPENERS and _QUOTATION.match(view, start, end))


def _planned_spans(text: str, planned: _Plan) -> list[tuple[int, int]] | None:
    """Sentence spans of ``text``: plain parts as they are, runs of the others by pysbd.
    A run that pysbd might split differently from the same text inside ``text`` takes in
    its neighbours (see same_as_inside); None when only all of ``text`` would do."""
    plan = planned.pieces
    if len(plan) == 1 and not plan[0].plain:
        return None
    # groups of parts, [first, last]: a plain part alone, or a run of the others
    groups: list[list[int]] = []
    for i, piece in enumerate(plan):
        if not piece.plain and groups and not plan[groups[-1][1]].plain:
            groups[-1][1] = i
        else:
            groups.append([i, i])
    skips = None  # _skips_single_quotes(text), when a run needs it
    lists = planned.lists

    def run_text(group: list[int]) -> tuple[int, str]:
        # with the space before it: pysbd's quote rules look for one before a quote
        offset = max(0, plan[group[0]].start - 1)
        return offset, text[offset : plan[group[1]].end]

    def same_as_inside(group: list[int]) -> bool:
        # pysbd's whole-text conditions: text where its first rules left no stop is
        # returned as it is (its sentence regex never sees it; ``text`` has a stop that
        # stays at each cut without a quote), single quotes skipped, list items made a list
        nonlocal skips
        if skips is None:
            skips = _skips_single_quotes(text)
        run = run_text(group)[1]
        return (
            any(plan[i].stop for i in range(group[0], group[1] + 1))
            and _skips_single_quotes(run) == skips
            and not (lists and _makes_list(run))
        )

    g = 0
    while g < len(groups):
        first, last = groups[g]
        if first == last and plan[first].plain or same_as_inside(groups[g]):
            g += 1
        elif len(groups) == 1:
            return None  # only pysbd on the whole text will do
        elif g + 1 < len(groups):
            groups[g][1] = groups.pop(g + 1)[1]  # take in the next group and look again
        else:
            groups[g - 1][1] = groups.pop(g)[1]  # or the one before
            g -= 1
    spans: list[tuple[int, int]] = []
    for first, last in groups:
        if first == last and plan[first].plain:
            spans.append((plan[first].start, plan[first].end))
        else:
            offset, run = run_text([first, last])
            spans.extend((offset + a, offset + b) for a, b in _pysbd_spans(run))
    return spans


def _skips_single_quotes(text: str) -> bool:
    """pysbd's BetweenPunctuation leaves single quotes alone in a text with a word that
    starts with an apostrophe and no apostrophe before a space: a whole-text condition, so
    a run must meet it exactly when the text it is part of does."""
    if "'" not in text:
        return False
    if text[-1] not in _PUNCTUATIONS:
        text += "ȸ"  # what pysbd appends before it looks
    return bool(_LEADING_APOSTROPHE.search(text)) and not re.search(r"'\s", text)


def pysbd_spans(piece: str) -> list[tuple[int, int]]:
    """Sentence spans of ``piece`` as pysbd splits it: (start, end) offsets covering its text.

    With the fast path on (see _plan) pysbd is asked only about the parts that need it; the
    spans are the same as pysbd's on the whole piece.
    """
    if _FAST_PATH and _QUOTATION_FOUND:
        plan = _plan(piece)
        if plan is not None:
            spans = _planned_spans(piece, plan)
            if spans is not None:
                return spans
    return list(_pysbd_spans(piece))


def use_fast_path(enabled: bool) -> None:
    """Turn the fast path on or off for this process (``BRIEFING_SENTENCE_FAST_PATH``)."""
    global _FAST_PATH
    _FAST_PATH = enabled


@functools.lru_cache(maxsize=4096)
def _pysbd_spans(piece: str) -> tuple[tuple[int, int], ...]:
    """Run pysbd on ``piece`` and map its sentences back to offsets in it.

    pysbd can alter text (it uses placeholder characters internally). A sentence that cannot
    be found verbatim is replaced by the original text between its neighbours, so the
    spans always cover the input exactly. Cached: dedup splits a paragraph again after
    each pass that cut something from it.
    """
    try:
        # Segmenter.segment() would store the text on the shared Segmenter (not thread-safe)
        # and re-find every sentence with a regex over the whole text (quadratic); its
        # Processor does the actual splitting, and the offsets are found below instead.
        processor, language = _PYSBD
        found = processor(piece, language).process() or []
    except Exception:  # a pysbd bug must not take the pipeline down: keep the text whole
        log.exception("sentence splitting failed; the text is kept as one sentence")
        found = []
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in found:
        sentence = sentence.strip()
        if not sentence:
            continue
        at = piece.find(sentence, cursor)
        if at < 0:
            continue
        if piece[cursor:at].strip():
            spans.append((cursor, at))  # text pysbd lost or rewrote
        spans.append((at, at + len(sentence)))
        cursor = at + len(sentence)
    if piece[cursor:].strip():
        spans.append((cursor, len(piece)))
    return tuple(spans)


# The pysbd that _pysbd_spans runs: its Processor and language, or the faster ones above.
_PYSBD: tuple[type[Processor], type[English]] = (_Processor, _English)


@contextmanager
def as_before() -> Iterator[None]:
    """Split as before the fast path: unmodified pysbd on every piece (for the benchmarks
    and tests that compare; it switches module state, so not while other threads split)."""
    global _FAST_PATH, _PYSBD
    saved = _FAST_PATH, _PYSBD
    _FAST_PATH, _PYSBD = False, (Processor, English)
    _pysbd_spans.cache_clear()
    try:
        yield
    finally:
        _FAST_PATH, _PYSBD = saved
        _pysbd_spans.cache_clear()
