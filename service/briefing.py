"""The request path: one article in, a short and a long briefing out.

``BriefingService.brief`` runs the stages in order:
  0. repeat — the same raw text with the same settings answers from the cache at once,
     without preprocessing (the article is still stored)
  1. preprocess — normalize, dedup, segment; refuses empty text, text that is not prose
     (digits, code, tables, encoded data: ``preprocess/prose.py``) and, when the caller asks
     for a minimum (requests do; feeds and digests do not), text too short to brief
     (``preprocess/minimum.py``), before it costs anything
  2. cache — a content-addressed lookup (a read: no work yet)
  3. store — the accepted article is committed before any work starts, linked to the
     cached briefing in the same write when 2. found one, which then answers at once
  4. condense — within a budget of ``BRIEFING_MAX_MODEL_PASSES`` model passes per request:
     input that fits the window goes as it is; an article up to
     ``BRIEFING_ONE_PASS_MAX_TOKENS`` gets its most salient sentences, in article order, in
     one window (one pass per briefing); longer input is map-reduced, and where its chunks
     would not fit the budget, each of as many parts as fit is first cut to its salient
     sentences (extract, then abstract). What was read, selected and left out is reported
  5. generate — short and long briefings from the condensed text, in one batch, or the long
     one first and the short one from it (``BRIEFING_SHORT_SOURCE``). When the llm engine's
     server fails (4. or 5.), the extractive engine answers this request from 4. on, and
     says why (``fallback_reason``; ``BRIEFING_LLM_FALLBACK``)
  6. shape and check — length rules, repeated sentences, unsupported facts: flagged, dropped
     or repaired (``BRIEFING_UNSUPPORTED``; the llm engine repairs by default: asked once
     more naming what the article does not say, then the sentence is replaced by the
     article's closest one or dropped; service/checks/repair.py)
  7. cache — the result is stored under its key and returned
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from service.admission import Admission, SingleFlight
from service.cancellation import Cancellation
from service.checks import SourceFacts, Unsupported, find_unsupported
from service.checks.repair import repair_text
from service.config import Settings
from service.engines import EngineChoice, GenerationRequest
from service.engines.extractive import ExtractiveEngine, select_within
from service.engines.llm import LlmEngine
from service.errors import (
    BriefingError,
    EmptyText,
    EngineError,
    EngineUnavailable,
    NotFound,
    NotProse,
    StorageError,
    TooShort,
)
from service.lengths import fit_length
from service.metrics import Metrics
from service.output_language import AUTO, OutputLanguage, choose, primary
from service.preprocess import PREPROCESS_VERSION, Document, chunk_sentences, preprocess
from service.preprocess import split_sentences as segment
from service.preprocess.language import Language, detect_language, stop_words
from service.preprocess.minimum import count_words
from service.preprocess.prose import MIN_PROSE_SHARE, ProseVerdict
from service.preprocess.prose import assess as assess_prose
from service.prompts import PromptSet
from service.results import (
    Briefing,
    Extraction,
    Ready,
    RepairedSentence,
    UnsupportedSentence,
)
from service.storage.articles import Article, ArticleStore
from service.storage.cache import cache_key
from service.storage.flight import ReplicaFlight
from service.storage.hot_cache import BriefingCache

log = logging.getLogger(__name__)

LENGTHS = ("short", "long")


@dataclass
class Condensed:
    """The text the final prompts see, and what it took to get there."""

    text: str
    tokens: int  # tokens of the cleaned (possibly capped) input
    chunks: int  # chunks of the first map step; 1 when the input fit the window
    rounds: int = 0  # map-reduce rounds run
    truncated: bool = False
    dropped_chars: int = 0
    chars_read: int = 0  # cleaned characters of the article
    chars_selected: int = 0  # of those, the ones the model's first pass saw
    selection: str = "all"  # "all", or "salient": the extractive ranker chose what to read


class RecentAnswers:
    """The last ``capacity`` answers by raw-text alias, in this process (0: none kept).

    The alias is a hash over the raw text and everything that decides the answer (engine,
    model and revision, prompts, generation settings, preprocessing version, length rules,
    output language): a change to any of them is another alias, exactly as for the cache
    key, so an entry is never stale for its alias. An entry is kept ``ttl_s`` at most, so a
    briefing that retention deleted from the database (``service.storage.retention``, possibly in
    another process) is not answered from here for long after. Entries are read-only: callers
    copy (``{**hit, ...}``) before changing anything.
    """

    def __init__(self, capacity: int, ttl_s: float = 300.0) -> None:
        self.capacity = capacity
        self.ttl_s = ttl_s
        self._entries: OrderedDict[str, tuple[float, Briefing]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, alias: str) -> Briefing | None:
        with self._lock:
            found = self._entries.get(alias)
            if found is None:
                return None
            if time.monotonic() - found[0] > self.ttl_s:
                del self._entries[alias]
                return None
            self._entries.move_to_end(alias)
            return found[1]

    def put(self, alias: str, result: Briefing) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._entries[alias] = (time.monotonic(), result)
            self._entries.move_to_end(alias)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class PassBudget:
    """Model passes (prompts run) one request may spend; spending past it is a bug."""

    limit: int
    used: int = 0

    @property
    def left(self) -> int:
        return self.limit - self.used

    def spend(self, passes: int) -> None:
        if passes > self.left:
            raise AssertionError(f"{passes} passes over the budget ({self.used}/{self.limit})")
        self.used += passes


class BriefingService:
    """The request path: runs the stages for each request over the engine, prompts, cache
    and store it is given (opened and closed by :class:`service.wiring.Wiring`)."""

    def __init__(
        self, settings: Settings, choice: EngineChoice, prompts: PromptSet,
        cache: BriefingCache, store: ArticleStore, metrics: Metrics, *,
        replica_flight: ReplicaFlight | None = None, recent_answers: int = 256,
    ) -> None:
        self.settings = settings
        self.choice = choice
        self.engine = choice.engine
        self.prompts = prompts
        self.cache = cache
        self.store = store
        self.metrics = metrics
        self.admission = Admission(settings.max_queue + 1)
        self.flights = SingleFlight()
        self.replica_flight = replica_flight
        # 0. repeat: the answers of recent raw texts, in process (a hit is a dict lookup)
        self.recent = RecentAnswers(recent_answers)
        admission = self.admission
        metrics.inflight_briefings.set_function(lambda: admission.in_flight)

    def brief(
        self, article: Article, lengths: Sequence[str] = LENGTHS, *,
        deadline: float | None = None, on_stored: Callable[[int], None] | None = None,
        cancellation: Cancellation | None = None, min_words: int = 0, store: bool = True,
        language: str | None = None,
    ) -> Briefing:
        """Briefings of one article (see the module docstring for the stages).

        ``cancellation`` ends the work when the request ends (the API cancels it at its
        timeout or when the client goes away); ``deadline`` (``time.monotonic()`` based)
        without one makes one. Queued prompts leave the batcher at once, and no step starts
        after it fired. ``on_stored`` gets the article's id as soon as it is stored (feeds
        mark the entry seen then, so an entry is stored once even when its briefing fails).
        ``min_words``: a cleaned text with fewer words is refused (``TooShort``).
        ``store=False``: the article is not stored (nor listed, nor in a digest); its
        briefing is still cached. ``language``: the output language the request asks for
        (``auto`` or a code; one the engine cannot write is refused,
        ``LanguageNotSupported``); None: ``BRIEFING_OUTPUT_LANGUAGE``
        (service/output_language.py).
        """

        def stored(briefing_id: str | None) -> int | None:
            if not store:
                return None
            article_id = self.store.add(article, briefing_id=briefing_id)
            if on_stored is not None:
                on_stored(article_id)
            return article_id

        return self._brief(article, lengths, cancellation or Cancellation(deadline), stored,
                           min_words=min_words, language=language)

    def brief_stored(
        self, article: Article, article_id: int | None, lengths: Sequence[str] = LENGTHS, *,
        deadline: float | None = None, cancellation: Cancellation | None = None,
        language: str | None = None,
    ) -> Briefing:
        """Briefings of an article the store already holds (the digest's): it is not stored
        again, and the result is linked to ``article_id`` so the next digest finds it cached.
        ``article_id=None`` is text that is no article (the digest's overview): only cached.
        ``language``: as for :meth:`brief`; digests leave it to the setting.
        """

        def stored(briefing_id: str | None) -> int | None:
            if briefing_id is not None:
                self._link(article_id, briefing_id)
            return article_id

        return self._brief(article, lengths, cancellation or Cancellation(deadline), stored,
                           language=language)

    def _brief(
        self, article: Article, lengths: Sequence[str], cancellation: Cancellation,
        stored: Callable[[str | None], int | None], *, min_words: int = 0,
        language: str | None = None,
    ) -> Briefing:
        """``stored(briefing_id)`` stores the article (or knows it stored) and links it to
        ``briefing_id`` when that is known already (a cache hit: one write)."""
        lengths = tuple(k for k in LENGTHS if k in set(lengths)) or LENGTHS
        asked = self.settings.output_language if language is None else language
        from_request = language is not None
        # 0. repeat
        # (a title changes what cleaning removes, so it is part of the text's alias; the
        # language asked for, and whether a request asked, decide the answer before the
        # article's language is known)
        raw = f"{article.title}\x00{article.text}" if article.title else article.text
        alias = self._key(raw, lengths, raw=True,
                          language=f"{asked}|{'request' if from_request else 'setting'}")
        hit = self.recent.get(alias)
        if hit is None:
            hit = self._cached(self.cache.get_by_alias, alias)
            if hit is not None:
                self.recent.put(alias, hit)
        if hit is not None:
            stored(hit["id"])
            return self._from_cache(hit)
        # 1. preprocess
        doc = preprocess(article.text, title=article.title)
        if not doc.sentences:
            raise EmptyText(
                "the article text is empty or only whitespace: send the article's text in "
                "`text` (JSON) or as the request body (text/plain)"
            )
        # A page is judged by its extracted text; a text as sent (tables and code keep
        # their shape there).
        verdict = assess_prose(doc.text if doc.stats.html else article.text)
        if not verdict.prose:
            raise NotProse(
                f"the text does not read as prose: most of it is {verdict.description}. "
                "Send an article: sentences of ordinary words, in any language"
            )
        words = count_words(doc.text) if min_words else 0
        if words < min_words:
            raise TooShort(
                f"the text is too short to brief: {words} word(s) after cleaning, and a "
                f"briefing needs at least {min_words}. Send the whole article, not only its "
                "headline"
            )
        notes = _prose_warnings(verdict)
        # The output language: refused here, before the article is stored, when the engine
        # cannot write the one the request asks for.
        detected = detect_language(doc.text)
        out = choose(asked, from_request=from_request, article=detected.code,
                     engine=self.engine.name, model_languages=self.settings.model_language_list)
        # 2. cache, and 3. store before any work (a hit is linked in the same write)
        key = self._key(doc.text, lengths, language=out.code)
        hit = self._cached(self.cache.get, key)
        article_id = stored(hit["id"] if hit is not None else None)
        if hit is not None:
            return self._from_cache(hit)
        (result, elsewhere), shared = self.flights.run(
            key,
            lambda shared_cancellation: self._compute_once(
                key, alias, doc, lengths, shared_cancellation, notes, out
            ),
            cancellation,
        )
        if elsewhere:  # another replica computed it while this one waited
            self._link(article_id, result["id"])
            return self._from_cache(result)
        self.metrics.cache_misses.inc()
        if shared:
            log.info("briefing %s computed once for concurrent identical requests", key[:12])
        self._link(article_id, result["id"])
        return {**result, "cached": False}

    def _compute_once(
        self, key: str, alias: str, doc: Document, lengths: Sequence[str],
        cancellation: Cancellation, notes: Sequence[str] = (),
        out: OutputLanguage | None = None,
    ) -> tuple[Briefing, bool]:
        """(result, computed by another replica): with Redis, one replica computes a key at a
        time and the others wait for its result (service.storage.flight)."""

        def compute() -> Briefing:
            return self.admission.run(
                lambda: self._compute(key, alias, doc, lengths, cancellation, notes, out)
            )

        if self.replica_flight is None:
            return compute(), False
        return self.replica_flight.run(
            key, compute, lambda: self._cached(self.cache.get, key),
            deadline=cancellation.deadline or time.monotonic() + self.settings.request_timeout_s,
            cancelled=lambda: cancellation.cancelled,
        )

    def _compute(
        self, key: str, alias: str | None, doc: Document, lengths: Sequence[str],
        cancellation: Cancellation, notes: Sequence[str] = (),
        out: OutputLanguage | None = None,
    ) -> Briefing:
        """The briefings of ``doc``; ``notes``: warnings about the input, for the answer;
        ``out``: the output language (None: the article's)."""
        budget = PassBudget(self.settings.max_model_passes)
        out = out or OutputLanguage(detect_language(doc.text).code)
        try:
            # 4. condense
            condensed = self._condense(doc, cancellation, budget, self._final_passes(lengths))
            # 5. generate
            outputs, asked = self._write(condensed.text, lengths, cancellation, budget, out)
        except EngineUnavailable as exc:  # the llm engine's server failed
            if self.choice.fallback is None:
                raise
            return self._fall_back(exc, doc, lengths, cancellation, notes, out)
        # 6. shape and check (and repair: the llm engine may be asked once more)
        result = self._result(key, doc, condensed, outputs, budget, notes, out,
                              asked=asked, cancellation=cancellation)
        if condensed.truncated:
            self.metrics.input_truncated.inc()
        self.metrics.reduce_rounds.observe(condensed.rounds)
        # 7. cache — a failed write costs a future hit, not this answer
        try:
            self.cache.put(key, result, aliases=(alias,) if alias else ())
        except StorageError as exc:
            log.warning("briefing %s not cached: %s", key[:12], exc.message)
        else:
            if alias:
                self.recent.put(alias, result)
        return result

    def _fall_back(
        self, error: EngineUnavailable, doc: Document, lengths: Sequence[str],
        cancellation: Cancellation, notes: Sequence[str], out: OutputLanguage,
    ) -> Briefing:
        """This request's briefings by the fallback engine, saying why (``fallback_reason``).
        Cached under that engine's key only: the next request asks the server again. It
        writes in the article's language, whatever was asked (and says so)."""
        assert self.choice.fallback is not None
        log.warning("answering with the %s engine: %s", self.choice.fallback.name,
                    error.message)
        self.metrics.llm_fallbacks.labels(error.reason).inc()
        twin = copy.copy(self)  # same cache, store and metrics; another engine
        twin.choice = EngineChoice(self.choice.fallback, fallback_reason=error.message)
        twin.engine = twin.choice.engine
        article = detect_language(doc.text).code
        if article != "und" and primary(out.code) != primary(article):
            out = OutputLanguage(article, warning=(
                f"asked for in {out.code}: the {twin.engine.name} engine that answers while the "
                f"LLM server fails writes in the article's own language ({article})"))
        return twin._compute(twin._key(doc.text, lengths, language=out.code), None, doc,
                             lengths, cancellation, notes, out)

    def warm(self) -> float:
        """Run the request path once on a built-in sample, so that what loads on first use
        (language identification and its model, the sentence splitter's rules, the prose
        and fact checks' patterns, stop words, the extractive ranker) loads now, during the
        start, not in the first request after ``/readyz`` says ready. Nothing is stored or
        cached; a model engine is not asked to generate (its runtime warms when it loads).
        Returns the seconds it took."""
        started = time.perf_counter()
        doc = preprocess(_WARM_SAMPLE, title="Warm-up")
        assess_prose(doc.text)
        count_words(doc.text)
        language = detect_language(doc.text)
        stop_words(language.code if language.known else "en")
        out = OutputLanguage(language.code)
        budget = PassBudget(self.settings.max_model_passes)
        cancellation = Cancellation()
        self.engine.count_tokens(doc.sentences[0])  # the tokenizer's first call
        condensed = self._condense(doc, cancellation, budget, len(LENGTHS)) \
            if self.engine.name == "extractive" else Condensed(doc.text, 0, 1)
        if self.engine.name == "extractive":
            # A throwaway extractive engine warms the ranker's modules (stop words, TF-IDF):
            # the serving engine is never asked, so nothing waits on its queue or its gate.
            warmer = ExtractiveEngine()
            outputs = dict(zip(LENGTHS, warmer.generate(
                [GenerationRequest(condensed.text, self.prompts[k], out.prompt)
                 for k in LENGTHS]), strict=True))
        else:
            outputs = {"long": " ".join(doc.sentences[:3]), "short": doc.sentences[0]}
        self._shape_and_check(doc.text, outputs, source_sentences=doc.sentences,
                              language=language.code if language.known else "en")
        self._key(doc.text, LENGTHS, language=out.code)
        return time.perf_counter() - started

    def readiness(self) -> Ready:
        """``/readyz`` once started: the engine and model that serve, and why if it is a
        fallback; with the llm engine, whether its server answers (asked now, bounded:
        ``LlmEngine.probe``) and ``unavailable`` when it does not and nothing falls back."""
        engine = self.engine
        ready: Ready = {"status": "ready", "engine": engine.name, "model": engine.model_id}
        for field, value in (("model_family", getattr(engine, "family", None)),
                             ("runtime", getattr(engine, "runtime_name", None)),
                             ("window_tokens", getattr(engine, "window", None))):
            if value is not None:
                ready[field] = value  # type: ignore[literal-required]
        ready["fallback_reason"] = self.choice.fallback_reason
        ready["prompt_version"] = self.prompts.version
        if isinstance(engine, LlmEngine):
            server = engine.probe()
            fallback = self.choice.fallback is not None
            ready["llm"] = {**server.as_dict(), "fallback": fallback}
            if not server.reachable and not fallback:
                ready["status"] = "unavailable"
        return ready

    def get(self, briefing_id: str) -> Briefing:
        """A stored result by id; NotFound when unknown."""
        stored = self.cache.get(briefing_id)
        if stored is None:
            raise NotFound(f"no briefing with id {briefing_id!r}: POST the article first")
        return {**stored, "cached": True}

    # -- stages -----------------------------------------------------------------------

    def _cached(
        self, lookup: Callable[[str], Briefing | None], key: str
    ) -> Briefing | None:
        """A cache lookup that treats an unreadable cache as a miss (it is only a cache)."""
        try:
            return lookup(key)
        except StorageError as exc:
            log.warning("cache unreadable, generating instead: %s", exc.message)
            return None

    def _from_cache(self, hit: Briefing) -> Briefing:
        self.metrics.cache_hits.inc()
        return {**hit, "cached": True}

    def _link(self, article_id: int | None, briefing_id: str) -> None:
        """Link the stored article to its briefing; a failure costs the digest a cache hit
        (it generates the briefing again), never this answer."""
        if article_id is None:
            return
        try:
            self.store.link_briefing(article_id, briefing_id)
        except StorageError as exc:
            log.warning("article %d not linked to briefing %s: %s", article_id,
                        briefing_id[:12], exc.message)

    def _key(self, text: str, lengths: Sequence[str], *, raw: bool = False,
             language: str = AUTO) -> str:
        """The cache key over everything that decides the output; ``raw`` keys the text as
        received (an alias), otherwise the cleaned text; ``language``: the output language
        (for an alias, the one asked for)."""
        s = self.settings
        return cache_key(
            text=text,
            raw=raw,
            language=language,
            engine=self.engine.name,
            model=self.engine.model_id,
            revision=self.engine.model_revision,
            prompt_version=self.prompts.version,
            generation={k: self.prompts[k].generation.as_dict() for k in (*lengths, "reduce")},
            preprocess=PREPROCESS_VERSION,
            lengths=list(lengths),
            rules=[s.max_input_chars, s.max_input_tokens, s.reduce_max_depth,
                   s.max_model_passes, s.one_pass_max_tokens,
                   s.short_max_sentences, s.short_max_words, s.long_max_words,
                   self._unsupported_mode(),
                   s.model_languages,
                   self._short_from_long(lengths)],
        )

    def _final_passes(self, lengths: Sequence[str]) -> int:
        """Passes the briefings themselves take (one per kind written)."""
        return len(lengths)

    def _condense(
        self, doc: Document, cancellation: Cancellation, budget: PassBudget, finals: int
    ) -> Condensed:
        engine, window = self.engine, self.engine.max_input_tokens
        sentences, dropped = _cap_chars(doc.sentences, self.settings.max_input_chars)
        counts = [engine.count_tokens(s) for s in sentences]
        condensed = Condensed(text="", tokens=sum(counts), chunks=1, truncated=dropped > 0,
                              dropped_chars=dropped, chars_read=doc.stats.chars_out)
        total = condensed.tokens
        map_budget = budget.left - finals
        if total <= window:
            pass
        elif total <= self.settings.one_pass_max_tokens or map_budget < 2:
            # The typical article: its salient sentences in one window, one pass per briefing.
            sentences, counts = self._salient(condensed, sentences, counts, 1)
            total = sum(counts)
        else:
            chunks = chunk_sentences(sentences, engine, window)
            fits = max(1, _chunks_within(map_budget, window, self._partial_tokens(),
                                         self.settings.reduce_max_depth))
            if len(chunks) > fits:
                # Past the budget: as many parts as fit, each cut to its salient sentences.
                sentences, counts = self._salient(condensed, sentences, counts, fits)
                chunks = chunk_sentences(sentences, engine, window)
                total = sum(counts)
            condensed.chunks = len(chunks)
            while total > window:
                if condensed.rounds >= self.settings.reduce_max_depth:
                    sentences = self._cut(condensed, sentences, counts,
                                          "reduction depth reached")
                    break
                if len(chunks) > budget.left - finals:
                    sentences = self._cut(condensed, sentences, counts,
                                          "the pass budget is spent")
                    break
                partials = self._generate(
                    [GenerationRequest(c, self.prompts["reduce"]) for c in chunks],
                    cancellation, budget,
                )
                sentences = [s for p in partials for s in segment(p)]
                counts = [engine.count_tokens(s) for s in sentences]
                condensed.rounds += 1
                if sum(counts) >= total:
                    # No progress (a model that does not shorten): cut instead of looping.
                    sentences = self._cut(condensed, sentences, counts,
                                          "reduction made no progress")
                    break
                total = sum(counts)
                chunks = chunk_sentences(sentences, engine, window)
        if condensed.selection == "all":
            condensed.chars_selected = max(0, condensed.chars_read - dropped)
        left_out = condensed.chars_read - condensed.chars_selected
        condensed.truncated = condensed.truncated or left_out > 0
        # One sentence per paragraph: engines that re-segment (extractive) see the same units.
        condensed.text = "\n\n".join(sentences)
        return condensed

    def _partial_tokens(self) -> int:
        """The most tokens one map step's output can hold."""
        return self.prompts["reduce"].generation.max_new_tokens

    def _salient(
        self, condensed: Condensed, sentences: list[str], counts: list[int], parts: int
    ) -> tuple[list[str], list[int]]:
        """The most salient sentences of each of ``parts`` consecutive parts (equal shares
        of the tokens) that fit one window each, in article order; the rest is left out."""
        window = self.engine.max_input_tokens
        total = sum(counts)
        kept: list[int] = []
        start, used = 0, 0
        for part in range(parts):
            end, limit = start, total * (part + 1) / parts
            while end < len(sentences) and (used + counts[end] <= limit or end == start):
                used += counts[end]
                end += 1
            picked = select_within(sentences[start:end], counts[start:end], window)
            kept.extend(start + i for i in picked)
            start = end
        if not kept:  # one sentence longer than the window: its first part
            first = self.engine.split_by_tokens(sentences[0], window)[:1]
            kept_sentences = first
            kept_counts = [self.engine.count_tokens(first[0])] if first else []
        else:
            kept_sentences = [sentences[i] for i in kept]
            kept_counts = [counts[i] for i in kept]
        condensed.selection = "salient"
        condensed.chars_selected = sum(len(s) + 1 for s in kept_sentences) - 1
        return kept_sentences, kept_counts

    def _cut(
        self, condensed: Condensed, sentences: list[str], counts: list[int], why: str
    ) -> list[str]:
        """Leading sentences within the window; what is cut is reported, never silent."""
        budget = self.engine.max_input_tokens
        kept, used = [], 0
        for index, (sentence, n) in enumerate(zip(sentences, counts, strict=True)):
            if used + n > budget:
                if not kept:  # one sentence longer than the window: keep its first part
                    kept = self.engine.split_by_tokens(sentence, budget)[:1]
                condensed.dropped_chars += sum(len(s) + 1 for s in sentences[index:])
                break
            kept.append(sentence)
            used += n
        condensed.truncated = True
        log.info("briefing input: %s; %d characters cut", why, condensed.dropped_chars)
        return kept

    def _language_warnings(self, language: Language) -> list[str]:
        """What the reader should know when the article's language is not one the engine
        is meant for (``BRIEFING_MODEL_LANGUAGES``; the extractive engine: any language
        with a stop-word list)."""
        if not language.known:
            return []
        name = f"{_language_name(language.code)} ({language.code})"
        if self.engine.name == "extractive":
            if language.code != "en" and stop_words(language.code) is None:
                return [f"the article looks like {name}: the extractive engine has no stop "
                        "words for it, so sentences are ranked by every word they share"]
            return []
        meant = set(self.settings.model_language_list)
        if language.code not in meant:
            return [f"the article looks like {name}, and the model "
                    f"{self.engine.model_id or '(seq2seq)'} is meant for "
                    f"{', '.join(sorted(meant)) or 'no language given'} "
                    "(BRIEFING_MODEL_LANGUAGES): the briefing may be poor or in another "
                    "language"]
        return []

    def _short_from_long(self, lengths: Sequence[str]) -> bool:
        source = self.settings.short_source
        if source == "auto":
            source = "article" if self.engine.name in ("extractive", "llm") else "long"
        return source == "long" and "long" in lengths and "short" in lengths

    def _write(
        self, text: str, lengths: Sequence[str], cancellation: Cancellation,
        budget: PassBudget, out: OutputLanguage,
    ) -> tuple[dict[str, str], dict[str, GenerationRequest]]:
        """The raw briefings of ``text``, and the request each was written for: one batch,
        or the long one and then the short one from it (a few dozen input tokens instead of
        the article's hundreds)."""
        language = out.prompt
        if not self._short_from_long(lengths):
            requests = [GenerationRequest(text, self.prompts[k], language) for k in lengths]
            return (dict(zip(lengths, self._generate(requests, cancellation, budget),
                             strict=True)),
                    dict(zip(lengths, requests, strict=True)))
        asked_long = GenerationRequest(text, self.prompts["long"], language)
        (long,) = self._generate([asked_long], cancellation, budget)
        shaped = fit_length(long, max_words=self.settings.long_max_words)
        asked_short = GenerationRequest(shaped or text, self.prompts["short"], language)
        (short,) = self._generate([asked_short], cancellation, budget)
        return {"long": long, "short": short}, {"long": asked_long, "short": asked_short}

    def _generate(
        self, requests: list[GenerationRequest], cancellation: Cancellation,
        budget: PassBudget,
    ) -> list[str]:
        cancellation.check()
        budget.spend(len(requests))
        started = time.perf_counter()
        try:
            outputs = self.engine.generate(requests, cancellation)
        except BriefingError:
            raise
        except Exception as exc:  # any engine failure is the engine's, not the client's
            raise EngineError(f"the {self.engine.name} engine failed: {exc}") from exc
        kind = "+".join(sorted({r.prompt.kind for r in requests}))
        self.metrics.generation_seconds.labels(self.engine.name, kind).observe(
            time.perf_counter() - started
        )
        return outputs

    def _unsupported_mode(self) -> str:
        """``BRIEFING_UNSUPPORTED`` for the serving engine: auto is repair for llm, else
        flag."""
        mode = self.settings.unsupported
        if mode == "auto":
            return "repair" if self.engine.name == "llm" else "flag"
        return mode

    def _shape_and_check(
        self, source: str, outputs: dict[str, str], *, source_sentences: Sequence[str] = (),
        asked: dict[str, GenerationRequest] | None = None, translated: bool = False,
        language: str = "en", cancellation: Cancellation | None = None,
        budget: PassBudget | None = None,
    ) -> tuple[dict[str, str | None], list[UnsupportedSentence], list[RepairedSentence]]:
        """Length rules, then facts: each briefing's claims must be in the source article
        (the short one's too, even when it was written from the long one: a sentence the
        article says word for word is supported, whatever the long one left out).
        ``BRIEFING_UNSUPPORTED``: ``flag`` keeps such sentences; ``drop`` removes them (and
        refits); ``repair`` asks the llm engine once more naming the facts (``asked``: the
        requests the briefings were written for), then replaces each sentence still
        unsupported by the article's closest one (``source_sentences``; not when
        ``translated``) or drops it. Returns (briefings, unsupported: what was found, or with
        ``repair`` what remains, repaired: what was done). A briefing in another language
        than the article (``translated``) is checked for numbers and dates only."""
        s = self.settings
        mode = self._unsupported_mode()
        drop = mode == "drop"
        limits = {
            "long": {"max_words": s.long_max_words},
            "short": {"max_words": s.short_max_words, "max_sentences": s.short_max_sentences},
        }
        facts = SourceFacts.from_text(source)

        def check(text: str) -> list[Unsupported]:
            return find_unsupported(text, source, facts=facts, names=not translated)

        fitted = {k: fit_length(outputs[k], **limits[k]) for k in ("long", "short")
                  if k in outputs}
        found = {k: check(text) for k, text in fitted.items()}
        repaired: list[RepairedSentence] = []
        if mode == "repair" and asked and cancellation is not None and budget is not None:
            self._ask_again(fitted, found, asked, check, limits, cancellation, budget,
                            repaired)
        shaped: dict[str, str | None] = {"short": None, "long": None}
        reported: list[UnsupportedSentence] = []
        for kind in ("long", "short"):  # long first: an emptied short one falls back to it
            if kind not in fitted:
                continue
            text, items = fitted[kind], found[kind]
            if mode == "repair" and items:
                text, done = repair_text(text, source, items, source_sentences=source_sentences,
                                         facts=facts, replace=not translated,
                                         language=language)
                for item in done:
                    self.metrics.unsupported_sentences.labels(kind, item.action).inc()
                    repaired.append({"briefing": kind, **item.as_dict()})
                text = fit_length(text, **limits[kind])
                items = check(text)  # what remains (a replacement is checked before it)
            self.metrics.unsupported_sentences.labels(
                kind, "dropped" if drop else "flagged"
            ).inc(len(items))
            for item in items:
                reported.append({**item.as_dict(), "briefing": kind, "dropped": drop})
                if drop:
                    text = text.replace(item.sentence, " ")
            text = fit_length(text, **limits[kind]) if drop else text
            if kind == "short" and not text and shaped["long"]:
                # Everything in the short one was unsupported: lead with the long one instead.
                text = fit_length(shaped["long"], **limits["short"])
            shaped[kind] = text
        return shaped, reported, repaired

    def _ask_again(
        self, fitted: dict[str, str], found: dict[str, list[Unsupported]],
        asked: dict[str, GenerationRequest], check: Callable[[str], list[Unsupported]],
        limits: dict[str, dict[str, Any]], cancellation: Cancellation, budget: PassBudget,
        repaired: list[RepairedSentence],
    ) -> None:
        """The llm engine asked once more for each briefing with unsupported facts, naming
        them (one batch; within the pass budget); the new answer is kept when it has fewer
        unsupported sentences. A server failure here keeps the first answers (repaired next
        by replacing or dropping), never the fallback."""
        kinds = [k for k in ("long", "short") if found.get(k) and k in asked]
        if self.engine.name != "llm" or not kinds:
            return
        if budget.left < len(kinds):
            log.info("not asking again: the pass budget is spent")
            return
        missing = {k: list(dict.fromkeys(m for item in found[k] for m in item.missing))
                   for k in kinds}
        requests = [dataclasses.replace(asked[k], revise=(fitted[k], tuple(missing[k])))
                    for k in kinds]
        try:
            answers = self._generate(requests, cancellation, budget)
        except EngineUnavailable as exc:
            log.warning("asking again for a briefing without unsupported facts failed: %s",
                        exc.message)
            answers = [""] * len(kinds)
        for kind, answer in zip(kinds, answers, strict=True):
            text = fit_length(answer, **limits[kind]) if answer else ""
            still = check(text) if text else found[kind]
            better = bool(text) and len(still) < len(found[kind])
            self.metrics.unsupported_sentences.labels(kind, "asked_again").inc(
                len(found[kind]))
            repaired.append({
                "briefing": kind, "action": "asked_again",
                "sentence": " ".join(item.sentence for item in found[kind]),
                "missing": missing[kind], "resolved": better and not still,
            })
            if better:
                fitted[kind], found[kind] = text, still

    def _result(
        self, key: str, doc: Document, condensed: Condensed, outputs: dict[str, str],
        budget: PassBudget, notes: Sequence[str] = (), out: OutputLanguage | None = None,
        *, asked: dict[str, GenerationRequest] | None = None,
        cancellation: Cancellation | None = None,
    ) -> Briefing:
        language = detect_language(doc.text)
        out = out or OutputLanguage(language.code)
        translated = (language.known and out.code != "und"
                      and primary(out.code) != primary(language.code))
        shaped, unsupported, repaired = self._shape_and_check(
            doc.text, outputs, source_sentences=doc.sentences, asked=asked,
            translated=translated, language=language.code if language.known else "en",
            cancellation=cancellation, budget=budget,
        )
        result: Briefing = {
            "id": key,
            **shaped,
            "engine": self.engine.name,
            # the llm engine: the model its server says it ran
            "model": getattr(self.engine, "served_model", self.engine.model_id),
            # the seq2seq model's family (t5, bart, pegasus, mt5); None for other engines
            "model_family": getattr(self.engine, "family", None),
            "prompt_version": self.prompts.version,
            "input": {
                **doc.stats.as_dict(),
                "chars": doc.stats.chars_out,
                "tokens": condensed.tokens,
                "chunks": condensed.chunks,
                "reduce_rounds": condensed.rounds,
                "truncated": condensed.truncated,
                "dropped_chars": condensed.dropped_chars,
                **({"extraction": _extraction(doc)} if doc.extraction else {}),
                "language": language.code,
                "language_confidence": language.confidence,
                "chars_read": condensed.chars_read,
                "chars_selected": condensed.chars_selected,
                "chars_left_out": condensed.chars_read - condensed.chars_selected,
                "selection": condensed.selection,
                "model_passes": budget.used,
                "max_model_passes": budget.limit,
                # what the model reads in one pass, prompt included (seq2seq only)
                "window_tokens": getattr(self.engine, "window", None),
            },
            "language_out": out.code,
            "checks": {"unsupported": unsupported,
                       **({"repaired": repaired} if self._unsupported_mode() == "repair"
                          else {})},
            "warnings": [*notes, *self._language_warnings(language),
                         *([out.warning] if out.warning else [])],
        }
        if self.choice.fallback_reason:
            result["fallback_reason"] = self.choice.fallback_reason
        return result


# The warm-up's article: ordinary prose with names, numbers and dates, so that every check's
# patterns are compiled (BriefingService.warm).
_WARM_SAMPLE = (
    "The city council of Springfield approved a budget of 4.2 million dollars on Tuesday, "
    "March 3, 2025, after a debate that lasted more than six hours. Mayor Anna Keller said "
    "the plan would fund 120 new teachers and repair 14 bridges across the region. "
    "Opponents argued that the increase in property taxes, about 3 percent, would hurt "
    "families who are already struggling with rising rents. The vote passed by seven to "
    "four, and the new budget takes effect on July 1.\n\n"
    "Officials from the transport department told reporters that the bridge repairs would "
    "begin in the spring and take two years. Local businesses welcomed the decision, "
    "saying that closed roads had cost them customers for months. The council will meet "
    "again next month to discuss a proposal for new bus routes in the northern districts."
)


def _prose_warnings(verdict: ProseVerdict) -> list[str]:
    """What the reader should know about an article whose prose is the lesser part of it
    (a story with its results table: accepted, see ``preprocess/prose.py``)."""
    if verdict.kind is None or verdict.prose_share >= MIN_PROSE_SHARE:
        return []
    return [f"{1 - verdict.prose_share:.0%} of the text is not prose ({verdict.description}):"
            " the briefing is written from its sentences, which are ranked before it"]


def _language_name(code: str) -> str:
    return _LANGUAGE_NAMES.get(code, code)


_LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "pl": "Polish", "tr": "Turkish",
    "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "ar": "Arabic", "id": "Indonesian",
    "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "uk": "Ukrainian",
}


def _extraction(doc: Document) -> Extraction:
    """``input.extraction``: how much of a page's visible text its main text kept, and how."""
    found = doc.extraction
    assert found is not None
    return {"kept": round(found.kept, 3), "visible_words": found.visible_words,
            "kept_words": found.kept_words, "mode": found.mode}


def _chunks_within(passes: int, window: int, partial_tokens: int, depth: int) -> int:
    """The most map chunks whose map-reduce (each round's outputs chunked again until they
    fit one window, at most ``depth`` rounds) takes at most ``passes`` passes; 0 if none."""
    best = 0
    for chunks in range(1, passes + 1):
        spent, n, rounds = chunks, chunks, 1
        while n * partial_tokens > window and rounds < depth:
            n = -(-n * partial_tokens // window)
            spent += n
            rounds += 1
        if spent > passes or n * partial_tokens > window:
            break
        best = chunks
    return best


def _cap_chars(sentences: list[str], limit: int) -> tuple[list[str], int]:
    """Whole sentences up to ``limit`` characters, and how many characters were dropped."""
    kept, used = [], 0
    for index, sentence in enumerate(sentences):
        if used + len(sentence) > limit:
            return kept, sum(len(s) + 1 for s in sentences[index:])
        kept.append(sentence)
        used += len(sentence) + 1
    return kept, 0

