"""The digest of one local day: its articles grouped by story, ranked, briefed; stored.

``build_digest`` runs the stages in order:
  1. window — the calendar day in the configured IANA time zone, as a UTC interval
     (:mod:`service.digest.window`)
  2. articles — every article *received* in the window (the store keeps them all)
  3. cluster — identical texts, and texts whose MinHash similarity reaches the threshold
     (single linkage), are one story (:mod:`service.digest.stories`)
  4. rank and cap — more sources first, then more named ones, then more articles, then the
     most recent; at most ``digest_max_stories`` (:mod:`service.digest.ranking`)
  5. compose — per story a short briefing, a title and its sources (how many, and the named
     ones); optionally one long overview of all stories (:mod:`service.digest.compose`)
The result is a JSON-ready dict, stored by (day, time zone).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from service.config import Settings
from service.digest.compose import StoryBriefer, compose_story
from service.digest.fingerprint import FINGERPRINT_VERSION
from service.digest.ranking import rank
from service.digest.stories import cluster
from service.digest.window import day_window
from service.results import Digest
from service.storage.articles import ArticleStore

log = logging.getLogger(__name__)


def build_digest(
    settings: Settings,
    store: ArticleStore,
    briefer: StoryBriefer,
    day: date,
    *,
    now: datetime | None = None,
) -> Digest:
    """The digest of ``day`` (see the module docstring for the stages); stored, and returned."""
    zone = settings.zone
    now = now or datetime.now(UTC)
    # 1. window
    start, end = day_window(day, zone)
    # 2. articles
    articles = store.received_between(start, end)
    # 3. cluster
    groups = cluster(articles, settings.digest_similarity)
    # 4. rank and cap
    ranked = rank(groups)
    chosen = ranked[: settings.digest_max_stories]
    # 5. compose
    stories = [compose_story(group, briefer, settings) for group in chosen]
    overview = None
    if settings.digest_overview and len(stories) > 1:
        overview = briefer.overview("\n\n".join(f"{s['title']}. {s['briefing']}"
                                                for s in stories))
    digest = {
        "date": day.isoformat(),
        "timezone": settings.timezone,
        "window": {"start": start.isoformat(), "end": end.isoformat(),
                   "hours": round((end - start).total_seconds() / 3600, 2)},
        "complete": now >= end,
        "built_at": now.isoformat(),
        "articles": len(articles),
        "stories_total": len(groups),
        "stories": stories,
        "overview": overview,
        "clustering": {"fingerprint": FINGERPRINT_VERSION,
                       "threshold": settings.digest_similarity},
    }
    store.save_digest(day.isoformat(), settings.timezone, digest)
    log.info("digest %s (%s): %d article(s), %d story(ies), %d shown", day, settings.timezone,
             len(articles), len(groups), len(stories))
    return digest
