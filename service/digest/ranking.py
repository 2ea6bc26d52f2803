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
