"""Sentence splitting for the preprocessing stage.

Why not plain pysbd: pysbd is the best rule-based English splitter we have (it passes 47 of
its 48 Golden Rules), but news text breaks it in three ways that matter to us:

* Scraped articles (XSum in particular) glue sentences together without a space
  ("...for the community.Dr Venter said..."); pysbd keeps those as one sentence.
* Single newlines are always boundaries for pysbd, even inside a hard-wrapped sentence,
  while a blank line must always be a boundary for us.
* It is slow (about 0.2-0.4 MB/s) and its cost grows with the string it is given, so it must
  never see a whole 1 MB document at once.

So this module cuts the text into paragraphs (blank lines) and lines, rejoins lines that are
only wrapped, cuts again at glued boundaries, and only then asks pysbd about each small
piece. Each sentence returned is sliced from the (whitespace-normalized) input, so the
splitter can drop whitespace but never invents or rewrites text, even when pysbd does.

pysbd itself is run by :mod:`service.preprocess.pysbd_runner` (one entry point,
``pysbd_spans``): made faster, and asked only about the parts of a piece where its rules
have work to do (the fast path, ``BRIEFING_SENTENCE_FAST_PATH``), with exactly pysbd's
sentences either way.
"""

from __future__ import annotations

import re

from pysbd.lang.english import English

from service.preprocess.pysbd_runner import as_before, pysbd_spans

__all__ = ["as_before", "split_sentences"]


# pysbd never sees more than this many characters at once; longer runs without a line
# break are walked through in windows (see _segment_long).
_WINDOW = 2000

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"

# A glued boundary candidate: sentence punctuation, maybe one quote or bracket, then a
# capitalised word of at least two letters ("community.Dr Venter", 'said."The'). The word
# must not run on into a domain, an e-mail address, a path or a call ("Jonathan.Amos@bbc",
# "os.Path(").
_GLUE = re.compile(rf"([.!?])([\"'”’“‘)\]]?)(?=[{_UPPER}][{_LOWER}]+(?!\w*(?:[@/(]|[.:]\w)))")
_RIGHT_WORD = re.compile(rf"[{_UPPER}][{_LOWER}]+")
# Capitalised top-level domains seen in prose ("Amazon.Com", "ASP.Net").
_TLDS = frozenset("com net org gov edu mil info biz io co uk tv ly".split())
# Titles that come before a name, where "Dr.Venter" is a missing space, not a boundary.
_PREPOSITIVE = frozenset(English.Abbreviation.PREPOSITIVE_ABBREVIATIONS) | {"mt", "messrs"}
# A number left of the dot: "bought 1,000.That", "46%.The", "£25.98m.Badminton", "won 3-1.City".
_NUMBER = re.compile(r"\W*\d[\d,:]*(?:[-–]\d[\d,]*)*(?:\.\d+)?(?:%|[a-z]{0,3})?")
# An acronym left of the dot: "the UK.Last", "flight MH17.The", "World War II.The".
_ACRONYM = re.compile(r"[A-Z0-9]*[A-Z][A-Z0-9]*")
# Longest left-hand token looked at; longer runs without a space are not prose.
_MAX_TOKEN = 64
_URLISH = re.compile(r"[/@]|^www|^https?:", re.IGNORECASE)

# A "sentence" that is only a clock time is the head of the next one: pysbd splits
# "At 5 a.m. Mr. Smith went to the bank." after "a.m." (Golden Rule 18).
_TIME_FRAGMENT = re.compile(
    r"(?:(?:shortly|just)\s+)?(?:(?:at|by|before|after|until|till|from|around|about|since)\s+)?"
    r"\d{1,2}(?:[:.]\d{2})?\s*[ap]\.\s?m\.",
    re.IGNORECASE,
)
_TIME_FRAGMENT_MAX = 40

# AP style: a party-state tag ("D-Ore.", "R-W.Va."), a state or title abbreviation ("Calif.",
# "Gov.") or dotted initials ("U.S.", "D.C.") ends a piece that pysbd cut, and the next
# piece goes on in lower case or with a comma (", said no.", "economy grew"): one sentence
# ("Sen. Ron Wyden, D-Ore., said no."), not two.
# Named, not any short capitalized word: "in March. prices rose" stays two sentences.
_AP_ABBREVIATIONS = (
    # AP state abbreviations without inner dots
    "Ala|Ariz|Ark|Calif|Colo|Conn|Del|Fla|Ga|Ill|Ind|Kan|Ky|La|Md|Mass|Mich|Minn|Miss|Mo|"
    "Mont|Neb|Nev|Okla|Ore|Pa|Tenn|Vt|Va|Wash|Wis|Wyo|"
    # titles and name suffixes
    "Gov|Sen|Rep|Lt|Gen|Col|Maj|Sgt|Capt|Cmdr|Adm|Atty|Supt|Dr|Mr|Mrs|Ms|Prof|Rev|Jr|Sr|St|"
    # months as AP abbreviates them, company suffixes
    "Jan|Feb|Aug|Sept|Oct|Nov|Dec|Inc|Corp|Co|Ltd|Bros"
)
_ABBREVIATION_END = re.compile(
    r"(?:^|[\s(\[\"'“‘])(?:[DRI]-)?"
    r"(?:(?:[A-Z]\.){2,}|[A-Z]\.[A-Z][a-z]{1,3}\.|(?:" + _AP_ABBREVIATIONS + r")\.)$"
)
_CONTINUES = re.compile(r"[,;:)\]]|[a-z]")
# A lone lower-case consonant with its stop is an abbreviation, not a sentence's end ("Palm
# Bay d. Rockledge 70-44": AP's "defeated"; "c. 1850", "v.", "b."): the next piece goes on.
# Vowels are words that can end one ("Clare without an i.", Welsh "yn fy marn i.").
_LETTER_ABBREVIATION = re.compile(r"(?:^|[\s(\[])[b-df-hj-np-tv-xz]\.$")

# Leading list markers, skipped when deciding whether a line starts like a sentence.
_LIST_MARKER = re.compile(r"(?:[-*•·–—]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+")
_OPENERS = "\"'“‘([«"
_CLOSERS = "\"'”’)]»"


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, in order, stripped and non-empty.

    A blank line always ends a sentence. A single line break ends one too, unless the next
    line starts in lower case and continues a line that started like a sentence (a wrapped
    line: the two are joined with a space). Never raises; ``""`` gives ``[]``.
    """
    sentences: list[str] = []
    for unit in _units(text):
        for chunk in _split_glued(unit):
            sentences.extend(_segment(chunk))
    return sentences


def _units(text: str) -> list[str]:
    """Paragraphs cut into runs of lines that belong together, each joined with spaces."""
    units: list[str] = []
    group: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:  # blank line: paragraph break, always a boundary
            if group:
                units.append(" ".join(group))
                group = []
        elif group and _is_continuation(group, line):
            group.append(line)
        else:
            if group:
                units.append(" ".join(group))
            group = [line]
    if group:
        units.append(" ".join(group))
    return units


def _is_continuation(group: list[str], line: str) -> bool:
    """Whether ``line`` continues a sentence that was wrapped at the end of ``group``.

    "It was a cold\\nnight in the city." is one sentence, but a list of lower-case items
    ("features\\ncontact manager") is not: join only when the group began like a sentence
    (capital or digit, after any list marker or opening quote) and has not just announced
    a list with a colon.
    """
    if not line[0].islower() or group[-1].endswith(":"):
        return False
    marker = _LIST_MARKER.match(group[0])
    head = group[0][marker.end() if marker else 0 :].lstrip(_OPENERS)
    return bool(head) and (head[0].isupper() or head[0].isdigit())


def _split_glued(unit: str) -> list[str]:
    """Cut ``unit`` where a sentence ends and the next starts without a space."""
    cuts: list[int] = [0]
    quotes = scanned = 0  # straight double quotes before the candidate, counted once
    for match in _GLUE.finditer(unit):
        quotes += unit.count('"', scanned, match.start())
        scanned = match.start()
        cut = _glued_cut(unit, match, quote_open=quotes % 2 == 1)
        if cut is not None and cut > cuts[-1]:
            cuts.append(cut)
    if len(cuts) == 1:
        return [unit]
    cuts.append(len(unit))
    return [unit[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _glued_cut(unit: str, match: re.Match[str], *, quote_open: bool) -> int | None:
    """Where to cut for a glued-boundary candidate, or None when it is no boundary.

    Triggers on a lower-case letter, a closing quote or bracket, a number ("1,000.That")
    or an acronym ("the UK.Last") before the punctuation. Not on initials and dotted
    abbreviations ("J.K.", "e.g.", "U.S."), titles ("Dr.Venter"), domains and e-mail
    addresses ("Amazon.Com", "bbc.co.uk"), ellipses, or a list number at the line start.
    """
    punct = match.start(1)
    left = unit[max(0, punct - _MAX_TOKEN) : punct]  # bounded: no quadratic look-back
    if not left or left[-1].isspace():
        return None
    token = left.split()[-1]
    core = token.lstrip(_OPENERS).rstrip(_CLOSERS)
    right = _RIGHT_WORD.match(unit, match.end())
    if not core or right is None:
        return None
    if match.group(1) == "." and right.group().lower() in _TLDS:
        after = unit[right.end() : right.end() + 1]
        if not (after.isalnum() or after in "-'’"):
            return None  # "Amazon.Com", "ASP.Net"; not "actors?Co-creator"
    before = unit[punct - 1]
    if _NUMBER.fullmatch(core):
        # "1.First item" at the start of a line is a list, not two sentences.
        if punct == len(token) and len(core) <= 3 and match.group(1) == ".":
            return None
    elif "." in core or _URLISH.search(core):
        return None  # dotted abbreviation, ellipsis, domain, e-mail or path
    elif before in _CLOSERS or before in "!?":
        pass  # '"fight".Jon', "(HMRC).An", "What?!The"
    elif before.islower():
        if len(core) == 1 or core.lower() in _PREPOSITIVE:
            return None  # "p.", "v.", "Dr.", "St."
    elif not (len(core) > 1 and _ACRONYM.fullmatch(core)):
        return None  # single initials ("Group F.Should"), "PhD.", anything else
    quote = match.group(2)
    if not quote:
        return punct + 1
    if quote in "”’)]":
        return match.end(2)  # closes the sentence that just ended
    if quote == '"' and quote_open:
        return match.end(2)  # an open straight quote: this one closes it
    return match.start(2)  # opens the next sentence


def _segment(chunk: str) -> list[str]:
    """pysbd on one short piece of text, with the fixes that need its output."""
    merged: list[list[int]] = []
    for start, end in _segment_spans(chunk):
        if merged and _belongs_to_previous(chunk, merged[-1], start, end):
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [s for s in (chunk[a:b].strip() for a, b in merged) if s]


def _belongs_to_previous(chunk: str, previous: list[int], start: int, end: int) -> bool:
    """Whether pysbd's sentence ``chunk[start:end]`` should be joined to the one before.

    pysbd leaves an unpaired closing quote on its own ('he said."' gives '"'), cuts
    "At 5 a.m. Mr. Smith went to the bank." after "a.m." (Golden Rule 18): a clock time
    alone is not a sentence but the head of the next one; and cuts after an AP-style
    abbreviation that the sentence goes on after ("Sen. Ron Wyden, D-Ore., said no.") or
    after a lone lower-case letter ("Palm Bay d. Rockledge 70-44").
    """
    if not any(c.isalnum() for c in chunk[start:end]):
        return True
    p_start, p_end = previous
    head = chunk[start:end].lstrip()
    before = chunk[p_start:p_end].rstrip()
    if _CONTINUES.match(head) and _ABBREVIATION_END.search(before):
        return True
    if _LETTER_ABBREVIATION.search(before):
        return True
    return p_end - p_start <= _TIME_FRAGMENT_MAX and bool(
        _TIME_FRAGMENT.fullmatch(chunk[p_start:p_end].strip())
    )


def _segment_spans(chunk: str) -> list[tuple[int, int]]:
    """Sentence spans of ``chunk`` as (start, end) offsets that cover all of its text."""
    if len(chunk) <= _WINDOW:
        return _align(chunk, 0, len(chunk))
    return _segment_long(chunk)


def _segment_long(chunk: str) -> list[tuple[int, int]]:
    """Walk a long chunk in windows, so pysbd's cost stays linear in the text length.

    pysbd decides a boundary from nearby text, so from each window all sentences but the
    last (which the window may have cut short) are kept, and the next window starts where
    that last one started. One thing reaches further: pysbd does not split inside a
    quotation, so a quotation longer than about a window can be split inside; for one we
    summarise, that is better than one "sentence" thousands of characters long.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    while pos < len(chunk):
        stop = pos + _WINDOW
        if stop >= len(chunk):
            spans.extend(_align(chunk, pos, len(chunk)))
            break
        space = chunk.rfind(" ", pos + _WINDOW // 2, stop)
        if space > 0:
            stop = space  # do not cut a word in two
        window = _align(chunk, pos, stop)
        if len(window) < 2:  # no boundary in a whole window: cut it there
            spans.append((pos, stop))
            pos = stop
            continue
        spans.extend(window[:-1])
        pos = window[-1][0]
    return spans


def _align(text: str, start: int, stop: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:stop]`` as pysbd splits it, as offsets in ``text``."""
    return [(start + a, start + b) for a, b in pysbd_spans(text[start:stop])]
