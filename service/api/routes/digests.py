"""``/v1/digests/{day}``: a local day's digest, its delivery to Slack, and runs that build it."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from service.api.deps import DailyDep
from service.api.models import DigestList, DigestState, NamedDigestState, error_responses

router = APIRouter(prefix="/v1/digests", tags=["digests"])


@router.get("", response_model=DigestList, responses=error_responses(401, 429, 503))
async def list_digests(daily: DailyDep) -> DigestList:
    """The digests (BRIEFING_DIGESTS_FILE's, or the one `daily`): schedule, period, selection,
    caps, destinations (redacted: scheme and host, and each one's id)."""
    return await run_in_threadpool(daily.digests)


@router.get(
    "/{name}/{day}", response_model=NamedDigestState, response_model_exclude_unset=True,
    responses=error_responses(401, 404, 429, 503),
)
async def get_named_digest(name: str, day: str, daily: DailyDep) -> NamedDigestState:
    """A digest's period named by a local date: the stored digest, each destination's
    delivery state, the latest run (404 `digest_not_found` for an unknown digest, or when
    there is neither)."""
    return await run_in_threadpool(daily.show_named, name, day)


@router.post(
    "/{name}/{day}", status_code=202, response_model=NamedDigestState,
    response_model_exclude_unset=True, responses=error_responses(401, 404, 409, 429, 503),
)
async def create_named_digest(
    name: str, day: str, daily: DailyDep, deliver: bool = True, force: bool = False
) -> NamedDigestState:
    """Start building a digest's period and delivering it once to each destination, as
    `POST /v1/digests/{date}` does for `daily`."""
    return await run_in_threadpool(daily.start_named, name, day, send=deliver, force=force)


@router.get(
    "/{day}", response_model=DigestState, response_model_exclude_unset=True,
    responses=error_responses(401, 404, 429, 503),
)
async def get_digest(day: str, daily: DailyDep) -> DigestState:
    """The digest of a local date (YYYY-MM-DD in BRIEFING_TIMEZONE), its delivery, and the
    latest run POST started (404 `digest_not_found` when there is neither)."""
    return await run_in_threadpool(daily.show, day)


@router.post(
    "/{day}", status_code=202, response_model=DigestState, response_model_exclude_unset=True,
    responses=error_responses(401, 409, 429, 503),
)
async def create_digest(
    day: str, daily: DailyDep, deliver: bool = True, force: bool = False
) -> DigestState:
    """Start building a local date's digest and delivering it to Slack once (deliver=false:
    build and store only; force: re-send, or send a day that is not over yet). Answers at
    once with the run's status; GET the same path to follow it, from any replica. A day whose
    run is queued or running gets that run (a queued one takes on deliver and force); force
    while an unforced run is running answers 409 `digest_run_in_progress`: retry when it
    ends."""
    return await run_in_threadpool(daily.start, day, send=deliver, force=force)
