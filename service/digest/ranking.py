"""Stage 4 of the digest: which stories lead (more sources, more articles, most recent)."""

from __future__ import annotations

from service.digest.stories import publishers
from service.storage.articles import StoredArticle


def rank(groups: list[list[StoredArticle]]) -> list[list[StoredArticle]]:
    """More sources first, then more named ones (so articles without a publisher, one unnamed
    source together, never put a story ahead of an equal one whose sources are named), then
    more articles, then the latest arrival, then the oldest id."""

    def order(group: list[StoredArticle]) -> tuple[int, int, int, float, int]:
        sources, names = publishers(group)
        latest = max(a.received_at for a in group).timestamp()
        return (-sources, -len(names), -len(group), -latest, min(a.id for a in group))

    return sorted(groups, key=order)


# --- a named digest's ranking: a score in parts, and caps -------------------------------------

RECENCY_HALF_LIFE_H = 24.0  # a story's recency weight halves every day before the period's end
WEIGHTS = {"publishers": 1.0, "recency": 1.0, "match": 0.5}


def score(group: list[StoredArticle], strength: dict[int, int], end_ts: float,
          ) -> dict[str, float]:
    """A story's score and its parts: distinct publishers (1 per source), recency (1 for a
    story whose latest article arrived at the period's end, halving each
    ``RECENCY_HALF_LIFE_H`` hours before it) and match (the most include terms one of its
    articles matches)."""
    sources, _ = publishers(group)
    latest = max(a.received_at for a in group).timestamp()
    age_h = max(0.0, (end_ts - latest) / 3600)
    recency = 0.5 ** (age_h / RECENCY_HALF_LIFE_H)
    match = max((strength.get(a.id, 0) for a in group), default=0)
    parts = {"publishers": float(sources), "recency": round(recency, 4), "match": float(match)}
    parts["total"] = round(sum(WEIGHTS[k] * parts[k] for k in WEIGHTS), 4)
    return parts


def rank_scored(groups: list[list[StoredArticle]], strength: dict[int, int], end_ts: float,
                ) -> list[tuple[list[StoredArticle], dict[str, float]]]:
    """Stories by score (highest first), ties as :func:`rank` orders them."""
    order = {id(g): i for i, g in enumerate(rank(groups))}
    scored = [(g, score(g, strength, end_ts)) for g in groups]
    return sorted(scored, key=lambda gs: (-gs[1]["total"], order[id(gs[0])]))


def lead_source(group: list[StoredArticle]) -> str:
    """The publisher a story counts against for ``max_per_source``: its first article's."""
    from service.digest.stories import source_key

    return source_key(group[0])


def cap(scored: list[tuple[list[StoredArticle], dict[str, float]]], max_stories: int,
        max_per_source: int | None) -> list[tuple[list[StoredArticle], dict[str, float]]]:
    """At most ``max_stories``, at most ``max_per_source`` led by one publisher."""
    taken: list[tuple[list[StoredArticle], dict[str, float]]] = []
    per_source: dict[str, int] = {}
    for group, parts in scored:
        if len(taken) >= max_stories:
            break
        if max_per_source is not None:
            key = lead_source(group)
            if per_source.get(key, 0) >= max_per_source:
                continue
            per_source[key] = per_source.get(key, 0) + 1
        taken.append((group, parts))
    return taken
