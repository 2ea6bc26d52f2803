"""One definition of each result: the services return the shapes of service/results.py, and
every route declares as its response model the very shape its endpoint returns (no route
builds or reshapes an answer of its own)."""

from __future__ import annotations

import typing
from collections.abc import Callable

import typing_extensions
from fastapi.routing import APIRoute

from service.api.routes import OPEN_ROUTERS, V1_ROUTERS
from service.articles import ArticleListing
from service.briefing import BriefingService
from service.digest.job import DailyJob
from service.digest.runs import DigestRuns
from service.digest.scheduler import DailyRuntime
from service.digest.team import NamedJob, TeamRuntime
from service.ingest.runtime import Ingest
from service.results import (
    ArticleList,
    Briefing,
    Delivery,
    Digest,
    DigestList,
    DigestRun,
    DigestState,
    FeedList,
    NamedDelivery,
    NamedDigestState,
    Ready,
)


def _returns(function: Callable[..., object]) -> object:
    return typing.get_type_hints(function)["return"]


def test_every_route_returns_the_shape_it_declares() -> None:
    checked = []
    for route in (route for router in (*V1_ROUTERS, *OPEN_ROUTERS) for route in router.routes):
        if not isinstance(route, APIRoute) or route.response_model is None:
            continue
        shape = route.response_model
        assert typing_extensions.is_typeddict(shape), (route.path, shape)
        returned = _returns(route.endpoint)
        assert returned is shape or shape in typing.get_args(returned), (route.path, returned)
        checked.append(route.path)
    assert {"/v1/briefings", "/v1/briefings/{briefing_id}", "/v1/articles", "/v1/feeds",
            "/v1/digests", "/v1/digests/{day}", "/v1/digests/{name}/{day}",
            "/readyz"} <= set(checked)


def test_the_services_return_the_shapes_the_api_sends() -> None:
    expected = {
        BriefingService.brief: Briefing,
        BriefingService.brief_stored: Briefing,
        BriefingService.get: Briefing,
        BriefingService.readiness: Ready,
        Ingest.brief_url: Briefing,
        Ingest.feed_list: FeedList,
        ArticleListing.listed: ArticleList,
        DailyRuntime.digests: DigestList,
        DailyRuntime.show: DigestState,
        DailyRuntime.start: DigestState,
        DailyRuntime.show_named: NamedDigestState,
        DailyRuntime.start_named: NamedDigestState,
        DailyJob.build: Digest,
        DailyJob.status: Delivery,
        DailyJob.run: DigestState,
        NamedJob.build: Digest,
        NamedJob.status: NamedDelivery,
        NamedJob.run: NamedDigestState,
        TeamRuntime.show: NamedDigestState,
        DigestRuns.start: DigestRun,
    }
    wrong = {f.__qualname__: _returns(f) for f, shape in expected.items()
             if _returns(f) is not shape}
    assert wrong == {}
