"""The ``briefing`` command: serve, summarize, preprocess, daily, feeds, eval, db, model pull."""

from __future__ import annotations

import argparse
import errno
import functools
import json
import logging
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import service
from service.config import get_settings, warn_unknown_variables
from service.errors import BriefingError
from service.logs import configure_logging


def _read_input(name: str, charset: str | None = None, html: bool | None = None) -> str:
    """The text of a file (``-``: stdin), decoded as the API decodes a body
    (:func:`service.api.bodies.decode_article`): a page by its BOM, ``charset``, its
    ``<meta charset>``, UTF-8, else windows-1252; a text by its BOM, ``charset``, UTF-16
    without BOM, else UTF-8 (other bytes: an error naming --charset). ``html``: whether it
    is a page (None: decided from its first bytes)."""
    from service.api.bodies import decode_article
    from service.preprocess.html import looks_like_html

    body = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    page = looks_like_html(body[:4096].decode("latin-1")) if html is None else html
    return decode_article(
        body, charset, page=page, what="standard input" if name == "-" else name,
        name_charset="name its charset with --charset (e.g. --charset windows-1252)",
    )


# uvicorn's exit status when the app does not start (a port in use, a model that must load
# and does not): kept now that the model loads after the port opens.
STARTUP_FAILURE = 3


def _listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything starts (as uvicorn binds it), so that a
    port in use stops ``serve`` before it migrates, schedules or polls anything."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


_BIND_ERRORS = {
    errno.EADDRINUSE: "the port is in use (another `briefing serve`, or another program): "
                      "stop it, or pick another port with --port or BRIEFING_PORT",
    errno.EACCES: "permission denied (ports below 1024 need privileges): pick another port "
                  "with --port or BRIEFING_PORT",
    errno.EADDRNOTAVAIL: "this machine has no such address: pick one of its addresses with "
                         "--host or BRIEFING_HOST (127.0.0.1, or 0.0.0.0 for all)",
}


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    settings = get_settings()
    host, port = args.host or settings.host, args.port or settings.port
    try:
        sock = _listen(host, port)
    except (OSError, OverflowError) as exc:
        why = _BIND_ERRORS.get(getattr(exc, "errno", None) or 0, str(exc))
        print(f"briefing: error: cannot listen on {host}:{port}: {why}. Nothing was started.",
              file=sys.stderr)
        return STARTUP_FAILURE
    shown = f"[{host}]" if ":" in host else host
    logging.getLogger("service.cli").info("listening on http://%s:%d (Ctrl+C to stop)",
                                          shown, port)
    failures: list[str] = []

    def start_failed(reason: str) -> None:  # logged by the start; the server stops
        failures.append(reason)
        server.should_exit = True

    # The port opens at once and the services open in the background (/readyz: starting).
    app = create_app(settings, open_in_background=True, on_start_failed=start_failed)
    # uvicorn logs through our handler (log_config=None); the API logs one line per request
    # with its id, so uvicorn's access log would only repeat it without the id.
    server = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port,
        log_level=args.log_level or settings.log_level, log_config=None, access_log=False,
    ))
    try:
        # On the socket bound above; a SIGTERM is re-raised once the server has stopped.
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl+C: re-raised by uvicorn after a graceful stop
        pass
    finally:
        sock.close()
    if failures:  # one paragraph (service.api.startup), logged above too
        print(f"briefing: error: the service did not start: {failures[0]}", file=sys.stderr)
        return STARTUP_FAILURE
    return 0 if server.started else STARTUP_FAILURE


def cmd_summarize(args: argparse.Namespace) -> int:
    from service.api.bodies import article_from_text
    from service.ingest.runtime import UrlRequest
    from service.preprocess.minimum import MIN_WORDS
    from service.wiring import Wiring

    settings = get_settings()
    # The request path's rules (a minimum of words); stored only with --store.
    options = {"min_words": MIN_WORDS, "store": args.store}
    url = args.file.startswith(("http://", "https://"))
    article = None if url else article_from_text(_read_input(args.file, args.charset))
    wiring = Wiring.open(settings)
    try:
        if article is None:
            ingest = wiring.ingest()
            try:
                result = ingest.brief_url(UrlRequest(args.file), **options)
            finally:
                ingest.close()
        else:
            result = wiring.briefing.brief(article, **options)
    finally:
        wiring.close()
    # A fallback to the extractive engine is logged once, when the engine is chosen.
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    page = result.get("article")
    if page:
        print(f"{page['title'] or '(untitled)'} — {page['source'] or page['fetched_url']}\n")
    elif article is not None and (article.title or article.source):  # a page's own
        print(f"{article.title or '(untitled)'} — {article.source or '(no site name)'}\n")
    print(f"SHORT: {result['short']}\n\nLONG: {result['long']}")
    return 0


NO_FEEDS = ("no feeds: set BRIEFING_FEEDS (applied when `briefing serve` starts) or run "
            "`briefing feeds import FILE.opml`")


@contextmanager
def _feed_store() -> Iterator[Any]:
    """The feed state in the configured database (migrated). BRIEFING_FEEDS is not applied
    here: only `briefing serve` does that, so a shell without it changes nothing."""
    from service.wiring import Wiring

    wiring = Wiring(get_settings())
    try:
        yield wiring.feeds
    finally:
        wiring.close()


def cmd_feeds_import(args: argparse.Namespace) -> int:
    from service.ingest.guard import AddressPolicy
    from service.ingest.opml import read_opml
    from service.ingest.runtime import follow_feeds

    subscriptions = read_opml(Path(args.file).read_bytes(), name=args.file)
    with _feed_store() as store:
        done = follow_feeds(store, AddressPolicy(get_settings().fetch_allow_host_list),
                            subscriptions)
    print(f"{len(done['added'])} feed(s) added, {len(done['already_followed'])} already "
          f"followed, {len(done['refused'])} refused")
    for refused in done["refused"]:
        print(f"  refused {refused['url']}: {refused['reason']}")
    return 0 if done["added"] or done["already_followed"] else 1


def cmd_feeds_list(args: argparse.Namespace) -> int:
    with _feed_store() as store:
        feeds = [state.as_dict() for state in store.all()]
    if args.json:
        print(json.dumps(feeds, ensure_ascii=False, indent=2))
        return 0
    for feed in feeds:
        error = feed["last_error"]
        print(f"{feed['url']}  {feed['title'] or ''}"
              + (f"\n    moved to {feed['moved_to']}" if feed["moved_to"] else "")
              + f"\n    {feed['last_status'] or 'never polled'}"
              f", {feed['entries_seen']} entries seen"
              + (f", next poll {feed['next_poll_at']}" if feed["next_poll_at"] else "")
              + (f"\n    error: {error['code']}: {error['message']}" if error else ""))
    if not feeds:
        print(NO_FEEDS)
    return 0


def cmd_feeds_remove(args: argparse.Namespace) -> int:
    with _feed_store() as store:
        removed = store.remove(args.url)
    print(f"{args.url}: " + ("no longer followed" if removed else "was not followed"))
    return 0 if removed else 1


def cmd_feeds_poll(args: argparse.Namespace) -> int:
    from service.wiring import Wiring

    wiring = Wiring.open(get_settings())
    try:
        ingest = wiring.ingest()
        try:
            results = ingest.poller.poll(due_only=False)
        finally:
            ingest.close()
    finally:
        wiring.close()
    for result in results:
        line = f"{result.url}: {result.status}"
        if result.status == "ok":
            line += f", {result.ingested} new"
        if result.error:
            line += f" ({result.error})"
        if result.reason:
            line += f" ({result.reason})"
        print(line)
    if not results:
        print(NO_FEEDS)
    failed = sum(result.status == "error" for result in results)
    if failed:
        print(f"briefing: error: {failed} of {len(results)} feed(s) failed (see above; "
              "`briefing feeds list` shows each feed's last error)", file=sys.stderr)
        return 1
    return 0


def cmd_preprocess(args: argparse.Namespace) -> int:
    from service.preprocess import preprocess
    from service.preprocess.pysbd_runner import use_fast_path

    use_fast_path(get_settings().sentence_fast_path)
    doc = preprocess(_read_input(args.file, args.charset, args.html), html=args.html)
    if args.json:
        removed = [{"reason": r.reason, "text": r.text} for r in doc.removed]
        print(json.dumps({"text": doc.text, "stats": doc.stats.as_dict(), "removed": removed},
                         ensure_ascii=False, indent=2))
    else:
        print(doc.text)
    return 0


def cmd_daily(args: argparse.Namespace) -> int:
    if getattr(args, "digest", None) and get_settings().digests_file is not None:
        return cmd_digest_named(args)
    from service.digest.job import DailyJob
    from service.digest.ledger import DeliveryLedger
    from service.digest.window import parse_day, yesterday
    from service.errors import DeliveryBusy
    from service.wiring import Wiring

    settings = get_settings()
    day = parse_day(args.date) if args.date else yesterday(settings.zone)
    # Storage now; the engine only if a briefing must be generated (not cached).
    wiring = Wiring(settings)
    try:
        ledger = DeliveryLedger(wiring.database)
        job = DailyJob(settings, wiring.articles, wiring.story_briefer(), ledger)
        if args.preview:
            print(json.dumps(job.messages(job.build(day)), ensure_ascii=False, indent=2))
            return 0
        result = job.run(day, send=not args.no_deliver, force=args.force)
    except DeliveryBusy as exc:  # another run (scheduler, replica) is posting it: not an error
        print(f"digest {day}: delivery: busy ({exc.message})")
        return 0
    finally:
        wiring.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        digest, delivery = result["digest"], result["delivery"]
        print(f"digest {digest['date']} ({digest['timezone']}): {digest['articles']} article(s), "
              f"{len(digest['stories'])} of {digest['stories_total']} story(ies); "
              f"delivery: {delivery['status']}"
              + (f" ({delivery['detail']})" if delivery.get("detail") else ""))
    return 0


def _named_job(wiring: Any, name: str) -> Any:
    """The digest ``name`` of BRIEFING_DIGESTS_FILE as a job; SystemExit naming the others."""
    jobs = {job.spec.name: job for job in wiring.digest_jobs()}
    if name not in jobs:
        raise SystemExit(f"briefing: no digest named {name!r} in BRIEFING_DIGESTS_FILE "
                         f"(digests: {', '.join(jobs) or 'none'})")
    return jobs[name]


def cmd_digest_named(args: argparse.Namespace) -> int:
    """``briefing daily --digest NAME`` and ``briefing digests run NAME``."""
    from service.digest.window import parse_day, yesterday
    from service.wiring import Wiring

    settings = get_settings()
    wiring = Wiring(settings)
    try:
        job = _named_job(wiring, args.digest)
        day = parse_day(args.date) if args.date else yesterday(job.spec.zone)
        if getattr(args, "preview", False):
            from service.digest.destinations import plan_payloads

            digest = job.build(day)
            period = job.period(day)
            print(json.dumps({d.shown: plan_payloads(d, digest, title=job._title(period),
                                                     link=job.link(period))
                              for d in job.spec.destinations}, ensure_ascii=False, indent=2))
            return 0
        result = job.run(day, send=not args.no_deliver, force=args.force)
    finally:
        wiring.close()
    delivery = result["delivery"]
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        digest = result["digest"]
        print(f"digest {job.spec.name} {digest.get('key', digest['date'])} "
              f"({digest['timezone']}): {digest['articles']} article(s), "
              f"{len(digest['stories'])} of {digest['stories_total']} story(ies); "
              f"delivery: {delivery['status']}"
              + (f" ({delivery['detail']})" if delivery.get("detail") else ""))
        for dest in delivery.get("destinations", []):
            print(f"  {dest['service']} {dest['url']}: {dest['status']}"
                  + (f" ({dest['detail']})" if dest.get("detail") else ""))
    return 1 if delivery["status"] in ("failed", "busy") else 0


def cmd_digests(args: argparse.Namespace) -> int:
    """``briefing digests list|run|test``."""
    from service.digest.specs import load_digests

    settings = get_settings()
    if args.digests_command == "list":
        specs = load_digests(settings)
        if args.json:
            print(json.dumps([s.public() for s in specs], ensure_ascii=False, indent=2))
            return 0
        for spec in specs:
            print(f"{spec.name}: {spec.title!r}, {spec.period}, "
                  f"{spec.schedule or 'not scheduled'} ({spec.timezone}), "
                  f"at most {spec.max_stories} stories"
                  + (", alerts" if spec.alerts else ""))
            for dest in spec.destinations:
                print(f"  -> {dest.service} {dest.shown} (id {dest.id})")
        return 0
    if args.digests_command == "run":
        return cmd_digest_named(args)
    from service.wiring import Wiring

    wiring = Wiring(settings)
    try:
        results = _named_job(wiring, args.digest).send_test()
    finally:
        wiring.close()
    for result in results:
        print(f"{result['service']} {result['url']}: {result['status']}"
              + (f" ({result['detail']})" if result.get("detail") else ""))
    return 0 if all(r["status"] == "sent" for r in results) else 1


def cmd_model_pull(args: argparse.Namespace) -> int:
    from service.engines.seq2seq import pull_model

    settings = get_settings()
    if args.if_missing:
        return _pull_if_missing(settings, args)
    model_id = args.model_id or settings.model
    target = pull_model(settings, model_id, directory=args.dir, timeout_s=args.timeout)
    use = target if args.dir else model_id
    print(f"model saved in {target}; the service uses it with BRIEFING_MODEL={use}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from service.evaluate import evaluate, progress_bar, read_rows, render_table, systems_from

    settings = get_settings()
    rows = read_rows(args.file, limit=args.limit, dataset=args.dataset)
    systems = systems_from(args.systems)
    if not systems:  # the configured engine (auto: seq2seq when its model is here)
        from service.evaluate import System

        systems = [System(settings.engine)]
    results = evaluate(rows, systems, settings, progress=progress_bar)
    print(json.dumps(results, indent=2) if args.json else render_table(results))
    return 0


def _pull_if_missing(settings: Any, args: argparse.Namespace) -> int:
    """``make run``'s first step: the configured model, pulled when it is missing and the
    hub answers within ``--hub-timeout`` seconds; otherwise a line saying why the service
    will start on the extractive engine. Never fails: the service starts either way."""
    from service.engines.seq2seq import (
        HF_ENDPOINT,
        hub_reachable,
        local_model_dir,
        model_is_here,
        pull_model,
        pull_plan,
    )

    say = functools.partial(print, file=sys.stderr, flush=True)
    if settings.engine in ("extractive", "llm") or model_is_here(settings):
        return 0
    model_id = settings.model
    started = time.monotonic()
    if not hub_reachable(args.hub_timeout):
        say(f"==> model {model_id!r} is not here and the model hub ({HF_ENDPOINT}) did not "
            f"answer within {args.hub_timeout:g} s: the service starts on the extractive "
            f"engine. On a machine with internet: `briefing model pull {model_id}`, then "
            f"copy {local_model_dir(settings)} here.")
        return 0
    try:
        patterns, size = pull_plan(settings, model_id)
        shown = f"{size / 1e6:,.0f} MB" if size is not None else "size unknown"
        say(f"==> downloading {model_id} ({shown}) into {local_model_dir(settings)}, once; "
            "Ctrl+C stops it and the service starts on the extractive engine")
        target = pull_model(settings, model_id, timeout_s=args.timeout, patterns=patterns)
    except KeyboardInterrupt:
        say("==> download stopped: the service starts on the extractive engine")
        return 0
    except Exception as exc:  # the hub, the network, the disk: the service starts anyway
        say(f"==> could not download {model_id!r} ({type(exc).__name__}: {exc}): the "
            "service starts on the extractive engine")
        return 0
    say(f"==> model saved in {target} in {time.monotonic() - started:.0f} s")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from service.storage import upgrade
    from service.wiring import Wiring

    wiring = Wiring(get_settings())
    try:
        database = wiring.unmigrated_database()
        before, after = upgrade(database, args.revision)
    finally:
        wiring.close()
    if before == after:
        print(f"database {database.url}: at {after}; nothing to do")
    else:
        print(f"database {database.url}: migrated from {before or 'an empty schema'} to {after}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from service.storage import current_revision, head_revision
    from service.wiring import Wiring

    wiring = Wiring(get_settings())
    try:
        database = wiring.unmigrated_database()
        current = current_revision(database)
    finally:
        wiring.close()
    head = head_revision()
    state = "up to date" if current == head else f"behind: `briefing db upgrade` moves it to {head}"
    print(f"database {database.url}: at {current or 'an empty schema'} ({state})")
    return 0


CHARSET_HELP = ("the file's charset when it is not UTF-8 and does not say (e.g. "
                "windows-1252); default: as the API reads a body (a BOM, a page's <meta "
                "charset>, UTF-8, for a page else windows-1252)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefing", description=__doc__,
        epilog="Settings come from BRIEFING_* environment variables (see the README).",
    )
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {service.__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the HTTP API and run the daily job")
    serve.add_argument("--host", help="address to listen on (default: BRIEFING_HOST, "
                       "127.0.0.1; 0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, help="port (default: BRIEFING_PORT, 8000)")
    serve.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                       help="lowest level logged (default: BRIEFING_LOG_LEVEL, info)")
    serve.set_defaults(func=cmd_serve)

    summarize = sub.add_parser("summarize", help="print the briefings of one article")
    summarize.add_argument(
        "file", help="article text file, - for stdin, or an http(s) URL to fetch the page"
    )
    summarize.add_argument("--json", action="store_true", help="print the full result")
    summarize.add_argument(
        "--store", action="store_true",
        help="store the article as POST /v1/briefings does (listed by /v1/articles, in the "
        "day's digest); by default nothing is stored but the briefing in the cache",
    )
    summarize.add_argument("--charset", help=CHARSET_HELP)
    summarize.set_defaults(func=cmd_summarize)

    pre = sub.add_parser("preprocess", help="print the cleaned text the model sees")
    pre.add_argument("file", help="article text file, or - for stdin")
    pre.add_argument("--json", action="store_true",
                     help="print the text, the stats and what was removed, and why")
    pre.add_argument("--charset", help=CHARSET_HELP)
    kind = pre.add_mutually_exclusive_group()
    kind.add_argument("--html", dest="html", action="store_true", default=None,
                      help="the input is an HTML page (default: decide from the input)")
    kind.add_argument("--text", dest="html", action="store_false",
                      help="the input is text, even if it looks like HTML")
    pre.set_defaults(func=cmd_preprocess)

    daily = sub.add_parser(
        "daily", help="build a day's digest and deliver it to Slack once (for cron jobs)"
    )
    daily.add_argument("--date", help="local date YYYY-MM-DD (default: yesterday)")
    daily.add_argument("--force", action="store_true",
                       help="re-send a delivered day, or send a day that is not over")
    daily.add_argument("--no-deliver", action="store_true", help="build and store only")
    daily.add_argument("--json", action="store_true", help="print the digest and delivery")
    daily.add_argument("--preview", action="store_true",
                       help="print the Slack messages (Block Kit JSON) it would post; send none")
    daily.add_argument("--digest", help="a digest of BRIEFING_DIGESTS_FILE by name")
    daily.set_defaults(func=cmd_daily)

    digests = sub.add_parser("digests", help="the digests: list them, run one, test one")
    digests_sub = digests.add_subparsers(dest="digests_command", required=True)
    listing = digests_sub.add_parser("list", help="each digest, its destinations redacted")
    listing.add_argument("--json", action="store_true", help="print the digests as JSON")
    listing.set_defaults(func=cmd_digests)
    running = digests_sub.add_parser("run", help="build a digest's period and deliver it")
    running.add_argument("digest", help="the digest's name")
    running.add_argument("--date", help="local date YYYY-MM-DD (default: yesterday)")
    running.add_argument("--force", action="store_true", help="re-send, or send early")
    running.add_argument("--no-deliver", action="store_true", help="build and store only")
    running.add_argument("--json", action="store_true", help="print the digest and delivery")
    running.set_defaults(func=cmd_digests)
    trial = digests_sub.add_parser("test", help="a test message to each destination")
    trial.add_argument("digest", help="the digest's name")
    trial.set_defaults(func=cmd_digests)

    evaluation = sub.add_parser(
        "eval", help="measure engines and models on articles with reference summaries (ROUGE, "
        "length, unsupported facts, latency)",
        description="Brief each row's article with each engine or model given and score the "
        "briefings against the row's reference summary. Rows: JSON lines with article and "
        "summary, article and highlights (CNN/DailyMail) or document and summary (XSum).",
    )
    evaluation.add_argument("file", type=Path, help="a JSONL file of articles and summaries")
    evaluation.add_argument(
        "--engine", dest="systems", action="append", type=lambda v: ("engine", v),
        metavar="ENGINE", help="extractive, seq2seq (BRIEFING_MODEL, or the --model after it), "
        "llm or auto; repeat to compare (default: BRIEFING_ENGINE)",
    )
    evaluation.add_argument(
        "--model", dest="systems", action="append", type=lambda v: ("model", v),
        metavar="MODEL", help="a seq2seq model (directory or pulled hub id); repeat to compare",
    )
    evaluation.add_argument("--limit", type=int, help="the first N rows only")
    evaluation.add_argument("--dataset", help="only rows whose dataset field is this "
                            "(e.g. cnndm or xsum)")
    evaluation.add_argument("--json", action="store_true",
                            help="print a JSON list, one object per engine or model")
    evaluation.set_defaults(func=cmd_eval)

    db = sub.add_parser("db", help="the database (BRIEFING_DATABASE_URL): schema migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_sub.add_parser(
        "upgrade", help="apply the schema migrations (the service also does at start)"
    )
    db_upgrade.add_argument("revision", nargs="?", default="head",
                            help="migrate up to this revision (default: the newest)")
    db_upgrade.set_defaults(func=cmd_db_upgrade)
    db_current = db_sub.add_parser("current", help="print the database's schema revision")
    db_current.set_defaults(func=cmd_db_current)

    feeds = sub.add_parser("feeds", help="follow RSS, Atom and JSON feeds")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    imp = feeds_sub.add_parser("import", help="follow the feeds of an OPML file")
    imp.add_argument("file", help="OPML file (a feed reader's export)")
    imp.set_defaults(func=cmd_feeds_import)
    poll = feeds_sub.add_parser(
        "poll", help="poll every feed once (except those backing off after errors) and exit; "
        "the exit status is 1 when any feed failed"
    )
    poll.set_defaults(func=cmd_feeds_poll)
    listing = feeds_sub.add_parser("list", help="the feeds followed and their state")
    listing.add_argument("--json", action="store_true", help="print the state as JSON")
    listing.set_defaults(func=cmd_feeds_list)
    remove = feeds_sub.add_parser("remove", help="stop following a feed")
    remove.add_argument("url", help="the feed URL, as `briefing feeds list` shows it")
    remove.set_defaults(func=cmd_feeds_remove)

    model = sub.add_parser("model", help="manage model weights")
    model_sub = model.add_subparsers(dest="model_command", required=True)
    pull = model_sub.add_parser("pull", help="download weights into the data dir")
    pull.add_argument("model_id", nargs="?", help="hub id (default: BRIEFING_MODEL)")
    pull.add_argument("--dir", type=Path, help="save here instead of the data dir")
    pull.add_argument("--timeout", type=float, default=600.0, help="give up after seconds")
    pull.add_argument(
        "--if-missing", action="store_true",
        help="BRIEFING_MODEL only when it is not here and the seq2seq engine may use it, "
        "when the hub answers within --hub-timeout; otherwise say so and exit 0 (make run)",
    )
    pull.add_argument("--hub-timeout", type=float, default=3.0,
                      help="--if-missing: seconds the hub has to answer (default 3)")
    pull.set_defaults(func=cmd_model_pull)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as exc:
        problems = "; ".join(f"BRIEFING_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                             if e["loc"] else e["msg"] for e in exc.errors())
        print(f"briefing: error: invalid settings: {problems}", file=sys.stderr)
        return 2
    configure_logging(getattr(args, "log_level", None) or settings.log_level,
                      settings.log_format)
    warn_unknown_variables()
    try:
        return int(args.func(args))
    except BriefingError as exc:
        print(f"briefing: error: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"briefing: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
