"""Response models: the v1 contract as types, so ``/docs`` and ``/openapi.json`` show it.

The services return plain dicts (they are stored as JSON and cached); the routes declare
these models as ``response_model`` and FastAPI checks each answer against them. Every model
allows extra fields (``extra="allow"``), so a field a service adds reaches clients even
before it is declared here; ``tests/test_models.py`` fails until it is declared, so the
documented contract never drifts from what is sent. To add a field: declare it here with a
``description``, optional (``= None``) when older stored results lack it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- errors -----------------------------------------------------------------------------------


class ErrorDetail(_Model):
    code: str = Field(description="Stable error code, e.g. `empty_text` (see the README)")
    message: str = Field(description="What went wrong and what to change")
    upstream_status: int | None = Field(
        None, description="`fetch_failed`: the HTTP status the fetched site answered"
    )
    language: str | None = Field(
        None, description="`language_not_supported`: the language asked for"
    )
    engines: list[str] | None = Field(
        None, description="`language_not_supported`: the engines that can write it"
    )


class ErrorBody(_Model):
    """Every error answer: ``{"error": {"code": ..., "message": ...}}``."""

    error: ErrorDetail


# --- briefings --------------------------------------------------------------------------------


class Extraction(_Model):
    """For a page: how much of what a reader sees on it the extracted main text kept."""

    kept: float = Field(description="Share of the page's visible words kept (0-1)")
    visible_words: int = Field(description="Words a reader sees on the page")
    kept_words: int = Field(description="Words of the extracted main text")
    mode: Literal["precision", "recall", "whole page", "markup stripped"] = Field(
        description="How the main text was found: trafilatura's default (precision), its "
        "recall-oriented mode (tried when the default kept little), the whole page (no "
        "article found), or the markup stripped (unparseable)"
    )


class InputStats(_Model):
    """What preprocessing and condensing did to the article before generation.

    The fields the contract has always had are required; the others are optional because
    results cached by an older version lack them."""

    chars: int = Field(description="Characters of the cleaned text the engine was given")
    duplicates_removed: int = Field(description="Repeated paragraphs removed (exact + near)")
    sentences: int = Field(description="Sentences of the cleaned text")
    tokens: int = Field(description="Tokens of that text")
    chunks: int = Field(description="Chunks of the first map step (1: it fit the window)")
    truncated: bool = Field(
        description="Part of the input did not reach the model: see `chars_left_out` (not "
        "selected) and `dropped_chars` (cut)"
    )
    chars_in: int | None = Field(None, description="Characters received")
    chars_out: int | None = Field(None, description="Characters after cleaning")
    paragraphs_in: int | None = None
    paragraphs_out: int | None = None
    html: bool | None = Field(None, description="The input was a page; its main text was used")
    lines_repaired: int | None = Field(
        None, description="Lines whose encoding, entities or quotes were repaired"
    )
    control_chars_removed: int | None = None
    exact_duplicates_removed: int | None = None
    near_duplicates_removed: int | None = None
    sentence_duplicates_removed: int | None = None
    title_repeats_removed: int | None = None
    boilerplate_removed: int | None = Field(
        None, description="Web furniture lines and sentences removed"
    )
    removed_by_rule: dict[str, int] | None = Field(
        None, description="Pieces removed, counted by the rule that removed them "
        "(`briefing preprocess --json` lists the pieces)"
    )
    reduce_rounds: int | None = Field(None, description="Map-reduce rounds run for long input")
    dropped_chars: int | None = Field(
        None, description="Characters cut (past BRIEFING_MAX_INPUT_CHARS, or of partial "
        "summaries past the reduction limits)"
    )
    chars_read: int | None = Field(None, description="Characters of the cleaned article read")
    chars_selected: int | None = Field(
        None, description="Of those, the characters the model's first pass saw"
    )
    chars_left_out: int | None = Field(
        None, description="Characters read but not given to the model (chars_read - "
        "chars_selected)"
    )
    selection: Literal["all", "salient"] | None = Field(
        None, description="`all`, or `salient`: the article was longer than the model reads "
        "(one window up to BRIEFING_ONE_PASS_MAX_TOKENS, else the pass budget), so the "
        "extractive ranker chose its most salient sentences, in article order"
    )
    model_passes: int | None = Field(
        None, description="Model passes (prompts run) this briefing took, the briefings "
        "included"
    )
    max_model_passes: int | None = Field(
        None, description="The budget of model passes per request (BRIEFING_MAX_MODEL_PASSES)"
    )
    window_tokens: int | None = Field(
        None, description="Tokens the seq2seq model reads in one pass, prompt included: its "
        "own limit (1024 for BART and PEGASUS, 512 for flan-t5), or BRIEFING_MAX_INPUT_TOKENS "
        "below it; null for the other engines"
    )
    extraction: Extraction | None = Field(
        None, description="For a page (text/html): what its main-text extraction kept"
    )
    language: str | None = Field(
        None, description="ISO 639-1 code of the article's language, detected offline "
        "(`und`: too little text, or no language clearly ahead)"
    )
    language_confidence: float | None = Field(
        None, description="The detector's probability for that language (0-1)"
    )


class UnsupportedSentence(_Model):
    sentence: str = Field(description="A briefing sentence")
    missing: list[str] = Field(description="Its numbers, dates or names the source lacks")
    briefing: Literal["short", "long"] | None = Field(None, description="Which briefing")
    dropped: bool | None = Field(None, description="Removed (BRIEFING_UNSUPPORTED=drop)")


class RepairedSentence(_Model):
    """One repair (BRIEFING_UNSUPPORTED=repair; the llm engine's default)."""

    briefing: Literal["short", "long"] = Field(description="Which briefing")
    action: Literal["asked_again", "replaced", "dropped"] = Field(
        description="`asked_again`: the LLM was asked once more, naming what the article "
        "does not say; `replaced`: the sentence gave way to the article's closest sentence; "
        "`dropped`: the sentence was removed"
    )
    sentence: str = Field(description="The sentence (for `asked_again`, the sentences) "
                          "repaired")
    missing: list[str] = Field(description="Its numbers, dates or names the source lacks")
    replacement: str | None = Field(None, description="`replaced`: the article's sentence")
    resolved: bool | None = Field(
        None, description="`asked_again`: the new answer states nothing unsupported"
    )


class Checks(_Model):
    unsupported: list[UnsupportedSentence] = Field(
        description="Sentences with facts the source does not support (with repair: those "
        "that remain in the briefing)"
    )
    repaired: list[RepairedSentence] | None = Field(
        None, description="What was done about unsupported facts before answering "
        "(BRIEFING_UNSUPPORTED=repair, the llm engine's default); absent when not repairing"
    )


class PageInfo(_Model):
    """A page briefed by URL: what was asked for, what was fetched, what the page says."""

    url: str = Field(description="The URL asked for")
    fetched_url: str = Field(description="The URL the page was read from, after redirects")
    title: str | None = Field(description="The given title, else the page's own")
    canonical_url: str | None = Field(description="The page's rel=canonical (or og:url)")
    site_name: str | None = Field(description="The page's site name (og:site_name)")
    source: str | None = Field(description="The given source, else the site name or host")
    published_at: str | None = Field(description="The given date, else the page's date")


class Briefing(_Model):
    """``POST /v1/briefings`` and ``GET /v1/briefings/{id}``."""

    id: str = Field(description="Content hash: the cache key, and the id to GET it by")
    short: str | None = Field(description="One or two sentences (null when not asked for)")
    long: str | None = Field(description="A paragraph (null when not asked for)")
    engine: Literal["seq2seq", "extractive", "llm"] = Field(
        description="The engine that wrote it"
    )
    model: str = Field(description="Model id or path (empty for the extractive engine; for "
                       "llm, the model the server says it ran)")
    model_family: Literal["t5", "bart", "pegasus", "mt5"] | None = Field(
        None, description="The seq2seq model's family, from its config's model_type (t5 and "
        "flan-t5 read instruction prompts; bart, pegasus and mt5 the article alone); null "
        "for the other engines"
    )
    prompt_version: str = Field(description="Hash of the prompt templates used")
    input: InputStats
    checks: Checks
    cached: bool = Field(description="Answered from the cache")
    language_out: str | None = Field(
        None, description="The language the briefings are written in (a code; `und`: the "
        "article's, which could not be told): the one asked for (`language`, else "
        "BRIEFING_OUTPUT_LANGUAGE), or with `auto` the article's"
    )
    fallback_reason: str | None = Field(
        None, description="Why the extractive engine serves instead of the model (if so): "
        "no model at start, or the LLM server failed for this request (it is named)"
    )
    article: PageInfo | None = Field(
        None, description="`POST` with a `url`: the page fetched and its metadata"
    )
    warnings: list[str] | None = Field(
        None, description="What the reader should know about this briefing, e.g. that the "
        "article's language is not one the model is meant for"
    )


# --- articles and feeds -----------------------------------------------------------------------


class ListedArticle(_Model):
    id: int = Field(description="The article's id in the store")
    title: str | None
    url: str | None
    canonical_url: str | None = Field(description="The page's canonical URL, when fetched")
    source: str | None = Field(description="Who published it (a feed's title for feeds)")
    site_name: str | None
    feed_url: str | None = Field(description="The feed it came from; null when posted")
    published_at: str | None
    received_at: str = Field(description="When it was accepted (ISO 8601, UTC)")
    briefing_id: str | None = Field(description="Its briefing's id (GET /v1/briefings/{id})")
    short: str | None = Field(description="Its short briefing; null until it is briefed")


class ArticleList(_Model):
    """``GET /v1/articles``: the articles of a day, or since a time, oldest first."""

    date: str | None = Field(None, description="The local date asked for")
    since: str | None = Field(None, description="The time asked for (ISO 8601)")
    timezone: str
    count: int
    articles: list[ListedArticle]


class Validators(_Model):
    etag: str | None
    last_modified: str | None


class FeedInfo(_Model):
    url: str
    title: str | None
    origin: Literal["env", "opml", "cli"] = Field(
        description="`env`: BRIEFING_FEEDS; `opml`: `briefing feeds import`"
    )
    added_at: str
    last_polled_at: str | None
    last_status: Literal["ok", "not_modified", "error", "gone"] | None = Field(
        description="How the last poll ended; null before the first"
    )
    http_status: int | None = Field(description="The feed's HTTP status at the last poll")
    last_error: ErrorDetail | None
    warning: str | None = Field(description="A problem short of an error (recovered XML, "
                                "entries without links, an entry's page that failed)")
    failures: int = Field(description="Polls in a row that failed (backoff doubles each)")
    next_poll_at: str | None
    gone: bool = Field(description="Answered 410 Gone: not polled again")
    entries_seen: int
    entries_ingested: int
    moved_to: str | None = Field(
        None, description="Where the feed moved for good (its last poll was answered with a "
        "301 or 308 redirect there): polls ask there; null when it has not moved"
    )
    validators: Validators


class FeedList(_Model):
    """``GET /v1/feeds``."""

    count: int
    poll_interval_s: float
    feeds: list[FeedInfo]


# --- digests ----------------------------------------------------------------------------------


class Window(_Model):
    start: str = Field(description="Local midnight, in UTC (ISO 8601)")
    end: str = Field(description="The next local midnight, in UTC (ISO 8601)")
    hours: float = Field(description="23 or 25 on DST days")


class Story(_Model):
    """One story of a digest: articles that report the same thing."""

    title: str
    title_from: Literal["article", "text"] | None = Field(
        None, description="`article`: the article's own title; `text`: the article has none, "
        "a few words from its briefing stand in"
    )
    briefing: str = Field(description="The short briefing of the story's lead article")
    briefing_from: Literal["cache", "generated", "lead"]
    briefing_id: str | None = Field(None, description="The briefing's id, when one was used")
    sources: int = Field(description="Distinct publishers (the `source`, else the site name, "
                         "else the URL's registered domain); articles with none of these count "
                         "as one unnamed source together")
    source_names: list[str] = Field(description="The named publishers (one unnamed source "
                                    "more when `sources` is larger)")
    articles: int
    article_ids: list[int]
    url: str | None
    first_received_at: str
    last_received_at: str


class Clustering(_Model):
    fingerprint: str = Field(description="Fingerprint version")
    threshold: float = Field(description="Similarity at which articles are one story")


class Digest(_Model):
    """A local day's articles grouped by story."""

    date: str = Field(description="The local date, YYYY-MM-DD")
    timezone: str = Field(description="BRIEFING_TIMEZONE when it was built")
    window: Window
    complete: bool = Field(description="The day was over when it was built")
    built_at: str
    articles: int = Field(description="Articles received that day")
    stories_total: int = Field(description="Stories found, before the cap")
    stories: list[Story]
    overview: str | None = Field(description="One long briefing of all stories (if enabled)")
    clustering: Clustering


DeliveryState = Literal[
    "not_configured", "not_requested", "day_not_over", "delivered", "already_delivered",
    "skipped", "not_delivered", "pending", "sending", "failed",
]


class Delivery(_Model):
    """A digest's delivery to Slack: the ledger's state, or what one run did."""

    status: DeliveryState
    messages: int | None = Field(None, description="Messages planned for the digest")
    sent: int | None = Field(None, description="Messages Slack accepted so far")
    sent_now: int | None = Field(None, description="Messages this run posted")
    resumed_from: int | None = Field(None, description="First message this run posted")
    delivered_at: str | None = None
    last_error: str | None = None
    webhook: str | None = Field(None, description="The webhook URL, redacted")
    webhook_id: str | None = Field(None, description="A hash of the webhook URL")
    detail: str | None = None


class DigestRun(_Model):
    """A digest run started by ``POST /v1/digests/{date}`` (this process's latest)."""

    status: Literal["queued", "running", "done", "failed"]
    deliver: bool
    force: bool
    queued_at: str
    started_at: str | None = None
    finished_at: str | None = None
    delivery: Delivery | None = Field(None, description="What the run did, once done")
    error: ErrorDetail | None = Field(None, description="Why it failed")


class DigestState(_Model):
    """``GET`` and ``POST /v1/digests/{date}``: the stored digest, its delivery, the run."""

    digest: Digest | None = Field(description="The stored digest; null until one is built")
    delivery: Delivery = Field(description="The ledger's delivery state for the day")
    run: DigestRun | None = Field(
        None, description="The latest run POST started in this process, if any"
    )


class DigestDestination(_Model):
    """Where a digest goes, as the API shows it: never the URL itself."""

    id: str = Field(description="A hash of the destination's URL (the ledger's key)")
    kind: str = Field(description="slack, webhook or apprise")
    service: str = Field(description="What it reaches (Slack, Discord, email, …)")
    url: str = Field(description="The URL redacted: scheme and host only")


class DigestSpecShown(_Model):
    """One digest of BRIEFING_DIGESTS_FILE (or the one `daily`)."""

    name: str
    title: str
    schedule: str | None = Field(description="Its cron, in its time zone (null: not scheduled)")
    timezone: str
    period: str = Field(description="day, week or since_last")
    include: list[str]
    exclude: list[str]
    feeds: list[str]
    languages: list[str]
    max_stories: int | None = Field(description="null: every story")
    max_per_source: int | None = Field(description="null: no cap per publisher")
    destinations: list[DigestDestination]
    alerts: bool
    alert_max_per_hour: int | None = None


class DigestList(_Model):
    """``GET /v1/digests``."""

    digests: list[DigestSpecShown]


class DestinationDelivery(DigestDestination):
    """One destination's delivery of a digest's period."""

    status: str = Field(description="delivered, failed, not_delivered, …")
    messages: int | None = None
    sent: int | None = None
    delivered_at: str | None = None
    last_error: str | None = None


class NamedDelivery(_Model):
    """A named digest's period, delivered once to each destination."""

    status: str = Field(description="delivered, partial, failed, not_delivered or "
                        "not_configured")
    period: str | None = Field(None, description="The period's key")
    destinations: list[DestinationDelivery]


class NamedDigestState(_Model):
    """``GET`` and ``POST /v1/digests/{name}/{date}``: the stored digest of that period, each
    destination's delivery, the latest run."""

    digest: Digest | None = Field(None, description="The stored digest; null until built")
    delivery: NamedDelivery | Delivery = Field(
        description="Each destination's state (`daily` without a digests file: the ledger's "
        "state of its one Slack webhook)")
    run: DigestRun | None = Field(None, description="The latest run POST started, if any")


# --- operations -------------------------------------------------------------------------------


class Health(_Model):
    status: Literal["ok"]


class LlmServer(_Model):
    """``/readyz`` with ``BRIEFING_ENGINE=llm``: the server's answer to ``GET /models``."""

    server: str = Field(description="BRIEFING_LLM_BASE_URL")
    reachable: bool = Field(description="It answered (asked at most every 5 s, 2 s timeout)")
    error: str | None = Field(None, description="Why not, when it did not")
    model_listed: bool | None = Field(
        None, description="Its list of models names BRIEFING_LLM_MODEL (null: no list read)"
    )
    fallback: bool = Field(description="A failed call is answered by the extractive engine "
                           "(BRIEFING_LLM_FALLBACK): the service stays ready")


class Ready(_Model):
    status: Literal["ready", "starting", "failed", "stopping", "unavailable"]
    engine: str | None = None
    model: str | None = None
    model_family: str | None = Field(
        None, description="The seq2seq model's family (t5, bart, pegasus, mt5)"
    )
    runtime: str | None = Field(
        None, description="Where the seq2seq model runs: ctranslate2-<quantization> or torch"
    )
    window_tokens: int | None = Field(
        None, description="Tokens the seq2seq model reads in one pass, prompt included"
    )
    fallback_reason: str | None = None
    prompt_version: str | None = None
    llm: LlmServer | None = Field(
        None, description="The LLM server (BRIEFING_ENGINE=llm); while it does not answer "
        "and BRIEFING_LLM_FALLBACK=false, 503 with status unavailable"
    )
    stage: str | None = Field(
        None, description="Starting: what it is doing (loading the model, opening storage, "
        "starting feeds); failed: what it was doing"
    )
    elapsed_s: float | None = Field(None, description="Starting: seconds since the start")
    error: str | None = Field(None, description="Failed: why the service did not start")


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` for the error statuses a route can answer (always with 422,
    which replaces FastAPI's own validation body: this API never sends that one, and 500)."""
    return {status: {"model": ErrorBody, "description": _WHY.get(status, "Error")}
            for status in sorted({*statuses, 422, 500})}


_WHY = {
    400: "The body is not valid JSON or text in its charset",
    401: "API keys are set and the bearer key is missing or wrong",
    404: "Not found",
    405: "The route takes another method (the Allow header lists them)",
    413: "The body is over BRIEFING_MAX_BODY_BYTES, or a fetched page over "
         "BRIEFING_FETCH_MAX_BYTES (too_large)",
    415: "Unsupported Content-Type, a JSON request sent as text/plain (wrong_content_type), "
         "or a fetched URL that is not a page (unsupported_content)",
    422: "A field, the text or the date is wrong, the text is too short to brief "
         "(too_short), or the URL is not allowed (the message names it)",
    429: "Too many briefings in progress (overloaded), or this key is over "
         "BRIEFING_RATE_LIMIT (rate_limited); retry after Retry-After seconds",
    500: "A bug; the request was logged",
    502: "Slack refused a digest message, or a fetched site failed (fetch_failed)",
    503: "The service cannot do the work now (starting, model, storage, timeout, busy)",
    504: "Fetching the URL took longer than BRIEFING_FETCH_TIMEOUT_S (fetch_timeout)",
}
