"""Preprocessing: pure functions from raw article text (or HTML) to a clean :class:`Document`.

No I/O and no torch here, so this stage is cheap to test and to run anywhere.

Stages (``preprocess``):
  1. html (``html``) — a page (``html=True``, or text that is clearly HTML) is cut to its
     main text
  2. repair (``normalize``) — mojibake, entities, NFC, spaces, control characters, line endings
  3. paragraphs (``normalize``) — one per line or blank-line block; hard-wrapped lines joined
  4. boilerplate (``boilerplate``) — furniture lines removed by named rules and repeated
     labels; then the headline (a given title, the page's <title>/og:title/<h1>, or a first
     line that reads as one)
  5. dedup (``cleaner``, on ``dedup``'s index) — in order, each paragraph is dropped when it
     repeats an earlier kept one (exact, or most of its word pairs in one); otherwise the
     title at its head, furniture glued to its sentences, and sentences that are furniture
     or repeat earlier text are cut, and what is left is kept
  6. assemble — text, sentences and stats of what is left

The result is a fixed point: ``preprocess(doc.text).text == doc.text``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field

from service.preprocess.boilerplate import boilerplate_rule, headlines, repeated_labels
from service.preprocess.chunk import TokenCounter, chunk_sentences
from service.preprocess.cleaner import Cleaner, Removal
from service.preprocess.dedup import NEAR_THRESHOLD, paragraph_key
from service.preprocess.html import Extracted, extract_page, looks_like_html
from service.preprocess.normalize import normalize_text, repair, split_paragraphs
from service.preprocess.sentences import split_sentences

# Part of every cache key: bump when a change here changes what the model sees.
PREPROCESS_VERSION = "7"

__all__ = [
    "PREPROCESS_VERSION",
    "Document",
    "PreprocessStats",
    "Removal",
    "TokenCounter",
    "chunk_sentences",
    "normalize_text",
    "preprocess",
    "split_sentences",
]


@dataclass(frozen=True)
class PreprocessStats:
    """What preprocessing did, reported to users in the API's ``input`` block."""

    chars_in: int
    chars_out: int
    paragraphs_in: int
    paragraphs_out: int
    duplicates_removed: int  # paragraphs: exact_duplicates_removed + near_duplicates_removed
    sentences: int
    html: bool = False  # the input was HTML and its main text was extracted
    lines_repaired: int = 0  # lines whose encoding, entities or quotes were repaired
    control_chars_removed: int = 0
    exact_duplicates_removed: int = 0
    near_duplicates_removed: int = 0
    sentence_duplicates_removed: int = 0
    title_repeats_removed: int = 0
    boilerplate_removed: int = 0  # furniture lines and sentences
    # Every removal counted by the rule that made it ("boilerplate: credit", "exact
    # duplicate", "repeated title"…): ``Document.removed`` lists the pieces themselves.
    removed_by_rule: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int | bool | dict[str, int]]:
        return asdict(self)


@dataclass(frozen=True)
class Document:
    """A cleaned article: paragraphs in original order, each kept once."""

    text: str
    paragraphs: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    stats: PreprocessStats = field(
        default_factory=lambda: PreprocessStats(0, 0, 0, 0, 0, 0)
    )
    removed: list[Removal] = field(default_factory=list)
    extraction: Extracted | None = None  # for a page: what its extraction kept, and how




def preprocess(
    text: str, *, html: bool | None = None, near_threshold: float = NEAR_THRESHOLD,
    title: str | None = None,
) -> Document:
    """Turn raw article text into a clean document (see the module docstring for stages).

    ``html``: True for a page (``Content-Type: text/html``), False for text, None to decide
    from the text itself. ``near_threshold``: a paragraph or sentence at least this share of
    whose word bigrams are in one earlier paragraph repeats it (bench/preprocess.py
    measures it). ``title``: the article's headline, when the caller knows it (a page's
    own <title>, og:title and <h1> are read from the page); it is removed from the text.
    """
    titles = (title,) if title and title.strip() else ()
    if html is not None:
        return _preprocess(text, html=html, detect=False, near_threshold=near_threshold,
                           titles=titles)
    doc = _preprocess(text, html=looks_like_html(text), detect=True,
                      near_threshold=near_threshold, titles=titles)
    if not doc.stats.html and looks_like_html(doc.text):
        # What cleaning left is markup: control characters or furniture in front of it hid
        # it ("Home!<p>…"). The input was HTML after all, and taking it as such keeps the
        # result a fixed point.
        doc = _preprocess(text, html=True, detect=True, near_threshold=near_threshold,
                          titles=titles)
    return doc


def _preprocess(
    text: str, *, html: bool, detect: bool, near_threshold: float, titles: tuple[str, ...]
) -> Document:
    # 1. html
    is_html = html
    extracted = extract_page(text) if is_html else None
    raw = extracted.text if extracted else text
    # 2. repair
    repaired = repair(raw)
    for _ in range(2):
        # Decoded entities can turn text into markup ("&lt;p&gt;…"): when deciding from the
        # text, what is clearly HTML after repair is extracted too.
        if not detect or not looks_like_html(repaired.text):
            break
        is_html = True
        extracted = extract_page(repaired.text)
        repaired = repair(extracted.text)
    if extracted is not None:
        titles = (*titles, *(repair(t).text for t in extracted.titles))
    # 3. paragraphs
    paragraphs_in = split_paragraphs(repaired.text)
    # 4. boilerplate
    removed: list[Removal] = []
    keys = [paragraph_key(p) for p in paragraphs_in]
    paragraphs, heads = _drop_boilerplate(paragraphs_in, keys, removed, titles)
    # 5. dedup
    cleaner = Cleaner(paragraphs, near_threshold, dict(zip(paragraphs_in, keys, strict=True)),
                      titles=(*heads, *titles))
    kept: list[tuple[str, list[str]]] = []
    for paragraph in paragraphs:
        result = cleaner.clean(paragraph)
        if result is not None:
            kept.append(result)
    removed.extend(cleaner.removed)
    # 6. assemble
    clean = "\n\n".join(p for p, _ in kept)
    counts = cleaner.counts
    stats = PreprocessStats(
        chars_in=len(text),
        chars_out=len(clean),
        paragraphs_in=len(paragraphs_in),
        paragraphs_out=len(kept),
        duplicates_removed=counts["exact"] + counts["near"],
        sentences=sum(len(s) for _, s in kept),
        html=is_html,
        lines_repaired=repaired.lines_repaired,
        control_chars_removed=repaired.control_chars_removed,
        exact_duplicates_removed=counts["exact"],
        near_duplicates_removed=counts["near"],
        sentence_duplicates_removed=counts["sentence"],
        title_repeats_removed=counts["title"],
        boilerplate_removed=len(paragraphs_in) - len(paragraphs) + counts["boilerplate"],
        removed_by_rule=removal_counts(removed),
    )
    return Document(
        text=clean,
        paragraphs=[p for p, _ in kept],
        sentences=[s for _, sentences in kept for s in sentences],
        stats=stats,
        removed=removed,
        extraction=extracted,
    )


_DETAIL = re.compile(r"\s*\(\d+% [^)]*\)$")


def removal_counts(removed: list[Removal]) -> dict[str, int]:
    """How many pieces each rule removed, by the rule's name (a near duplicate's share in
    its earlier paragraph left out), most first."""
    counts = Counter(_DETAIL.sub("", r.reason) for r in removed)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _drop_boilerplate(
    paragraphs: list[str], keys: list[str], removed: list[Removal], titles: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """Paragraphs that no furniture rule matches, that are no repeated label (``keys``:
    their :func:`paragraph_key`), and then not the headline (one of ``titles``, or a first
    line that reads as one); and the headlines removed."""
    labels = repeated_labels(paragraphs, keys)
    seen: set[str] = set()
    kept: list[str] = []
    kept_keys: list[str] = []
    for paragraph, key in zip(paragraphs, keys, strict=True):
        # A repeated label's first copy is judged as any line is: a short line said three
        # times may be the article's own (a plan's "Eat every 2-3 hours" under each day).
        rule = "repeated label" if key in seen else boilerplate_rule(paragraph)
        if key in labels:
            seen.add(key)
        if rule is None:
            kept.append(paragraph)
            kept_keys.append(key)
        else:
            removed.append(Removal(f"boilerplate: {rule}", paragraph))
    found = headlines(kept, kept_keys, titles)
    for index in sorted(found):
        removed.append(Removal(f"boilerplate: {found[index]}", kept[index]))
    return [p for i, p in enumerate(kept) if i not in found], [kept[i] for i in sorted(found)]


