"""The shapes the services return and the API sends: one definition of the v1 contract.

Results stay plain dicts at run time (they are stored as JSON, cached and signed as they are),
typed by these ``TypedDict``s: ``BriefingService.brief`` returns a ``Briefing``, the digest
job a ``DigestState``, and so on. The routes declare the same types as ``response_model``, so
``/docs`` and ``/openapi.json`` show them and FastAPI checks each answer against them, and no
route reshapes what a service returned. Every shape allows extra keys (``extra="allow"``), so
a key a service adds reaches clients even before it is declared here;
``tests/test_models.py`` fails until it is declared. To add a key: declare it here with a
description, ``NotRequired`` when older stored results lack it.
"""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

_shape = with_config(ConfigDict(extra="allow"))


# --- errors ---------------------------------------------------------------------------------------


@_shape
class ErrorDetail(TypedDict):
    code: Annotated[str, Field(description="Stable error code, e.g. `empty_text` (see the README)")]
    message: Annotated[str, Field(description="What went wrong and what to change")]
    upstream_status: NotRequired[
        Annotated[
            int | None,
            Field(description="`fetch_failed`: the HTTP status the fetched site answered"),
        ]
    ]
    language: NotRequired[
        Annotated[str | None, Field(description="`language_not_supported`: the language asked for")]
    ]
    engines: NotRequired[
        Annotated[
            list[str] | None,
            Field(description="`language_not_supported`: the engines that can write it"),
        ]
    ]


@_shape
class ErrorBody(TypedDict):
    """Every error answer: ``{"error": {"code": ..., "message": ...}}``."""

    error: ErrorDetail


# --- briefings ------------------------------------------------------------------------------------


@_shape
class Extraction(TypedDict):
    """For a page: how much of what a reader sees on it the extracted main text kept."""

    kept: Annotated[float, Field(description="Share of the page's visible words kept (0-1)")]
    visible_words: Annotated[int, Field(description="Words a reader sees on the page")]
    kept_words: Annotated[int, Field(description="Words of the extracted main text")]
    mode: Annotated[
        Literal["precision", "recall", "whole page", "markup stripped"],
        Field(
            description="How the main text was found: trafilatura's default (precision), its "
            "recall-oriented mode (tried when the default kept little), the whole page (no "
            "article found), or the markup stripped (unparseable)"
        ),
    ]


@_shape
class InputStats(TypedDict):
    """What preprocessing and condensing did to the article before generation.

    The fields the contract has always had are required; the others are optional because
    results cached by an older version lack them."""

    chars: Annotated[int, Field(description="Characters of the cleaned text the engine was given")]
    duplicates_removed: Annotated[
        int, Field(description="Repeated paragraphs removed (exact + near)")
    ]
    sentences: Annotated[int, Field(description="Sentences of the cleaned text")]
    tokens: Annotated[int, Field(description="Tokens of that text")]
    chunks: Annotated[int, Field(description="Chunks of the first map step (1: it fit the window)")]
    truncated: Annotated[
        bool,
        Field(
            description="Part of the input did not reach the model: see `chars_left_out` (not "
            "selected) and `dropped_chars` (cut)"
        ),
    ]
    chars_in: NotRequired[Annotated[int | None, Field(description="Characters received")]]
    chars_out: NotRequired[Annotated[int | None, Field(description="Characters after cleaning")]]
    paragraphs_in: NotRequired[int | None]
    paragraphs_out: NotRequired[int | None]
    html: NotRequired[
        Annotated[bool | None, Field(description="The input was a page; its main text was used")]
    ]
    lines_repaired: NotRequired[
        Annotated[
            int | None, Field(description="Lines whose encoding, entities or quotes were repaired")
        ]
    ]
    control_chars_removed: NotRequired[int | None]
    exact_duplicates_removed: NotRequired[int | None]
    near_duplicates_removed: NotRequired[int | None]
    sentence_duplicates_removed: NotRequired[int | None]
    title_repeats_removed: NotRequired[int | None]
    boilerplate_removed: NotRequired[
        Annotated[int | None, Field(description="Web furniture lines and sentences removed")]
    ]
    removed_by_rule: NotRequired[
        Annotated[
            dict[str, int] | None,
            Field(
                description="Pieces removed, counted by the rule that removed them "
                "(`briefing preprocess --json` lists the pieces)"
            ),
        ]
    ]
    reduce_rounds: NotRequired[
        Annotated[int | None, Field(description="Map-reduce rounds run for long input")]
    ]
    dropped_chars: NotRequired[
        Annotated[
            int | None,
            Field(
                description="Characters cut (past BRIEFING_MAX_INPUT_CHARS, or of partial "
                "summaries past the reduction limits)"
            ),
        ]
    ]
    chars_read: NotRequired[
        Annotated[int | None, Field(description="Characters of the cleaned article read")]
    ]
    chars_selected: NotRequired[
        Annotated[
            int | None, Field(description="Of those, the characters the model's first pass saw")
        ]
    ]
    chars_left_out: NotRequired[
        Annotated[
            int | None,
            Field(
                description="Characters read but not given to the model (chars_read - "
                "chars_selected)"
            ),
        ]
    ]
    selection: NotRequired[
        Annotated[
            Literal["all", "salient"] | None,
            Field(
                description="`all`, or `salient`: the article was longer than the model reads "
                "(one window up to BRIEFING_ONE_PASS_MAX_TOKENS, else the pass budget), so the "
                "extractive ranker chose its most salient sentences, in article order"
            ),
        ]
    ]
    model_passes: NotRequired[
        Annotated[
            int | None,
            Field(
                description="Model passes (prompts run) this briefing took, the briefings included"
            ),
        ]
    ]
    max_model_passes: NotRequired[
        Annotated[
            int | None,
            Field(description="The budget of model passes per request (BRIEFING_MAX_MODEL_PASSES)"),
        ]
    ]
    window_tokens: NotRequired[
        Annotated[
            int | None,
            Field(
                description="Tokens the seq2seq model reads in one pass, prompt included: its "
                "own limit (1024 for BART and PEGASUS, 512 for flan-t5), or "
                "BRIEFING_MAX_INPUT_TOKENS below it; null for the other engines"
            ),
        ]
    ]
    extraction: NotRequired[
        Annotated[
            Extraction | None,
            Field(description="For a page (text/html): what its main-text extraction kept"),
        ]
    ]
    language: NotRequired[
        Annotated[
            str | None,
            Field(
                description="ISO 639-1 code of the article's language, detected offline "
                "(`und`: too little text, or no language clearly ahead)"
            ),
        ]
    ]
    language_confidence: NotRequired[
        Annotated[
            float | None, Field(description="The detector's probability for that language (0-1)")
        ]
    ]


@_shape
class UnsupportedSentence(TypedDict):
    sentence: Annotated[str, Field(description="A briefing sentence")]
    missing: Annotated[list[str], Field(description="Its numbers, dates or names the source lacks")]
    briefing: NotRequired[
        Annotated[Literal["short", "long"] | None, Field(description="Which briefing")]
    ]
    dropped: NotRequired[
        Annotated[bool | None, Field(description="Removed (BRIEFING_UNSUPPORTED=drop)")]
    ]


@_shape
class RepairedSentence(TypedDict):
    """One repair (BRIEFING_UNSUPPORTED=repair; the llm engine's default)."""

    briefing: Annotated[Literal["short", "long"], Field(description="Which briefing")]
    action: Annotated[
        Literal["asked_again", "replaced", "dropped"],
        Field(
            description="`asked_again`: the LLM was asked once more, naming what the article "
            "does not say; `replaced`: the sentence gave way to the article's closest sentence; "
            "`dropped`: the sentence was removed"
        ),
    ]
    sentence: Annotated[
        str, Field(description="The sentence (for `asked_again`, the sentences) repaired")
    ]
    missing: Annotated[list[str], Field(description="Its numbers, dates or names the source lacks")]
    replacement: NotRequired[
        Annotated[str | None, Field(description="`replaced`: the article's sentence")]
    ]
    resolved: NotRequired[
        Annotated[
            bool | None,
            Field(description="`asked_again`: the new answer states nothing unsupported"),
        ]
    ]


@_shape
class Checks(TypedDict):
    unsupported: Annotated[
        list[UnsupportedSentence],
        Field(
            description="Sentences with facts the source does not support (with repair: those "
            "that remain in the briefing)"
        ),
    ]
    repaired: NotRequired[
        Annotated[
            list[RepairedSentence] | None,
            Field(
                description="What was done about unsupported facts before answering "
                "(BRIEFING_UNSUPPORTED=repair, the llm engine's default); absent when not repairing"
            ),
        ]
    ]


@_shape
class PageInfo(TypedDict):
    """A page briefed by URL: what was asked for, what was fetched, what the page says."""

    url: Annotated[str, Field(description="The URL asked for")]
    fetched_url: Annotated[
        str, Field(description="The URL the page was read from, after redirects")
    ]
    title: Annotated[str | None, Field(description="The given title, else the page's own")]
    canonical_url: Annotated[str | None, Field(description="The page's rel=canonical (or og:url)")]
    site_name: Annotated[str | None, Field(description="The page's site name (og:site_name)")]
    source: Annotated[str | None, Field(description="The given source, else the site name or host")]
    published_at: Annotated[str | None, Field(description="The given date, else the page's date")]


@_shape
class Briefing(TypedDict):
    """``POST /v1/briefings`` and ``GET /v1/briefings/{id}``."""

    id: Annotated[str, Field(description="Content hash: the cache key, and the id to GET it by")]
    short: Annotated[
        str | None, Field(description="One or two sentences (null when not asked for)")
    ]
    long: Annotated[str | None, Field(description="A paragraph (null when not asked for)")]
    engine: Annotated[
        Literal["seq2seq", "extractive", "llm"], Field(description="The engine that wrote it")
    ]
    model: Annotated[
        str,
        Field(
            description="Model id or path (empty for the extractive engine; for "
            "llm, the model the server says it ran)"
        ),
    ]
    model_family: NotRequired[
        Annotated[
            Literal["t5", "bart", "pegasus", "mt5"] | None,
            Field(
                description="The seq2seq model's family, from its config's model_type (t5 and "
                "flan-t5 read instruction prompts; bart, pegasus and mt5 the article alone); null "
                "for the other engines"
            ),
        ]
    ]
    prompt_version: Annotated[str, Field(description="Hash of the prompt templates used")]
    input: InputStats
    checks: Checks
    cached: Annotated[bool, Field(description="Answered from the cache")]
    language_out: NotRequired[
        Annotated[
            str | None,
            Field(
                description="The language the briefings are written in (a code; `und`: the "
                "article's, which could not be told): the one asked for (`language`, else "
                "BRIEFING_OUTPUT_LANGUAGE), or with `auto` the article's"
            ),
        ]
    ]
    fallback_reason: NotRequired[
        Annotated[
            str | None,
            Field(
                description="Why the extractive engine serves instead of the model (if so): "
                "no model at start, or the LLM server failed for this request (it is named)"
            ),
        ]
    ]
    article: NotRequired[
        Annotated[
            PageInfo | None,
            Field(description="`POST` with a `url`: the page fetched and its metadata"),
        ]
    ]
    warnings: NotRequired[
        Annotated[
            list[str] | None,
            Field(
                description="What the reader should know about this briefing, e.g. that the "
                "article's language is not one the model is meant for"
            ),
        ]
    ]


# --- articles and feeds ---------------------------------------------------------------------------


@_shape
class ListedArticle(TypedDict):
    id: Annotated[int, Field(description="The article's id in the store")]
    title: str | None
    url: str | None
    canonical_url: Annotated[
        str | None, Field(description="The page's canonical URL, when fetched")
    ]
    source: Annotated[str | None, Field(description="Who published it (a feed's title for feeds)")]
    site_name: str | None
    feed_url: Annotated[str | None, Field(description="The feed it came from; null when posted")]
    published_at: str | None
    received_at: Annotated[str, Field(description="When it was accepted (ISO 8601, UTC)")]
    briefing_id: Annotated[
        str | None, Field(description="Its briefing's id (GET /v1/briefings/{id})")
    ]
    short: Annotated[str | None, Field(description="Its short briefing; null until it is briefed")]


@_shape
class ArticleList(TypedDict):
    """``GET /v1/articles``: the articles of a day, or since a time, oldest first."""

    date: NotRequired[Annotated[str | None, Field(description="The local date asked for")]]
    since: NotRequired[Annotated[str | None, Field(description="The time asked for (ISO 8601)")]]
    timezone: str
    count: int
    articles: list[ListedArticle]


@_shape
class Validators(TypedDict):
    etag: str | None
    last_modified: str | None


@_shape
class FeedInfo(TypedDict):
    url: str
    title: str | None
    origin: Annotated[
        Literal["env", "opml", "cli"],
        Field(description="`env`: BRIEFING_FEEDS; `opml`: `briefing feeds import`"),
    ]
    added_at: str
    last_polled_at: str | None
    last_status: Annotated[
        Literal["ok", "not_modified", "error", "gone"] | None,
        Field(description="How the last poll ended; null before the first"),
    ]
    http_status: Annotated[int | None, Field(description="The feed's HTTP status at the last poll")]
    last_error: ErrorDetail | None
    warning: Annotated[
        str | None,
        Field(
            description="A problem short of an error (recovered XML, "
            "entries without links, an entry's page that failed)"
        ),
    ]
    failures: Annotated[int, Field(description="Polls in a row that failed (backoff doubles each)")]
    next_poll_at: str | None
    gone: Annotated[bool, Field(description="Answered 410 Gone: not polled again")]
    entries_seen: int
    entries_ingested: int
    moved_to: NotRequired[
        Annotated[
            str | None,
            Field(
                description="Where the feed moved for good (its last poll was answered with a "
                "301 or 308 redirect there): polls ask there; null when it has not moved"
            ),
        ]
    ]
    validators: Validators


@_shape
class FeedList(TypedDict):
    """``GET /v1/feeds``."""

    count: int
    poll_interval_s: float
    feeds: list[FeedInfo]


# --- digests --------------------------------------------------------------------------------------


@_shape
class Window(TypedDict):
    start: Annotated[str, Field(description="Local midnight, in UTC (ISO 8601)")]
    end: Annotated[str, Field(description="The next local midnight, in UTC (ISO 8601)")]
    hours: Annotated[float, Field(description="23 or 25 on DST days")]


@_shape
class Story(TypedDict):
    """One story of a digest: articles that report the same thing."""

    title: str
    title_from: NotRequired[
        Annotated[
            Literal["article", "text"] | None,
            Field(
                description="`article`: the article's own title; `text`: the article has none, "
                "a few words from its briefing stand in"
            ),
        ]
    ]
    briefing: Annotated[str, Field(description="The short briefing of the story's lead article")]
    briefing_from: Literal["cache", "generated", "lead"]
    briefing_id: NotRequired[
        Annotated[str | None, Field(description="The briefing's id, when one was used")]
    ]
    sources: Annotated[
        int,
        Field(
            description="Distinct publishers (the `source`, else the site name, "
            "else the URL's registered domain); articles with none of these count "
            "as one unnamed source together"
        ),
    ]
    source_names: Annotated[
        list[str],
        Field(
            description="The named publishers (one unnamed source more when `sources` is larger)"
        ),
    ]
    articles: int
    article_ids: list[int]
    url: str | None
    first_received_at: str
    last_received_at: str


@_shape
class Clustering(TypedDict):
    fingerprint: Annotated[str, Field(description="Fingerprint version")]
    threshold: Annotated[float, Field(description="Similarity at which articles are one story")]


@_shape
class Digest(TypedDict):
    """A local day's articles grouped by story."""

    date: Annotated[str, Field(description="The local date, YYYY-MM-DD")]
    timezone: Annotated[str, Field(description="BRIEFING_TIMEZONE when it was built")]
    window: Window
    complete: Annotated[bool, Field(description="The day was over when it was built")]
    built_at: str
    articles: Annotated[int, Field(description="Articles received that day")]
    stories_total: Annotated[int, Field(description="Stories found, before the cap")]
    stories: list[Story]
    overview: Annotated[
        str | None, Field(description="One long briefing of all stories (if enabled)")
    ]
    clustering: Clustering


DeliveryState = Literal[
    "not_configured",
    "not_requested",
    "day_not_over",
    "delivered",
    "already_delivered",
    "skipped",
    "not_delivered",
    "pending",
    "sending",
    "failed",
]


@_shape
class Delivery(TypedDict):
    """A digest's delivery to Slack: the ledger's state, or what one run did."""

    status: DeliveryState
    messages: NotRequired[
        Annotated[int | None, Field(description="Messages planned for the digest")]
    ]
    sent: NotRequired[Annotated[int | None, Field(description="Messages Slack accepted so far")]]
    sent_now: NotRequired[Annotated[int | None, Field(description="Messages this run posted")]]
    resumed_from: NotRequired[
        Annotated[int | None, Field(description="First message this run posted")]
    ]
    delivered_at: NotRequired[str | None]
    last_error: NotRequired[str | None]
    webhook: NotRequired[Annotated[str | None, Field(description="The webhook URL, redacted")]]
    webhook_id: NotRequired[Annotated[str | None, Field(description="A hash of the webhook URL")]]
    detail: NotRequired[str | None]


@_shape
class DigestRun(TypedDict):
    """A digest run started by ``POST /v1/digests/{date}`` (this process's latest)."""

    status: Literal["queued", "running", "done", "failed"]
    deliver: bool
    force: bool
    queued_at: str
    started_at: NotRequired[str | None]
    finished_at: NotRequired[str | None]
    delivery: NotRequired[
        Annotated[Delivery | None, Field(description="What the run did, once done")]
    ]
    error: NotRequired[Annotated[ErrorDetail | None, Field(description="Why it failed")]]


@_shape
class DigestState(TypedDict):
    """``GET`` and ``POST /v1/digests/{date}``: the stored digest, its delivery, the run."""

    digest: Annotated[
        Digest | None, Field(description="The stored digest; null until one is built")
    ]
    delivery: Annotated[Delivery, Field(description="The ledger's delivery state for the day")]
    run: NotRequired[
        Annotated[
            DigestRun | None,
            Field(description="The latest run POST started in this process, if any"),
        ]
    ]


@_shape
class DigestDestination(TypedDict):
    """Where a digest goes, as the API shows it: never the URL itself."""

    id: Annotated[str, Field(description="A hash of the destination's URL (the ledger's key)")]
    kind: Annotated[str, Field(description="slack, webhook or apprise")]
    service: Annotated[str, Field(description="What it reaches (Slack, Discord, email, …)")]
    url: Annotated[str, Field(description="The URL redacted: scheme and host only")]


@_shape
class DigestSpecShown(TypedDict):
    """One digest of BRIEFING_DIGESTS_FILE (or the one `daily`)."""

    name: str
    title: str
    schedule: Annotated[
        str | None, Field(description="Its cron, in its time zone (null: not scheduled)")
    ]
    timezone: str
    period: Annotated[str, Field(description="day, week or since_last")]
    include: list[str]
    exclude: list[str]
    feeds: list[str]
    languages: list[str]
    max_stories: Annotated[int | None, Field(description="null: every story")]
    max_per_source: Annotated[int | None, Field(description="null: no cap per publisher")]
    destinations: list[DigestDestination]
    alerts: bool
    alert_max_per_hour: NotRequired[int | None]


@_shape
class DigestList(TypedDict):
    """``GET /v1/digests``."""

    digests: list[DigestSpecShown]


@_shape
class DestinationDelivery(DigestDestination):
    """One destination's delivery of a digest's period."""

    status: Annotated[str, Field(description="delivered, failed, not_delivered, …")]
    messages: NotRequired[int | None]
    sent: NotRequired[int | None]
    delivered_at: NotRequired[str | None]
    last_error: NotRequired[str | None]


@_shape
class NamedDelivery(TypedDict):
    """A named digest's period, delivered once to each destination."""

    status: Annotated[
        str, Field(description="delivered, partial, failed, not_delivered or not_configured")
    ]
    period: NotRequired[Annotated[str | None, Field(description="The period's key")]]
    destinations: list[DestinationDelivery]


@_shape
class NamedDigestState(TypedDict):
    """``GET`` and ``POST /v1/digests/{name}/{date}``: the stored digest of that period, each
    destination's delivery, the latest run."""

    digest: NotRequired[
        Annotated[Digest | None, Field(description="The stored digest; null until built")]
    ]
    delivery: Annotated[
        NamedDelivery | Delivery,
        Field(
            description="Each destination's state (`daily` without a digests file: the ledger's "
            "state of its one Slack webhook)"
        ),
    ]
    run: NotRequired[
        Annotated[DigestRun | None, Field(description="The latest run POST started, if any")]
    ]


# --- operations -----------------------------------------------------------------------------------


@_shape
class Health(TypedDict):
    status: Literal["ok"]


@_shape
class LlmServer(TypedDict):
    """``/readyz`` with ``BRIEFING_ENGINE=llm``: the server's answer to ``GET /models``."""

    server: Annotated[str, Field(description="BRIEFING_LLM_BASE_URL")]
    reachable: Annotated[
        bool, Field(description="It answered (asked at most every 5 s, 2 s timeout)")
    ]
    error: NotRequired[Annotated[str | None, Field(description="Why not, when it did not")]]
    model_listed: NotRequired[
        Annotated[
            bool | None,
            Field(description="Its list of models names BRIEFING_LLM_MODEL (null: no list read)"),
        ]
    ]
    fallback: Annotated[
        bool,
        Field(
            description="A failed call is answered by the extractive engine "
            "(BRIEFING_LLM_FALLBACK): the service stays ready"
        ),
    ]


@_shape
class Ready(TypedDict):
    status: Literal["ready", "starting", "failed", "stopping", "unavailable"]
    engine: NotRequired[str | None]
    model: NotRequired[str | None]
    model_family: NotRequired[
        Annotated[
            str | None, Field(description="The seq2seq model's family (t5, bart, pegasus, mt5)")
        ]
    ]
    runtime: NotRequired[
        Annotated[
            str | None,
            Field(description="Where the seq2seq model runs: ctranslate2-<quantization> or torch"),
        ]
    ]
    window_tokens: NotRequired[
        Annotated[
            int | None,
            Field(description="Tokens the seq2seq model reads in one pass, prompt included"),
        ]
    ]
    fallback_reason: NotRequired[str | None]
    prompt_version: NotRequired[str | None]
    llm: NotRequired[
        Annotated[
            LlmServer | None,
            Field(
                description="The LLM server (BRIEFING_ENGINE=llm); while it does not answer "
                "and BRIEFING_LLM_FALLBACK=false, 503 with status unavailable"
            ),
        ]
    ]
    stage: NotRequired[
        Annotated[
            str | None,
            Field(
                description="Starting: what it is doing (loading the model, opening storage, "
                "starting feeds); failed: what it was doing"
            ),
        ]
    ]
    elapsed_s: NotRequired[
        Annotated[float | None, Field(description="Starting: seconds since the start")]
    ]
    error: NotRequired[
        Annotated[str | None, Field(description="Failed: why the service did not start")]
    ]
