"""``/v1/feeds``: the feeds followed, and how their polls went."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from service.api.deps import IngestDep
from service.api.models import FeedList, error_responses

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])


@router.get("", response_model=FeedList, responses=error_responses(401, 422, 503))
async def list_feeds(ingest: IngestDep) -> FeedList:
    """Each feed with its title, last poll, status, validators, entries seen and last error."""
    return await run_in_threadpool(ingest.feed_list)
