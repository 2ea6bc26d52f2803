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

Pure functions, no I/O. ``SourceFacts.from_text(source)`` does the per-source work once and can be
reused across several summaries of the same source.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from service.preprocess.sentences import split_sentences

__all__ = ["SourceFacts", "Unsupported", "find_unsupported"]


@dataclass(frozen=True)
class Unsupported:
    """One summary sentence and the claims in it that the source does not support."""

    sentence: str
    missing: list[str]

    def as_dict(self) -> dict:
        """JSON-ready form: ``{"sentence": ..., "missing": [...]}``."""
        return {"sentence": self.sentence, "missing": list(self.missing)}


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_ORDINAL_UNITS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
}
_ORDINAL_TENS = {
    "twentieth": 20,
    "thirtieth": 30,
    "fortieth": 40,
    "fiftieth": 50,
    "sixtieth": 60,
    "seventieth": 70,
    "eightieth": 80,
    "ninetieth": 90,
}
_MULTIPLIERS = {
    "hundred": 100,
    "thousand": 1000,
    "million": 10**6,
    "billion": 10**9,
    "trillion": 10**12,
}
_SCALES = {
    "thousand": 1000,
    "k": 1000,
    "million": 10**6,
    "m": 10**6,
    "mn": 10**6,
    "mln": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "trillion": 10**12,
    "tn": 10**12,
    "trn": 10**12,
}
# Words too idiomatic to be claims ("one of", "first time", "a second"); they still support.
_NOT_CLAIMS = {"one", "first", "second", "zero"}

_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_MONTH_ABBR = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# Full month names that are also ordinary words; they count as months only next to a number.
_AMBIGUOUS_MONTHS = {"may", "march"}

_CURRENCY_SYMBOLS = {"£": "GBP", "#": "GBP", "€": "EUR", "¥": "JPY", "₹": "INR", "$": "$"}
_CURRENCY_WORDS = {
    "pound": "GBP",
    "pounds": "GBP",
    "sterling": "GBP",
    "euro": "EUR",
    "euros": "EUR",
    "dollar": "$",
    "dollars": "$",
    "yen": "JPY",
    "rupees": "INR",
    "rupee": "INR",
}

# Titles and function words that are capitalized without being (part of) a name.
_NAME_STOP = frozenset(
    """
    mr mrs ms miss mx dr prof sir dame lord lady rev revd fr st jr sr jnr snr
    sgt cpl pte lt col gen capt maj det insp supt cllr
    the a an i it he she we they you his her its our their my your me him them us
    this that these those there here what who whom whose which where when why how
    in on at for but and or nor if as after before while with by from to of off so yet not no
    yes also however meanwhile now then today yesterday tomorrow tonight last next
    all some many most more any each every both either neither one other another
    is are was were be been being has have had do does did will would can could shall should
    may might must says said according despite although though because since until unless
    during under over into onto about above below between among against without within
    new old former ex top unk oh ah hey wow ok okay please thanks sorry dear
    read watch click here video pictured scroll see exclusive update breaking
    """.split()
)
# Capitalized sentence openers that are ordinary words even when the source lacks them.
_COMMON_OPENERS = frozenset(
    """
    police officials officers researchers scientists experts doctors critics fans residents
    witnesses authorities investigators prosecutors protesters campaigners analysts ministers
    lawmakers judges jurors teachers parents children kids students workers staff families
    victims survivors players coaches managers bosses owners users customers voters leaders
    people men women girls boys mother father son daughter wife husband brother sister
    study report survey research figures data results tests images photos pictures video
    footage documents records reports plans talks officials' troops soldiers rebels
    both several few others such only even just still instead nearly almost around about
    more less than most half once twice again already soon later earlier recently currently
    meanwhile however although though while whilst because since despite following
    midfielder striker defender goalkeeper keeper forward winger opener bowler batsman manager
    boss coach captain star singer actor actress president chancellor senator governor mayor
    judge interim veteran world premiership prince princess king queen duke duchess pair
    """.split()
)
# Endings of common words that a sentence-initial capitalized word is unlikely to be a name with.
_COMMON_ENDINGS = (
    "ing",
    "ed",
    "ly",
    "tion",
    "sion",
    "ment",
    "ness",
    "ity",
    "ous",
    "ful",
    "ive",
    "able",
    "ible",
    "ance",
    "ence",
    "ist",
    "ists",
    "ism",
    "ers",
    "s",
)
# Words that typically follow a name in subject position.
_SUBJECT_VERBS = frozenset(
    """
    is was has had have will would could can may might must should did does says said told
    wants won beat scored insists admits added claims denies
    """.split()
)
_VERB_ENDINGS = ("ed", "s")
# Lower-case words allowed inside a multi-token name ("Bank of England", "Leonardo da Vinci").
_NAME_CONNECTORS = frozenset("of de da di del della der den van von la le du al bin el y".split())

# Never part of a name: a model's unknown-word marker and number words (checked as numbers).
_NEVER_NAMES = frozenset(
    ["unk", *_UNITS, *_TENS, *_ORDINAL_UNITS, *_ORDINAL_TENS, *_MULTIPLIERS, "dozen"]
)


# Groups of interchangeable place/demonym phrases: "British" is supported by "UK" and vice versa.
_EQUIVALENT_GROUPS = [
    "uk, britain, british, briton, britons, united kingdom, great britain, gb",
    "us, usa, america, american, americans, united states",
    "eu, european union, brussels",
    "un, united nations",
    "pm, prime minister",
    "mp, mps, member of parliament, members of parliament",
    "nhs, national health service",
    "bbc, british broadcasting corporation",
    "england, english",
    "scotland, scottish, scot, scots",
    "wales, welsh",
    "northern ireland, ni",
    "ireland, irish, republic of ireland",
    "france, french",
    "germany, german, germans",
    "italy, italian, italians",
    "spain, spanish",
    "china, chinese",
    "japan, japanese",
    "netherlands, dutch, holland",
    "greece, greek, greeks",
    "turkey, turkish, turks",
    "poland, polish, poles",
    "sweden, swedish, swedes",
    "denmark, danish, danes",
    "finland, finnish, finns",
    "norway, norwegian, norwegians",
    "switzerland, swiss",
    "portugal, portuguese",
    "belgium, belgian, belgians",
    "iraq, iraqi, iraqis",
    "israel, israeli, israelis",
    "pakistan, pakistani, pakistanis",
    "afghanistan, afghan, afghans",
    "saudi arabia, saudi, saudis",
    "philippines, filipino, filipinos",
    "vietnam, vietnamese",
    "korea, korean, koreans",
    "thailand, thai",
    "new zealand, new zealander, new zealanders, kiwi, kiwis",
    "europe, european, europeans",
    "africa, african, africans",
    "asia, asian, asians",
]
_PLACE_TO_DEMONYM = ("i", "is", "n", "ns", "an", "ans", "ian", "ians", "ese")
# Regular demonym endings: Syrian -> Syria, Kenyan -> Kenya, Nigerian -> Nigeria.
_DEMONYM_SUFFIXES = (
    ("ians", "ia"),
    ("ian", "ia"),
    ("ans", "a"),
    ("an", "a"),
    ("ans", ""),
    ("an", ""),
    ("ese", ""),
    ("i", ""),
    ("is", ""),
)

# --------------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------------

# Same-length replacements only, so offsets into the original text stay valid.
_SAME_LENGTH_FIXES = str.maketrans({"’": "'", "‘": "'", "\u00a0": " ", "–": "-", "—": "-"})
_MOJIBAKE = (("Â£", " £"), ("â‚¬", "  €"))


def _prepare(text: str) -> str:
    """Normalize quotes, dashes and common mojibake without changing the text's length."""
    text = text.translate(_SAME_LENGTH_FIXES)
    for bad, good in _MOJIBAKE:
        if bad in text:
            text = text.replace(bad, good)
    return text


def _fold(token: str) -> str:
    """Lower-case and strip accents: ``Jyväskylä`` -> ``jyvaskyla``."""
    token = token.lower()
    if token.isascii():
        return token
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, split the same way as everywhere else in the service."""
    try:
        parts = split_sentences(text)
    except Exception:  # noqa: BLE001 - a splitter bug must not turn a check into a 500
        parts = re.split(r"(?<=[.!?])\s+", text)
    return [p.strip() for p in parts if p and p.strip()]


# --------------------------------------------------------------------------------------------
# Numbers and amounts
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Source facts
# --------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\w+")
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


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

_NAME_TOKEN_RE = re.compile(r"[^\W\d_][\w]*(?:['.&-][\w]+)*\.?")
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


# --------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------


def _sentence_missing(
    sentence: str, facts: SourceFacts, capitalized_elsewhere: frozenset[str]
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
    if not _is_title_case(text):
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
    summary: str, source: str, *, facts: SourceFacts | None = None
) -> list[Unsupported]:
    """Summary sentences with numbers, amounts, dates or names that ``source`` does not support.

    Pass ``facts`` (from ``SourceFacts.from_text(source)``) to reuse the source's extraction.
    """
    if not isinstance(summary, str) or not summary.strip():
        return []
    if facts is None:
        facts = SourceFacts.from_text(source if isinstance(source, str) else "")
    sentences = _split_sentences(summary)
    capitalized = _capitalized_non_initial([_prepare(s) for s in sentences])
    out = []
    for sentence in sentences:
        missing = _sentence_missing(sentence, facts, capitalized)
        if missing:
            out.append(Unsupported(sentence=sentence, missing=missing))
    return out
