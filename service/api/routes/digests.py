"""``/v1/digests/{day}``: a local day's digest and its delivery to Slack."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from service.api.deps import DailyDep

router = APIRouter(prefix="/v1/digests", tags=["digests"])


@router.get("/{day}")
async def get_digest(day: str, daily: DailyDep) -> dict[str, Any]:
    """The digest of a local date (YYYY-MM-DD in BRIEFING_TIMEZONE) and its delivery."""
    return await run_in_threadpool(daily.show, day)


@router.post("/{day}")
async def create_digest(
    day: str, daily: DailyDep, deliver: bool = True, force: bool = False
) -> dict[str, Any]:
    """Build a local date's digest and deliver it to Slack once (force: re-send, or send
    a day that is not over yet)."""
    return await run_in_threadpool(daily.build, day, send=deliver, force=force)
