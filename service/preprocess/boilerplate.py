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

from service.preprocess.dedup import paragraph_key

__all__ = [
    "ENDS_SENTENCE",
    "MAX_WORDS",
    "boilerplate_rule",
    "glued_furniture",
    "headlines",
    "repeated_labels",
]

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
    click here, click here to subscribe, click here to read more, all rights reserved,
    explore further, more like this, staff reports, staff report, from staff reports,
    wire reports, thanks for reading, sorry, back to gallery
    """.split(",")
) | frozenset(
    # The same labels in the languages of the pages we read (German, French, Spanish,
    # Portuguese, Italian, Polish): related articles, comments, sharing.
    _words_of(phrase)
    for phrase in """
    weitere artikel, weitere artikel zum thema, weitere themen, mehr zum thema, lesen sie auch,
    das könnte sie auch interessieren, das könnte dich auch interessieren, auch interessant,
    schon gelesen, ähnliche artikel, verwandte artikel, anzeige, werbung, teilen, drucken,
    kommentare, keine kommentare, kommentar schreiben, newsletter abonnieren, zum seitenanfang,
    nach oben, à lire aussi, lire aussi, voir aussi, à voir aussi, articles similaires,
    sur le même sujet, partager, imprimer, commentaires, publicité, lea también, lee también,
    lea más, ver también, te puede interesar, le puede interesar, noticias relacionadas,
    artículos relacionados, compartir, comentarios, publicidad, leia também, veja também,
    notícias relacionadas, leggi anche, articoli correlati, czytaj też, czytaj także,
    zobacz też, zobacz także, polecamy, udostępnij, komentarze, reklama
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
         r"(?:read more|read also|also read|see also|see more|watch more|related(?: story| "
         r"article)?|more on this(?: story)?|further reading|read next|up next|most read|"
         r"must read|recommended|don't miss|"
         # the same in German, French, Spanish, Portuguese, Italian, Polish
         r"lesen sie auch|mehr zum thema|auch interessant|à lire aussi|lire aussi|voir aussi|"
         r"lea también|lee también|lea más|ver también|te puede interesar|le puede interesar|"
         r"leia também|veja também|leggi anche|czytaj też|czytaj także|zobacz też|zobacz także)"
         r"\s*(?::|\||»|›|>|–|—|-{1,2})\s*\S.*|"
         r"(?:more|watch|listen|explainer|in pictures|top story|trending|also(?: on [\w .]+)?)"
         r"\s*(?::|\||»|›|>|–|—|-{1,2})\s*\S(?:.*[^.])?",
         20),
        ("newsletter",
         r"(?:sign up|subscribe|get|join|receive|want|never miss|don't miss|like this|"
         r"enjoy(?:ed)? this|for more|stay (?:informed|up to date)|to receive|interested in|"
         r"click|tap)\b.*\bnewsletters?\b.*",
         40),
        ("subscribe",
         r"(?:sign up|subscribe)(?:\s+(?:now|today|here|for free|free))?"
         r"(?:\s+(?:to|for|at|and|with|on)\b\D*)?",
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
         r"(?:photo|image|picture|photograph|credit|video)s?\s*:\s*[^.]*|"
         # the same in German, French, Spanish, Portuguese, Italian, Polish
         r"(?:fotos?|bild(?:er|quelle|nachweis)?|titelbild|crédits?(?: photos?)?|créditos?|"
         r"zdjęcie|zdjęcia)\s*:\s*[^.]*|fot\.\s+[^.]*",
         15),
        ("copyright",
         r"(?:copyright\s*)?(?:©|\(c\)).*|copyright\s+\d{4}\b.*|copyright\s*:\s*[^.]*",
         25),
        ("dateline",
         rf"(?:published|updated|last updated|posted|first published|modified)\b"
         rf"(?:\s+(?:on|at))?\s*:?\s*(?:\w+\.?,?\s+)?{_DATEISH}.*",
         12),
        ("reading time",
         r"\d+\s*(?:-\s*)?(?:min|mins|minute|minutes)\s+(?:read|listen)|"
         r"(?:reading|listening) time\s*:?\s*\d+.*|"
         r"(?:tempo de leitura|tiempo de lectura|temps de lecture|lesezeit|tempo di lettura)"
         r"\s*:?\s*\d+.*",
         6),
        ("comment count",
         r"\d+\s+comments?|comments?\s*\(\d+\)",
         3),
        ("most read",
         r"most (?:read|popular|viewed|shared|watched|commented)(?: (?:in|on|from) [\w' ]+)?",
         8),
        ("filed under",
         r"(?:filed|posted) (?:under|in)\s*:.*",
         15),
        ("source line",
         r"(?:sources?|quellen?|fuentes?|fontes?|fonti|źródło)\s*:\s*[^.]+\.?",
         10),
        ("reporting credit",
         r"\(?(?:additional |with )?(?:reporting|writing|editing|research) (?:by|from)\b.*",
         40),
        ("contact line",
         r"have a (?:news )?tip\b.*|(?:contact|e-?mail|write to) (?:the )?(?:author|reporter|"
         r"writer|newsroom|us)\b.*",
         30),
        ("ordering",
         r"to order (?:[\w-]+ )?(?:copies|copy|reprints?)\b.*|(?:for )?reprints? .*\b(?:visit|call|"
         r"contact)\b.*",
         40),
        ("coverage link",
         r"(?:follow|see|read|get|find|watch|for)\b.*\b(?:coverage|updates|stories|news)\b.*"
         r"\bat\s+(?:https?://|www\.)\S+",
         30),
        ("listen line",
         r"listen (?:live|back|again)\b.*|listen to .*\b(?:live|podcast|programme|program|show|"
         r"episode)\b.*\b(?:here|online|app|weekdays|on demand)\b.*",
         20),
        ("signup message",
         r"thanks? (?:you )?for (?:signing up|subscribing|registering)\b.*|"
         r"keep an eye on your inbox\b.*|check your inbox\b.*|"
         r"there was an error processing your (?:subscription|request|sign-?up)\b.*|"
         r"you(?:'re| are) (?:now )?(?:subscribed|signed up)\b.*",
         20),
        ("subscription pitch",
         r"if you (?:enjoyed|liked|like|value|appreciate) (?:this|our) (?:article|story|"
         r"journalism|reporting|content|work)\b.*\b(?:join|subscribe|support us|donate|"
         r"become a (?:member|subscriber))\b.*",
         40),
        ("timestamp",
         r"(?:\d{1,2}:\d{2}(?::\d{2})?|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})[^!?]*",
         10),
    ]
]

# How the lines that _RULES match can begin: a cheap test that spares most story sentences
# the dozen patterns (tests/test_preprocess.py has a matching example for every rule).
_MAYBE = re.compile(
    r"(?:read|related|see|also|more|watch|listen|recommended|further|don't|most|trending|up|"
    r"explainer|in|top|must|sign|subscribe|get|join|receive|want|never|like|enjoy|for|stay|"
    r"to|interested|click|tap|follow|find|connect|share|tweet|e-?mail|print|save|the|story|"
    r"article|content|text|image|photo|picture|video|media|credit|©|\(c\)|copyright|"
    r"published|updated|last|posted|first|modified|reading|listening|comment|filed|source|"
    r"additional|with|editing|writing|research|have|contact|write|e-?mail|reprint|thank|"
    r"keep|check|there|you|if|tempo|tiempo|temps|lesezeit|\(|\d|"
    r"lesen|mehr|auch|à|lire|voir|lea|lee|ver|te|le|leia|veja|leggi|czytaj|zobacz|"
    r"fot|bild|titelbild|crédit|crédito|zdjęci|quelle|fuente|fonte|fonti|źródło)"
)

# Furniture that a line of its own shows by what it holds rather than how it starts:
# (name, quick test on the case-folded line, pattern on the line as written, most words).
_CREDITS = (
    r"reuters|ap|afp|getty images|getty|epa|shutterstock|bloomberg|pa|pa wire|xinhua|"
    r"anadolu|ap photo|afp via getty images|(?:reuters|ap photo|afp|epa)/[^.]{1,40}"
)
_PLACE = r"[A-Z][A-Z.'’-]*(?: [A-Z][A-Z.'’-]*)?"
_LINE_RULES: list[tuple[str, str, re.Pattern[str], int]] = [
    (name, needle, re.compile(pattern, flags), max_words)
    for name, needle, pattern, flags, max_words in [
        # A related-story teaser tagged in brackets: "Macron's Hong Kong jibe [INSIGHT]".
        ("teaser", "]", r".*\S.*\[[A-Z][A-Z0-9 ]{1,20}\]\W*", 0, 25),
        # A photo caption whose agency credit follows its last stop: "... in New
        # York.Reuters", "... on Monday. REUTERS/Brendan McDermid".
        ("caption", "", rf".*\w.*[.!?\"”)]\s*\(?(?:(?:photo|image|picture|credit)s?\s*:?\s*)?"
         rf"(?:{_CREDITS})\)?\.?", re.IGNORECASE, 60),
        ("newsletter", "newsletter", r"(?:[\w'’&-]+\s+){0,4}newsletters?\W*", re.IGNORECASE, 5),
        # A dateline on a line of its own, in capitals: "BAAR, SWITZERLAND".
        ("dateline", ",", _PLACE + ", " + _PLACE, 0, 4),
        # A credit or copyright at the end of a line: "installation views, photos © Studio,
        # 2018", "1 May | 20 June 2019 copyright Example 2019 - ISSN: 1234-5678".
        ("credit", "", r".*\b(?:photos?|images?|pictures?|video)\s*(?:©|\(c\)|courtesy of)\s*\S.*",
         re.IGNORECASE, 30),
        ("copyright", "", r".*(?:\bcopyright|©)\s+(?:[\w.&'-]+\s+){0,3}\d{4}\b.*|.*\bISSN\b.*",
         re.IGNORECASE, 25),
        ("affiliate", "", r".*\b(?:(?:if|when) you (?:buy|purchase|click|shop)\b.*\b(?:commission|"
         r"share of the sale|affiliate|earn|paid)|affiliate (?:links?|commissions?|"
         r"partnerships?))\b.*", re.IGNORECASE, 40),
        ("comment policy", "coment", r"(?:\w+\s*:\s*)?(?:\w+\s+){0,2}(?:comments?|comentários?|"
         r"comentarios?|commentaires?|commenti|kommentare?)\b.*\b(?:will|may|must|can|should|"
         r"serão|não|seront|werden|verranno|no)\b.*\b(?:moderat\w*|approv\w*|aprovad\w*|"
         r"publicad\w*|removed|deleted|published|reviewed)\b.*",
         re.IGNORECASE, 40),
        ("cookie notice", "cookie", r".*\b(?:we use cookies|uses cookies|use of cookies|"
         r"cookie (?:policy|settings|preferences|consent))\b.*", re.IGNORECASE, 40),
    ]
]
# Capitals only, with a call to action in it: "GET THE APP BY CLICKING HERE". (Capitals
# alone are no sign: news sites set subheads and section names in them, and those are text.)
_SHOUTING_WORDS = (2, 25)
_SHOUTED_CTA = re.compile(r"\b(?:CLICK|CLICKING|TAP|SUBSCRIBE|SIGN UP|DOWNLOAD|GET THE|"
                          r"GET (?:\w+ )?(?:\w+ )?ON THE GO|WATCH NOW|READ MORE)\b")


def _line_rule(line: str, folded: str, words: int) -> str | None:
    """The rule of _LINE_RULES, or the shouting rule, that a line of its own matches."""
    for name, needle, pattern, max_words in _LINE_RULES:
        if words > max_words:
            continue
        if needle == "coment":
            if "comment" not in folded and "coment" not in folded and "kommentar" not in folded:
                continue
        elif needle and needle not in folded:
            continue
        if name == "caption" and not re.search(r"(?i)(?:" + _CREDITS + r")\W*$", line):
            continue
        if pattern.fullmatch(line):
            return name
    low, high = _SHOUTING_WORDS
    if low <= words <= high and line.upper() == line and _SHOUTED_CTA.search(line):
        return "shouted call to action"
    return None


# "By Jane Smith", "By Jane Smith and Tom Lee, Political Editor": a byline on its own line.
_BYLINE = re.compile(
    r"[Bb]y\s+[A-Z][\w'’.-]*(?:\s+(?:and\s+|&\s+)?(?:[A-Z][\w'’.-]*|de|van|von|da|del|bin))"
    r"{0,5}(?:\s*[,|–—-]\s*[^.!?]{0,60})?"
)
# A line that ends as a sentence does: its stop, then any closing quotes or brackets.
ENDS_SENTENCE = re.compile(r"[.!?…][\"')\]’”»]*$")
_LEAD = "•·*-–—|>»›#+~ \t"
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
                return None if name == "copyright" and _holds_sentence(line) else name
    if standalone and len(words) <= 10 and not ENDS_SENTENCE.search(line):
        if _BYLINE.fullmatch(line.lstrip(_LEAD)):
            return "byline"
    if standalone:
        rule = _line_rule(line.lstrip(_LEAD), head, len(words))
        return None if rule == "copyright" and _holds_sentence(line) else rule
    return None


# A sentence of the story: this many words or more without a stop among them. Copyright
# notices are short sentences ("© 2020 Example. All rights reserved."); a line that holds a
# long one is the story with its credit in front ("(c) Example The minister said on …").
_SENTENCE_WORDS = 12
_STOPS = re.compile(r"[.!?;]")


def _holds_sentence(line: str) -> bool:
    return bool(ENDS_SENTENCE.search(line)) and any(
        len(part.split()) >= _SENTENCE_WORDS for part in _STOPS.split(line)
    )


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
            and not ENDS_SENTENCE.search(paragraph)
        ):
            labels.add(key)
    return labels


# -- headlines ---------------------------------------------------------------------------
#
# The headline is not the story's first sentence, and a briefing that opens with it repeats
# what the reader just saw. A leading paragraph is the headline when it is a title the
# request or the page gives (the request's ``title``; a page's <title>, og:title or <h1>),
# whole or as the part of a "Headline | Section | Site" title; or when it reads as one: a
# line that does not end with a full stop, followed by a paragraph of prose that does.
# After the headline goes, the text starts with that prose paragraph, which never reads as
# a headline itself, so cleaning the cleaned text removes nothing more (a fixed point).

# Separators between a title's headline and the section or site names around it.
_TITLE_PARTS = re.compile(r"\s+[|–—·:-]+\s+|\s*[|·]\s*")
# Leading paragraphs looked at for a given title: a section label or a date may come first.
_HEADLINE_WINDOW = 6
# A line that reads as a headline: at most this many words, and no full stop at its end
# (a question, an exclamation or a quotation may end it).
_HEADLINE_MAX_WORDS = 30
_FULL_STOP_END = re.compile(r"\.[\"')\]’”»]*$")
_INNER_STOP = re.compile(r"[.!?][\"')\]’”»]*\s+[\"'‘“]?[A-Z]")  # two sentences: no headline
_HEADLINE_END = re.compile(r"(?:[?!…]|[\"'’”»])[\"')\]’”»]*$")
# Any line this short, or a longer one in title case (this share of its longer words
# capitalised), reads as a headline.
_HEADLINE_SHORT_WORDS = 20
# A kicker (section label) above the headline is a few words at most.
_KICKER_WORDS = 4
_TITLE_CASE_SHARE = 0.6
_OPEN_END = re.compile(r"[,;:–—-]$")
# The prose that follows a headline: a full sentence or more.
_PROSE_MIN_WORDS = 8
# Kicker, then headline ("Immunology" / "Cells that taste danger"): at most this many lines
# before the prose are taken as the headline.
_HEADLINE_LINES = 2


def _title_keys(titles: Sequence[str]) -> set[str]:
    """Comparison keys of each title, whole and each part of it of three words or more."""
    keys: set[str] = set()
    for title in titles:
        keys.add(paragraph_key(title))
        for part in _TITLE_PARTS.split(title):
            key = paragraph_key(part)
            if key.count(" ") >= 2:
                keys.add(key)
    keys.discard("")
    return keys


# A first line at least this share of whose words (three or more) are in a title is it.
_LIKE_TITLE_SHARE = 0.75


def _like_a_title(key: str, title_keys: set[str]) -> bool:
    words = key.split()
    if len(words) < 3:
        return False
    return any(
        sum(w in title for w in words) >= _LIKE_TITLE_SHARE * len(words)
        for title in (set(t.split()) for t in title_keys)
    )


def _reads_as_headline(paragraph: str) -> bool:
    """No full stop at the end, and short, or ending in "?", "!", "…" or a quotation, or in
    title case: a long line without its stop is more often a sentence missing it."""
    words = paragraph.split()
    line = paragraph.strip()
    if not 1 <= len(words) <= _HEADLINE_MAX_WORDS or "\n" in line:
        return False
    if _FULL_STOP_END.search(line) or _OPEN_END.search(line) or _INNER_STOP.search(line):
        return False
    long_words = [w for w in words if len(w) >= 4 and w[0].isalpha()]
    title_case = bool(long_words) and (
        sum(w[0].isupper() for w in long_words) >= _TITLE_CASE_SHARE * len(long_words)
    )
    return len(words) <= _HEADLINE_SHORT_WORDS or bool(_HEADLINE_END.search(line)) or title_case


def _is_prose(paragraph: str) -> bool:
    return len(paragraph.split()) >= _PROSE_MIN_WORDS and bool(
        _FULL_STOP_END.search(paragraph.strip())
    )


def headlines(
    paragraphs: Sequence[str], keys: Sequence[str], titles: Sequence[str] = ()
) -> dict[int, str]:
    """Indices of the paragraphs that are the headline, each with the rule that says so
    (``keys``: the paragraphs' :func:`~service.preprocess.dedup.paragraph_key`)."""
    found: dict[int, str] = {}
    title_keys = _title_keys(titles)
    if title_keys:
        # The page or the request named its headline: nothing to guess. Where the text has
        # it, it goes, and a kicker right above it (a section label of a few words) with
        # it; where the text does not (an extractor leaves a page's <h1> out), the first
        # line is the article's, however much it looks like a headline: a question lede
        # ("Remember the state's slogan quest?"), a product line or a test box
        # (bench/pages.py: every first line guessed on a page that named its title was
        # the body's).
        for index, key in enumerate(keys):
            if key in title_keys and (index < _HEADLINE_WINDOW or key.count(" ") >= 3):
                found[index] = "headline (the title)"
        if not found and len(paragraphs) > 1 and _is_prose(paragraphs[1]) and (
            _reads_as_headline(paragraphs[0]) and _like_a_title(keys[0], title_keys)
        ):
            # The title reworded ("Council backs bridge" over "Council backs new bridge
            # plan"): most of the line's words are the title's.
            found[0] = "headline (like the title)"
        for index in sorted(found):
            above = index - 1
            if (above >= 0 and above not in found and _reads_as_headline(paragraphs[above])
                    and len(paragraphs[above].split()) <= _KICKER_WORDS):
                found[above] = "headline (its kicker)"
        return found
    # A first line that reads as a headline, before prose (copies of a line looked at
    # skipped), perhaps under a kicker.
    rest: list[int] = []
    looked_at: set[str] = set()
    for i, key in enumerate(keys):
        if key not in looked_at:
            looked_at.add(key)
            rest.append(i)
            if len(rest) > _HEADLINE_LINES:
                break
    for count in range(1, _HEADLINE_LINES + 1):
        if len(rest) > count and _is_prose(paragraphs[rest[count]]) and all(
            _reads_as_headline(paragraphs[i]) for i in rest[:count]
        ) and all(len(paragraphs[i].split()) <= _KICKER_WORDS for i in rest[: count - 1]):
            for i in rest[:count]:
                found[i] = "headline (a first line)"
            break
    # The headline again further down (a scraper's second copy of the page).
    heads = {keys[i] for i, rule in found.items() if rule == "headline (a first line)"}
    for index, key in enumerate(keys):
        if index not in found and key in heads:
            found[index] = "headline (repeated)"
    return found

