"""The digests a service sends: ``BRIEFING_DIGESTS_FILE`` (TOML ``[[digest]]`` tables), or one.

Without the file there is one digest, ``daily``, as before: every article of the local day,
to ``BRIEFING_SLACK_WEBHOOK_URL``, on ``BRIEFING_DAILY_CRON``. With it, each table is a digest:

.. code-block:: toml

    [[digest]]
    name = "energy"                 # a slug: a-z, 0-9, -, _
    title = "Energy briefing"
    schedule = "0 7 * * 1-5"        # cron, in `timezone`
    timezone = "Europe/Oslo"
    period = "day"                  # day | week | since_last
    include = ["battery", "re:hydro(gen|power)"]
    exclude = ["sponsored"]
    feeds = ["https://example.com/energy.xml"]
    languages = ["en", "nb"]
    max_stories = 10
    max_per_source = 3
    destinations = ["https://hooks.slack.com/services/…", "mailto://…"]
    alerts = false
    alert_max_per_hour = 10

A bad file stops the start with an error naming the file, the digest and the key
(:class:`DigestsFileError`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.config import Settings
from service.digest.destinations import Destination, DestinationNotAllowed, parse_destination
from service.digest.select import Selection, TermError
from service.results import DigestSpecShown

DAILY = "daily"
Period = Literal["day", "week", "since_last"]
PERIODS: tuple[str, ...] = ("day", "week", "since_last")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
_KEYS = frozenset({
    "name", "title", "schedule", "timezone", "period", "include", "exclude", "feeds",
    "languages", "max_stories", "max_per_source", "destinations", "alerts", "alert_max_per_hour",
})


class DigestsFileError(ValueError):
    """``BRIEFING_DIGESTS_FILE`` cannot be used: the message names the file, the digest and
    the key."""


@dataclass(frozen=True)
class DigestSpec:
    """One digest: what it selects, when it runs, where it goes."""

    name: str
    title: str
    schedule: str  # crontab; "" never scheduled
    timezone: str
    period: Period = "day"
    selection: Selection = field(default_factory=Selection)
    max_stories: int = 10
    max_per_source: int | None = 3  # None: no cap (the implicit `daily`, as before)
    destinations: tuple[Destination, ...] = ()
    alerts: bool = False
    alert_max_per_hour: int = 10
    from_file: bool = True  # False: the implicit `daily` of BRIEFING_SLACK_WEBHOOK_URL

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def public(self) -> DigestSpecShown:
        """The digest as the API and pages show it: destinations redacted."""
        return {
            "name": self.name, "title": self.title, "schedule": self.schedule or None,
            "timezone": self.timezone, "period": self.period,
            "include": list(self.selection.include_text),
            "exclude": list(self.selection.exclude_text),
            "feeds": list(self.selection.feeds), "languages": list(self.selection.languages),
            "max_stories": self.max_stories, "max_per_source": self.max_per_source,
            "destinations": [d.public() for d in self.destinations],
            "alerts": self.alerts, "alert_max_per_hour": self.alert_max_per_hour,
        }


def default_digest(settings: Settings) -> DigestSpec:
    """The one digest without a file: ``daily``, as the service always had it."""
    destinations: tuple[Destination, ...] = ()
    url = settings.slack_webhook_url.get_secret_value().strip() \
        if settings.slack_webhook_url else ""
    if url:
        destinations = (Destination.slack(url),)
    return DigestSpec(
        name=DAILY, title="Daily briefing", schedule=settings.daily_cron,
        timezone=settings.timezone, period="day", max_stories=settings.digest_max_stories,
        max_per_source=None, destinations=destinations, from_file=False,
    )


def load_digests(settings: Settings) -> list[DigestSpec]:
    """The configured digests: the file's, or the one ``daily``."""
    if settings.digests_file is None:
        return [default_digest(settings)]
    return read_digests_file(settings.digests_file, settings)


def read_digests_file(path: Path, settings: Settings) -> list[DigestSpec]:
    """Parse and check the file; :class:`DigestsFileError` names what is wrong where."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DigestsFileError(f"BRIEFING_DIGESTS_FILE {path}: cannot read it: "
                               f"{exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DigestsFileError(f"BRIEFING_DIGESTS_FILE {path}: not TOML: {exc}") from None
    extra = sorted(set(raw) - {"digest"})
    if extra:
        raise DigestsFileError(f"{path}: unknown top-level key {extra[0]!r}: the file holds "
                               "[[digest]] tables only")
    tables = raw.get("digest")
    if not isinstance(tables, list) or not tables:
        raise DigestsFileError(f"{path}: no [[digest]] table: write at least one")
    specs: list[DigestSpec] = []
    for index, table in enumerate(tables, start=1):
        spec = _spec(path, index, table, settings)
        if any(s.name == spec.name for s in specs):
            raise DigestsFileError(f"{path}: digest {spec.name!r}: key 'name': used twice")
        specs.append(spec)
    return specs


def _spec(path: Path, index: int, table: Mapping[str, Any], settings: Settings) -> DigestSpec:
    name = table.get("name")
    where = f"digest {name!r}" if isinstance(name, str) and name else f"digest #{index}"

    def bad(key: str, why: str) -> DigestsFileError:
        return DigestsFileError(f"{path}: {where}: key {key!r}: {why}")

    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise bad(unknown[0], f"unknown key (known: {', '.join(sorted(_KEYS))})")
    if not isinstance(name, str) or not _SLUG.match(name):
        raise bad("name", "required, a slug of a-z, 0-9, '-' and '_' (at most 48)")

    def text(key: str, default: str) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            raise bad(key, "must be a string")
        return value.strip()

    def words(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad(key, "must be a list of strings")
        return tuple(v.strip() for v in value if v.strip())

    def number(key: str, default: int | None, low: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise bad(key, f"must be a whole number >= {low}")
        return value

    title = text("title", name.replace("-", " ").replace("_", " ").capitalize())
    schedule = " ".join(text("schedule", "0 7 * * *").split())
    timezone = text("timezone", settings.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad("timezone", f"{timezone!r} is not an IANA time zone such as Europe/Oslo"
                  ) from None
    if schedule:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(schedule, timezone=timezone)
        except ValueError as exc:
            raise bad("schedule", f"not a crontab line: {exc}") from None
    period = text("period", "day")
    if period not in PERIODS:
        raise bad("period", f"{period!r}: use one of {', '.join(PERIODS)}")
    try:
        selection = Selection.of(include=words("include"), exclude=words("exclude"),
                                 feeds=words("feeds"),
                                 languages=tuple(w.lower() for w in words("languages")))
    except TermError as exc:
        raise bad(exc.key, str(exc)) from None
    alerts = table.get("alerts", False)
    if not isinstance(alerts, bool):
        raise bad("alerts", "must be true or false")
    urls = words("destinations")
    destinations: list[Destination] = []
    for position, url in enumerate(urls, start=1):
        try:
            destination = parse_destination(url, settings)
        except DestinationNotAllowed as exc:
            raise bad("destinations", f"item {position}: {exc}") from None
        if any(d.id == destination.id for d in destinations):
            raise bad("destinations", f"item {position}: {destination.shown} is listed twice")
        destinations.append(destination)
    return DigestSpec(
        name=name, title=title, schedule=schedule, timezone=timezone,
        period=period,  # type: ignore[arg-type]
        selection=selection, max_stories=number("max_stories", 10, 1),
        max_per_source=number("max_per_source", 3, 1), destinations=tuple(destinations),
        alerts=alerts, alert_max_per_hour=number("alert_max_per_hour", 10, 1),
    )


__all__ = ["DAILY", "DigestSpec", "DigestsFileError", "default_digest", "load_digests",
           "read_digests_file"]
