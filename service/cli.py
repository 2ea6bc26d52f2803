"""The ``briefing`` command: serve, summarize, preprocess, daily, db, model pull."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from service.config import get_settings
from service.errors import BriefingError


def _read_input(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    return Path(name).read_text(encoding="utf-8")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.api import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_summarize(args: argparse.Namespace) -> int:
    from service.briefing import BriefingService
    from service.store import Article

    service = BriefingService.open(get_settings())
    try:
        result = service.brief(Article(text=_read_input(args.file)))
    finally:
        service.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"SHORT: {result['short']}\n\nLONG: {result['long']}")
        if result.get("fallback_reason"):
            print(f"\n(extractive engine: {result['fallback_reason']})", file=sys.stderr)
    return 0


def cmd_preprocess(args: argparse.Namespace) -> int:
    from service.preprocess import preprocess
    from service.preprocess.pysbd_runner import use_fast_path

    use_fast_path(get_settings().sentence_fast_path)
    doc = preprocess(_read_input(args.file), html=args.html)
    if args.json:
        removed = [{"reason": r.reason, "text": r.text} for r in doc.removed]
        print(json.dumps({"text": doc.text, "stats": doc.stats.as_dict(), "removed": removed},
                         ensure_ascii=False, indent=2))
    else:
        print(doc.text)
    return 0


def cmd_daily(args: argparse.Namespace) -> int:
    from service.digest.compose import Briefer
    from service.digest.job import DailyJob
    from service.digest.ledger import DeliveryLedger
    from service.digest.window import parse_day, yesterday
    from service.errors import DeliveryBusy
    from service.storage import Database
    from service.store import ArticleStore

    settings = get_settings()
    day = parse_day(args.date) if args.date else yesterday(settings.zone)
    database = Database.open(settings)
    ledger, store = DeliveryLedger(database), ArticleStore(database)
    briefer = Briefer.standalone(settings, database)
    try:
        job = DailyJob(settings, store, briefer, ledger)
        if args.preview:
            print(json.dumps(job.messages(job.build(day)), ensure_ascii=False, indent=2))
            return 0
        result = job.run(day, send=not args.no_deliver, force=args.force)
    except DeliveryBusy as exc:  # another run (scheduler, replica) is posting it: not an error
        print(f"digest {day}: delivery: busy ({exc.message})")
        return 0
    finally:
        briefer.close()
        database.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        digest, delivery = result["digest"], result["delivery"]
        print(f"digest {digest['date']} ({digest['timezone']}): {digest['articles']} article(s), "
              f"{len(digest['stories'])} of {digest['stories_total']} story(ies); "
              f"delivery: {delivery['status']}"
              + (f" ({delivery['detail']})" if delivery.get("detail") else ""))
    return 0


def cmd_model_pull(args: argparse.Namespace) -> int:
    from service.engines.seq2seq import pull_model

    settings = get_settings()
    model_id = args.model_id or settings.model
    target = pull_model(settings, model_id, directory=args.dir, timeout_s=args.timeout)
    use = target if args.dir else model_id
    print(f"model saved in {target}; the service uses it with BRIEFING_MODEL={use}")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from service.storage import Database, upgrade

    database = Database.open(get_settings(), migrate=False)
    try:
        before, after = upgrade(database, args.revision)
    finally:
        database.close()
    if before == after:
        print(f"database {database.url}: at {after}; nothing to do")
    else:
        print(f"database {database.url}: migrated from {before or 'an empty schema'} to {after}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from service.storage import Database, current_revision, head_revision

    database = Database.open(get_settings(), migrate=False)
    try:
        current = current_revision(database)
    finally:
        database.close()
    head = head_revision()
    state = "up to date" if current == head else f"behind: `briefing db upgrade` moves it to {head}"
    print(f"database {database.url}: at {current or 'an empty schema'} ({state})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefing", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    summarize = sub.add_parser("summarize", help="print the briefings of one article")
    summarize.add_argument("file", help="article text file, or - for stdin")
    summarize.add_argument("--json", action="store_true", help="print the full result")
    summarize.set_defaults(func=cmd_summarize)

    pre = sub.add_parser("preprocess", help="print the cleaned text the model sees")
    pre.add_argument("file", help="article text file, or - for stdin")
    pre.add_argument("--json", action="store_true",
                     help="print the text, the stats and what was removed, and why")
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
    daily.set_defaults(func=cmd_daily)

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

    model = sub.add_parser("model", help="manage model weights")
    model_sub = model.add_subparsers(dest="model_command", required=True)
    pull = model_sub.add_parser("pull", help="download weights into the data dir")
    pull.add_argument("model_id", nargs="?", help="hub id (default: BRIEFING_MODEL)")
    pull.add_argument("--dir", type=Path, help="save here instead of the data dir")
    pull.add_argument("--timeout", type=float, default=600.0, help="give up after seconds")
    pull.set_defaults(func=cmd_model_pull)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
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
