"""Web furniture: lines of a scraped page that are not the story.

Every rule is a short, named pattern that a person can check by reading it: a line is
furniture when the whole line is a call to action ("Advertisement", "Share this article",
"Sign up for our newsletter"), a link with a CTA label ("Read more: Rates rise again"), a
credit, copyright, dateline or byline, a separator, or a short label line repeated down the
page. Each rule is anchored to the whole line and bounded in length, so that a sentence of
the story that merely mentions a newsletter or shares never matches; tests/test_preprocess.py
keeps a list of such sentences, and bench/preprocess.py lists the sentences of real articles
that a rule matches (15 of 9,285 in the eval set at the time of writing, every one furniture
the source kept: "Media playback is unsupported on your device", "Subscribe to the BBC
Sport newsletter to get …", "Terms and conditions", "©2015 The Hollywood Reporter.").

:func:`boilerplate_rule` names the rule that matched (for the removal report) or None.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

__all__ = ["MAX_WORDS", "boilerplate_rule", "glued_furniture", "repeated_labels"]

# No rule looks at a line longer than this many words: furniture is short.
MAX_WORDS = 40

_NON_WORD = re.compile(r"[^\w']+")


def _words_of(text: str) -> str:
    """Words only, one space apart: "Advertisement - Scroll to continue" is a CTA line."""
    return _NON_WORD.sub(" ", text).strip(" '")


# Whole-line calls to action and navigation labels, compared case-folded, as words only,
# with leading bullets and a trailing count ("Comments (12)") taken off.
_CTA_LINES = frozenset(
    _words_of(phrase)
    for phrase in """
    advertisement, advertisements, advertising, ad, ads, sponsored, sponsored content,
    paid content, promoted, promoted content, partner content, paid post, ad feedback,
    report this ad, skip advertisement, skip ad, advertisement scroll to continue,
    scroll to continue, continue reading, continue reading the main story,
    continue reading below, story continues below, story continues below advertisement,
    article continues below, article continues below advertisement, content continues below,
    share, share this, share this article, share this story, share this page, share article,
    share story, share page, share on facebook, share on twitter, share on x,
    share on linkedin, share on whatsapp, share via email, share via e-mail, share by email,
    tweet, tweet this, email, e-mail, email this, email this article, print, print this page,
    print this article, save, save article, save for later, copy link, copy link to clipboard,
    link copied, gift this article, gift article, listen, listen to this article,
    listen to article, read more, read more here, read the full story, read full story,
    read full article, read the full article, read next, more, more stories, see more,
    show more, load more, view more, more on this story, more on this topic,
    more from this author, related, related articles, related stories, related content,
    related topics, related links, related coverage, related news, related posts,
    recommended, recommended for you, recommended stories, you may also like,
    you might also like, you may be interested in, don't miss, editor's picks,
    editors' picks, top stories, latest news, latest stories, most popular, most read,
    most viewed, most shared, trending, trending now, in other news, around the web,
    from around the web, more from our network, popular now, what to read next,
    comments, comment, show comments, hide comments, view comments, leave a comment,
    add a comment, post a comment, join the conversation, join the discussion, no comments,
    subscribe, subscribe now, subscribe today, subscribe here, subscribe for free, sign up,
    sign up now, sign up here, sign up for free, sign in, log in, login, log out, logout,
    register, register now, create an account, my account, follow us, follow us on twitter,
    follow us on facebook, follow us on instagram, like us on facebook, connect with us,
    find us on facebook, skip to main content, skip to content, skip to navigation,
    back to top, go to top, scroll to top, menu, main menu, search, home, homepage,
    navigation, close, cookie policy, cookie settings, cookie preferences, accept cookies,
    accept all cookies, manage cookies, privacy policy, terms of use, terms of service,
    terms and conditions, contact us, about us, image caption, media caption,
    image copyright, getty images, media playback is unsupported on your device,
    media playback is not supported on this device, scroll down for video,
    click here, click here to subscribe, click here to read more, all rights reserved
    """.split(",")
)
# What a head that is a CTA line begins with (a cheap test before :func:`_words_of`): its
# first word, after characters that are not word characters (``_words_of`` keeps every word
# character and drops or strips all that come before the first).
_CTA_HEAD = re.compile(
    r"\W*(?:" + "|".join(sorted({re.escape(line.split()[0]) for line in _CTA_LINES})) + ")"
)

_PLATFORM = (
    r"(?:twitter|x|facebook|instagram|linkedin|tiktok|youtube|threads|bluesky|telegram|"
    r"whatsapp|mastodon|reddit|pinterest|snapchat|flipboard|messenger)"
)
_DATEISH = (
    r"(?:\d{1,2}[:.]\d{2}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|\d+\s+\w+\s+ago|"
    r"(?:\d{1,2}\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d)"
)

# (name, pattern, most words the line may have). Patterns match the whole line, case-folded,
# with leading bullets taken off; all of them are anchored at a CTA's or label's first words,
# so that story text in front of furniture ("… a granddaughter. © 2015 Reporter.") keeps a
# line from matching (its sentences are then judged one by one).
_RULES: list[tuple[str, re.Pattern[str], int]] = [
    (name, re.compile(pattern), max_words)
    for name, pattern, max_words in [
        # A label, a separator, then a headline. After the weaker labels, a line ending in
        # a full stop is a sentence ("More: the minister said he would resign.") and stays.
        ("link label",
         r"(?:read more|read also|also read|see also|related(?: story| article)?|"
         r"more on this(?: story)?|further reading|read next|up next|most read|must read|"
         r"recommended|don't miss)\s*(?::|\||»|›|>|–|—|-{1,2})\s*\S.*|"
         r"(?:more|watch|listen|explainer|in pictures|top story|trending)"
         r"\s*(?::|\||»|›|>|–|—|-{1,2})\s*\S(?:.*[^.])?",
         20),
        ("newsletter",
         r"(?:sign up|subscribe|get|join|receive|want|never miss|don't miss|like this|"
         r"enjoy(?:ed)? this|for more|stay (?:informed|up to date)|to receive|interested in|"
         r"click|tap)\b.*\bnewsletters?\b.*",
         40),
        ("subscribe",
         r"(?:sign up|subscribe)(?:\s+(?:now|today|here|for free|free))?"
         r"(?:\s+(?:to|for|at|and|with|on)\b.*)?",
         20),
        ("social",
         rf"(?:follow|like|join|find|connect with)\s+(?:us\s+)?"
         rf"(?:on\s+{_PLATFORM}|@\w+|[^.!?]{{1,60}}?\s+on\s+{_PLATFORM})\b[^.!?]*[.!]?",
         20),
        ("share",
         rf"(?:share|tweet|email|e-mail|print|save)\s+(?:this(?:\s+(?:article|story|page|post|"
         rf"video|gallery))?(?:\s+(?:on|via|with)\s+.*)?|on\s+{_PLATFORM}|"
         rf"via\s+(?:email|e-mail|{_PLATFORM})|by\s+e-?mail|(?:with|to)\s+(?:a\s+)?friends?)",
         8),
        ("click here",
         r"(?:click|tap)\s+(?:here|this link)\b.*",
         25),
        ("continues below",
         r"(?:the\s+)?(?:story|article|content|text)\s+continues\s+(?:below|after)\b[^.]*",
         10),
        ("credit",
         r"(?:image|photo|picture|video|media)\s+(?:caption|copyright|credit|source)s?\b.*|"
         r"(?:photo|image|picture|photograph|credit|video)s?\s*:\s*[^.]*",
         15),
        ("copyright",
         r"(?:copyright\s*)?(?:©|\(c\)).*|copyright\s+\d{4}\b.*",
         25),
        ("dateline",
         rf"(?:published|updated|last updated|posted|first published|modified)\b(?:\s+on)?"
         rf"\s*:?\s*(?:\w+,?\s+)?{_DATEISH}[^.]*",
         12),
        ("reading time",
         r"\d+\s*(?:-\s*)?(?:min|mins|minute|minutes)\s+(?:read|listen)|"
         r"(?:reading|listening) time\s*:?\s*\d+.*",
         6),
        ("comment count",
         r"\d+\s+comments?|comments?\s*\(\d+\)",
         3),
    ]
]

# How the lines that _RULES match can begin: a cheap test that spares most story sentences
# the dozen patterns (tests/test_preprocess.py has a matching example for every rule).
_MAYBE = re.compile(
    r"(?:read|related|see|also|more|watch|listen|recommended|further|don't|most|trending|up|"
    r"explainer|in|top|must|sign|subscribe|get|join|receive|want|never|like|enjoy|for|stay|"
    r"to|interested|click|tap|follow|find|connect|share|tweet|e-?mail|print|save|the|story|"
    r"article|content|text|image|photo|picture|video|media|credit|©|\(c\)|copyright|"
    r"published|updated|last|posted|first|modified|reading|listening|comment|\d)"
)

# "By Jane Smith", "By Jane Smith and Tom Lee, Political Editor": a byline on its own line.
_BYLINE = re.compile(
    r"[Bb]y\s+[A-Z][\w'’.-]*(?:\s+(?:and\s+|&\s+)?(?:[A-Z][\w'’.-]*|de|van|von|da|del|bin))"
    r"{0,5}(?:\s*[,|–—-]\s*[^.!?]{0,60})?"
)
_END_PUNCT = re.compile(r"[.!?…][\"')\]’”»]*$")
_LEAD = "•·*-–—|>»›#+~ \t"
_TRAIL = " .:!|-–—•·»›>"
_COUNT = re.compile(r"\s*\(\d+\)$")


def _is_separator(text: str) -> bool:
    """Only punctuation and rule characters ("* * *", "----", "|"); emoji are content."""
    return all(
        c.isspace() or unicodedata.category(c).startswith("P") or c in "|=_~+<>^*#•·"
        for c in text
    )


def boilerplate_rule(text: str, *, standalone: bool = True) -> str | None:
    """The name of the furniture rule that ``text`` (one line) matches, or None.

    ``standalone`` is True for a line of its own; False for a sentence inside a paragraph,
    where byline and separator rules do not apply.
    """
    words = text.split()
    if not words or len(words) > MAX_WORDS:
        return None
    line = " ".join(words)
    if standalone and _is_separator(line):
        return "separator"
    head = line.lstrip(_LEAD).casefold().replace("’", "'")
    if _CTA_HEAD.match(head) and _words_of(
        _COUNT.sub("", head) if head.endswith(")") else head
    ) in _CTA_LINES:
        return "call to action"
    if _MAYBE.match(head):
        for name, pattern, max_words in _RULES:
            if len(words) <= max_words and pattern.fullmatch(head):
                return name
    if standalone and len(words) <= 10 and not _END_PUNCT.search(line):
        if _BYLINE.fullmatch(line.lstrip(_LEAD)):
            return "byline"
    return None


# Furniture that scrapers glue to the start of the next sentence, without punctuation
# ("Scroll down for video A new graph reveals …"): only phrases no story sentence starts
# with, and only when a capitalised word follows.
_GLUED = re.compile(
    r"(?i:scroll down for (?:video|more)|media playback is (?:not supported|unsupported) on "
    r"(?:this|your) device|advertisement)\s+(?=[A-Z0-9\"'‘“(])"
)


def glued_furniture(sentence: str) -> str:
    """The furniture glued to the start of ``sentence`` ("" when there is none)."""
    end = 0
    while match := _GLUED.match(sentence, end):
        end = match.end()
    return sentence[:end]


# A label repeated down a page ("Getty Images", "Photo: AP", a section name) is furniture
# even when no rule knows it: short, no sentence punctuation, at least this many times.
_REPEAT_MIN = 3
_REPEAT_MAX_WORDS = 6


def repeated_labels(paragraphs: Sequence[str], keys: Sequence[str]) -> set[str]:
    """Keys of short label lines that occur at least three times in the document.

    The first paragraph (the title, when there is one) is never a label: a page that repeats
    its article three times repeats its title as often.
    """
    counts = Counter(keys[1:])
    labels: set[str] = set()
    for paragraph, key in zip(paragraphs[1:], keys[1:], strict=True):
        if (
            counts[key] >= _REPEAT_MIN
            and key
            and key != keys[0]
            and len(paragraph.split()) <= _REPEAT_MAX_WORDS
            and not _END_PUNCT.search(paragraph)
        ):
            labels.add(key)
    return labels
