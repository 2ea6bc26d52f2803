"""The pages: server-rendered views over the same services, key check and request model as
the API (``service.api``). Nothing here queries storage or generates text by itself.

With ``BRIEFING_API_KEYS`` set, a page that shows data answers 401 with a key prompt and no
data; the page's script keeps the key for the browser session and fetches the page again
with ``Authorization: Bearer <key>``, exactly as an API client sends it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.api.bodies import article_request, body_limits, read_body
from service.api.calls import brief_url_within_timeout, brief_within_timeout
from service.api.deps import (
    ArticlesDep,
    DailyDep,
    IngestDep,
    ServiceDep,
    _daily,
    require_api_key,
)
from service.api.deps import _bearer as bearer
from service.articles import ArticleListing
from service.briefing import BriefingService
from service.config import Settings
from service.digest.scheduler import DailyRuntime
from service.digest.specs import DAILY
from service.digest.window import parse_day
from service.errors import (
    BriefingError,
    DigestNotFound,
    InvalidDate,
    NotFound,
    Unauthorized,
    UnsupportedMediaType,
)
from service.ingest.runtime import UrlRequest
from service.web.present import (
    articles_in,
    day_nav,
    delivery_words,
    destination_words,
    error_words,
    human_time,
    local_time,
    mark_flags,
    removed_summary,
    run_words,
    safe_link,
)

log = logging.getLogger(__name__)

# No inline script or style, nothing from another origin, no framing, no plugins.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # pages may show articles kept behind an API key
}
# On every response, pages, static files and the API alike.
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
FORM_TYPE = "application/x-www-form-urlencoded"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("service.web", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,  # a missing value is a bug to see, not a blank to miss
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        mark_flags=mark_flags, removed_summary=removed_summary, error_words=error_words,
        run_words=run_words, safe_link=safe_link,
        article_day_href=lambda day: f"/articles?date={day.isoformat()}",
        digest_day_href=lambda day: f"/digests/{day.isoformat()}",
    )
    return env


class Pages:
    """Renders templates with what every page needs (auth mode, today, the time zone)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.auth_required = bool(settings.api_key_list)  # the page script asks for a key
        self.templates = Jinja2Templates(env=_environment())

    def today(self) -> date:
        """Today in BRIEFING_TIMEZONE: the default day, and the last one with a "next" link."""
        return datetime.now(self.settings.zone).date()

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("needs_key", False)
        context.setdefault("active", "")
        zone = self.settings.zone
        context.update(
            auth_required=self.auth_required, today=self.today(),
            timezone=self.settings.timezone,
            local_time=lambda moment: local_time(moment, zone),
            human_time=lambda moment: human_time(moment, zone),
            delivery_words=lambda delivery: delivery_words(delivery, zone),
            destination_words=lambda entry, at=zone: destination_words(entry, at),
        )
        headers = dict(PAGE_HEADERS)
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return self.templates.TemplateResponse(
            request, name, context, status_code=status, headers=headers
        )


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


class PageRoute(APIRoute):
    """A route whose errors render as a page with the error's message, code and status (the
    API's); a 401 renders the key prompt."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def render_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except Unauthorized as exc:
                return _pages(request).render(request, "key.html", 401, needs_key=True,
                                              error=exc)
            except BriefingError as exc:
                if exc.status >= 500:
                    log.warning("page %s answered %s: %s", request.url.path, exc.status,
                                exc.message)
                page = _pages(request).render(request, "error.html", exc.status, error=exc)
                if hasattr(exc, "retry_after_s"):  # 429 overloaded, rate limited; 503 starting
                    page.headers["Retry-After"] = str(exc.retry_after_s)
                return page

        return render_errors


router = APIRouter(route_class=PageRoute, include_in_schema=False)
# Pages with data take the API's own key check (a 401 here renders the key prompt).
KEY = [Depends(require_api_key)]


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> Response:
    """The briefing form."""
    return _pages(request).render(request, "index.html", active="brief", form={}, result=None,
                                  no_model=_no_model(request))


def _no_model(request: Request) -> bool:
    """The service serves with the extractive engine in place of the model (the form page
    says so once, with a link to /readyz, rather than every briefing at length)."""
    service: BriefingService | None = getattr(request.app.state, "service", None)
    return bool(service is not None and service.choice.fallback_reason)


@router.post("/briefings", response_class=HTMLResponse, dependencies=KEY)
async def brief(request: Request, service: ServiceDep, ingest: IngestDep) -> Response:
    """The form's article (or the page at its URL), briefed by the API's own path; the
    result under the form, which keeps what was typed."""
    pages = _pages(request)
    settings = pages.settings
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise UnsupportedMediaType(f"the form is sent as {FORM_TYPE}, not {media_type!r}")
    body = await read_body(request, body_limits(settings)["text"])
    fields = {name: values[0] for name, values in
              parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    form = {name: fields.get(name, "") for name in ("text", "url", "title")}
    url = form["url"].strip() or None
    # The API's request: the text, or (no text) the URL to fetch; blank text alone is the
    # API's empty_text.
    data = {"text": form["text"] if form["text"].strip() or not url else None, "url": url,
            "title": form["title"].strip() or None}
    try:
        article, _, _ = article_request(data)
        if isinstance(article, UrlRequest):
            result = await brief_url_within_timeout(ingest, article, None, settings)
        else:
            result = await brief_within_timeout(service, article, None,
                                                settings.request_timeout_s)
    except Unauthorized:
        raise
    except BriefingError as exc:
        return pages.render(request, "index.html", exc.status, active="brief", form=form,
                            result=None, error=exc)
    # A fetched page's title, else the given one, else a pasted page's own (article_request).
    shown = (result.get("article") or {}).get("title") or article.title
    return pages.render(request, "index.html", active="brief", form=form, result=result,
                        title=shown, several=articles_in(form["text"]))


@router.get("/briefings/{briefing_id}", response_class=HTMLResponse, dependencies=KEY)
async def show_briefing(request: Request, briefing_id: str, service: ServiceDep,
                        listing: ArticlesDep) -> Response:
    """A briefing written earlier (what ``GET /v1/briefings/{id}`` answers)."""
    pages = _pages(request)
    result = await run_in_threadpool(service.get, briefing_id)
    # Headed by the article it was written for (the latest one linked to it), as when it
    # was first shown: its title, and where it came from.
    stored = await run_in_threadpool(listing.of_briefing, briefing_id)
    if stored is not None and not result.get("article"):
        result = {**result, "article": {
            "url": stored.url, "canonical_url": stored.canonical_url,
            "site_name": stored.site_name, "source": stored.source,
            "published_at": stored.published_at, "title": stored.title,
        }}
    return pages.render(request, "briefing.html", result=result,
                        title=stored.title if stored is not None else None)


def _day_articles(listing: ArticleListing, day: date) -> list[dict[str, Any]]:
    """A local day's articles as ``GET /v1/articles`` lists them, newest first."""
    listed: list[dict[str, Any]] = [dict(item) for item in
                                    listing.listed(date=day.isoformat())["articles"]]
    for item in listed:
        link = safe_link(item.get("canonical_url")) or safe_link(item.get("url"))
        item["source"] = (item.get("source") or item.get("site_name")
                          or (urlsplit(link).hostname if link else None))
        item["link"] = safe_link(item.get("url")) or link
    return listed[::-1]


@router.get("/articles", response_class=HTMLResponse, dependencies=KEY)
async def articles(request: Request, listing: ArticlesDep, date: str | None = None) -> Response:
    """A day's articles (default: today in BRIEFING_TIMEZONE), each opening its briefing."""
    pages = _pages(request)
    day = parse_day(date) if date else pages.today()
    listed = [] if day > pages.today() else await run_in_threadpool(_day_articles, listing, day)
    return pages.render(request, "articles.html", active="articles",
                        nav=day_nav(day, pages.today()), articles=listed)


@router.get("/digests", response_class=HTMLResponse)
async def pick_digest(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    date: str | None = None, digest: str | None = None,
) -> Response:
    """With ``?date=`` (the day picker's form; ``&digest=NAME`` on a named digest's page):
    that day's digest. Without: the configured digests (the key asked for, as on every page
    with data), each with its schedule, time zone and destinations, redacted."""
    if date:
        day = parse_day(date)
        if digest and _NAME.fullmatch(digest):
            return RedirectResponse(f"/digests/{digest}/{day.isoformat()}", status_code=303)
        return RedirectResponse(f"/digests/{day.isoformat()}", status_code=303)
    await require_api_key(request, credentials)
    pages = _pages(request)
    daily: DailyRuntime = await _daily(request)
    listed = (await run_in_threadpool(daily.digests))["digests"]
    for item in listed:
        today = datetime.now(ZoneInfo(item["timezone"])).date().isoformat()
        item["href"] = (f"/digests/{item['name']}/{today}" if daily.team is not None
                        else f"/digests/{today}")
    return pages.render(request, "digests.html", active="digest", digests=listed,
                        from_file=daily.team is not None)


_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@router.get("/digests/{day}", response_class=HTMLResponse, dependencies=KEY)
async def digest(request: Request, day: str, daily: DailyDep) -> Response:
    """A day's digest as stored; today's is built now from the articles so far (not sent)."""
    pages = _pages(request)
    shown = parse_day(day)
    if daily.team is not None:  # BRIEFING_DIGESTS_FILE: its `daily`, else the list
        target = f"/digests/{DAILY}/{shown.isoformat()}" if DAILY in daily.team.jobs \
            else "/digests"
        return RedirectResponse(target, status_code=303)
    nav = day_nav(shown, pages.today())
    if shown > pages.today():  # nothing to show or build yet; the page says so
        return pages.render(request, "digest.html", 404, active="digest", nav=nav,
                            digest=None, delivery=None, run=None, missing=None)
    if shown == pages.today():  # the digest so far: built (and stored) now, never sent
        await run_in_threadpool(daily.job.build, shown)
    try:
        found = await run_in_threadpool(daily.show, shown.isoformat())
    except DigestNotFound as exc:
        return pages.render(request, "digest.html", 404, active="digest", nav=nav,
                            digest=None, delivery=None, run=None, missing=exc)
    return pages.render(request, "digest.html", active="digest", nav=nav,
                        digest=found["digest"], delivery=found["delivery"],
                        run=found.get("run"), missing=None)


@router.post("/digests/{day}", response_class=HTMLResponse, dependencies=KEY)
async def build_digest(request: Request, day: str, daily: DailyDep) -> Response:
    """The button of a past day without a digest: start the API's run for it, built and
    stored, not sent to Slack (``POST /v1/digests/{day}?deliver=false``); then its page."""
    pages = _pages(request)
    shown = parse_day(day)
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise UnsupportedMediaType(f"the form is sent as {FORM_TYPE}, not {media_type!r}")
    if shown > pages.today():
        raise InvalidDate(f"{shown} has not begun yet ({pages.settings.timezone})")
    await run_in_threadpool(daily.start, shown.isoformat(), send=False)
    return RedirectResponse(f"/digests/{shown.isoformat()}", status_code=303)


@router.get("/digests/{name}/{day}", response_class=HTMLResponse, dependencies=KEY)
async def named_digest(request: Request, name: str, day: str, daily: DailyDep) -> Response:
    """A digest of BRIEFING_DIGESTS_FILE: the period named by a local day in the digest's
    time zone, its stories, and each destination's delivery (redacted). Today's period is
    built now from the articles so far (not sent). Without the file, ``daily``'s page."""
    pages = _pages(request)
    shown = parse_day(day)
    if daily.team is None:
        if name != DAILY:
            raise DigestNotFound(f"no digest named {name!r}: without BRIEFING_DIGESTS_FILE "
                                 "the one digest is `daily`")
        return RedirectResponse(f"/digests/{shown.isoformat()}", status_code=303)
    job = daily.team.job(name)  # 404 digest_not_found for a name not in the file
    today = datetime.now(job.spec.zone).date()
    context: dict[str, Any] = {
        "active": "digest", "nav": day_nav(shown, today), "spec": job.spec.public(),
        "digest": None, "delivery": None, "run": None, "missing": None,
        "day_href": lambda other: f"/digests/{name}/{other.isoformat()}",
    }
    if shown > today:  # nothing to show or build yet; the page says so
        return pages.render(request, "named_digest.html", 404, **context)
    if shown == today:  # the period so far: built (and stored) now, never sent
        await run_in_threadpool(job.build, shown)
    try:
        found = await run_in_threadpool(daily.team.show, name, shown.isoformat())
    except DigestNotFound as exc:
        delivery = await run_in_threadpool(job.status, shown)
        return pages.render(request, "named_digest.html", 404,
                            **{**context, "missing": exc, "delivery": delivery})
    context.update(digest=found["digest"], delivery=found["delivery"], run=found.get("run"))
    return pages.render(request, "named_digest.html", **context)


@router.post("/digests/{name}/{day}", response_class=HTMLResponse, dependencies=KEY)
async def build_named_digest(request: Request, name: str, day: str,
                             daily: DailyDep) -> Response:
    """The button of a period without a digest: the API's run for it, built and stored, not
    delivered (``POST /v1/digests/{name}/{day}?deliver=false``); then its page."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise UnsupportedMediaType(f"the form is sent as {FORM_TYPE}, not {media_type!r}")
    shown = parse_day(day)
    if daily.team is None:
        daily.start_named(name, shown.isoformat(), send=False)
        return RedirectResponse(f"/digests/{shown.isoformat()}", status_code=303)
    job = daily.team.job(name)
    if shown > datetime.now(job.spec.zone).date():
        raise InvalidDate(f"{shown} has not begun yet ({job.spec.timezone})")
    await run_in_threadpool(daily.team.start, name, shown.isoformat(), send=False)
    return RedirectResponse(f"/digests/{name}/{shown.isoformat()}", status_code=303)


def install_pages(app: FastAPI, settings: Settings) -> None:
    """Mount the pages and their static files on ``app``; security headers on every answer."""
    app.state.pages = Pages(settings)
    app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("service.web", "static")]), name="static")
    api_http_error = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        """An unknown path asked by a browser: a page that says so, with the way home; an API
        client (no text/html in Accept) gets the API's JSON error as before."""
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404 and "text/html" in request.headers.get("accept", ""):
            missing = NotFound(f"there is no page at {request.url.path[:200]}")
            return app.state.pages.render(request, "error.html", 404, error=missing,
                                          heading="Page not found")
        response: Response = await api_http_error(request, exc)
        return response

    app.add_exception_handler(StarletteHTTPException, http_error)

    app.add_middleware(_SecurityHeaders)


class _SecurityHeaders:
    """``COMMON_HEADERS`` on every answer that does not set them itself. A plain ASGI
    middleware: ``@app.middleware("http")`` (BaseHTTPMiddleware) costs each request a task
    group and wrapped streams, more than a cache hit itself (issue 25)."""

    _HEADERS = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in COMMON_HEADERS.items()]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in self._HEADERS if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


__all__ = ["CONTENT_SECURITY_POLICY", "install_pages", "router"]
