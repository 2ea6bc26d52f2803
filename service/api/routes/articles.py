"""``/v1/articles``: the articles of a day (or since a moment), with their short briefings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from service.api.deps import ArticlesDep
from service.api.models import ArticleList, error_responses
from service.articles import MAX_LISTED

router = APIRouter(prefix="/v1/articles", tags=["articles"])


@router.get("", response_model=ArticleList, responses=error_responses(401, 422, 503))
async def get_articles(
    articles: ArticlesDep,
    date: Annotated[str | None, Query(description="A local date, YYYY-MM-DD "
                                      "(BRIEFING_TIMEZONE)")] = None,
    since: Annotated[str | None, Query(description="An ISO 8601 time; articles received "
                                       "since then")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = MAX_LISTED,
) -> ArticleList:
    """The articles received on a day (or since a time), oldest first: id, title, URL,
    source, received time and short briefing."""
    return await run_in_threadpool(articles.listed, date=date, since=since, limit=limit)
