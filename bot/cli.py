"""The `kaizen` command (also `python -m bot`)."""

from __future__ import annotations

import argparse
import gc
import json
import sys
import threading
from datetime import date
from urllib.error import URLError

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import OperationalError

from bot.core.app import create_app
from bot.core.context import Context, build_context, jobs_by_name
from bot.core.doctor import run_checks, summary
from bot.core.exports import write_export
from bot.core.http import EVENTS_PATH, serve, serve_in_background, wsgi_app
from bot.core.jobs import run_job
from bot.core.logs import configure_logging
from bot.core.manifest import build_manifest
from bot.core.metrics import share_between_workers
from bot.core.outbox import Sweeper, method_answered
from bot.core.scheduler import add_jobs
from bot.core.settings import ConfigError, Settings, load_settings
from bot.core.shutdown import stop_signal_calls, wind_down
from bot.core.socket_mode import SocketModeKeeper
from bot.features import FEATURES
from storage.db import make_engine, make_read_only_engine, make_session_factory
from storage.migrate import upgrade

BACKGROUND_THREADS = 4  # per process: the work each request does after its ack, and its deliveries
HTTP_PORT = 3000
EXPORTS = {export.name: export for feature in FEATURES for export in feature.exports}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        configure_logging(load_settings().log_format)
        return args.func(args) or 0
    except ConfigError as error:
        print(f"kaizen: {error}", file=sys.stderr)
        return 2
    except OperationalError as error:
        print(f"kaizen: cannot use the database: {str(error.orig).splitlines()[0]}", file=sys.stderr)
        return 2
    except SlackApiError as error:  # a job reading from Slack (users.list, say)
        method = method_answered(error.response)
        print(f"kaizen: Slack refused {method}: {error.response.get('error')}", file=sys.stderr)
        return 2
    except URLError as error:
        print(f"kaizen: cannot reach Slack: {error.reason}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    """The `kaizen` command line: its subcommands and options (the README lists each of them)."""
    parser = argparse.ArgumentParser(prog="kaizen", description="Kaizen, a Slack bot for continuous improvement.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="connect to Slack: Socket Mode with the scheduler, or --http (run `kaizen scheduler` beside it)"
    )
    run.add_argument("--http", action="store_true", help="serve POST /slack/events instead of Socket Mode")
    run.add_argument(
        "--port",
        type=int,
        help=f"HTTP port (default {HTTP_PORT} with --http); in Socket Mode, serves /healthz, /readyz and the "
        "integrations there",
    )
    run.add_argument("--workers", type=int, default=2, help="HTTP worker processes (default %(default)s)")
    run.add_argument("--threads", type=int, default=8, help="threads per HTTP worker (default %(default)s)")
    run.set_defaults(func=cmd_run)

    scheduler = commands.add_parser("scheduler", help="run the scheduled jobs alone")
    scheduler.add_argument("--port", type=int, help="also serve GET /healthz and GET /metrics on this port")
    scheduler.set_defaults(func=cmd_scheduler)
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=cmd_migrate)
    commands.add_parser(
        "doctor", help="check the tokens, scopes, channels, people, database and schedule; change nothing"
    ).set_defaults(func=cmd_doctor)

    manifest = commands.add_parser("manifest", help="print the Slack app manifest (JSON)")
    manifest.add_argument("--http", metavar="URL", help="use HTTP request URLs (…/slack/events) instead of Socket Mode")
    manifest.set_defaults(func=cmd_manifest)

    jobs = commands.add_parser("jobs", help="scheduled jobs").add_subparsers(required=True, metavar="ACTION")
    job_run = jobs.add_parser("run", help="run one job now")
    job_run.add_argument("name", metavar="NAME", help=f"one of: {', '.join(jobs_by_name(FEATURES))}")
    job_run.add_argument("--dry-run", action="store_true", help="print what it would post; change nothing")
    job_run.add_argument("--force", action="store_true", help="run even if it already ran for this period")
    job_run.set_defaults(func=cmd_jobs_run)

    export = commands.add_parser("export", help="CSV to stdout")
    export.add_argument("what", metavar="KIND", choices=list(EXPORTS), help=f"one of: {', '.join(EXPORTS)}")
    export.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="from this day on (inclusive)")
    export.set_defaults(func=cmd_export)
    return parser


def _migrate(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()


def cmd_migrate(_args) -> None:
    settings = load_settings()
    _migrate(settings)
    print("kaizen: the database schema is up to date.")


def cmd_run(args) -> None:
    settings = load_settings()
    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET" if args.http else "SLACK_APP_TOKEN")
    if settings.database_url.startswith("sqlite"):
        _migrate(settings)
    if args.http:
        with share_between_workers(settings.metrics_dir):  # so /metrics sums every worker's counts
            serve(lambda: _http_app(settings), port=args.port or HTTP_PORT, workers=args.workers, threads=args.threads)
        return

    ctx = _serving_context(settings)
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, ctx)
    app = create_app(ctx)
    socket = SocketModeKeeper(app, settings.slack_app_token)
    with stop_signal_calls(socket.stop):
        scheduler.start()
        # Slack's requests come over the socket; this serves /healthz, /readyz and the integrations.
        server = serve_in_background(wsgi_app(None, ctx, socket.problem), port=args.port) if args.port else None
        socket.run()  # until SIGTERM: the socket is closed first, so no new request comes
    if server is not None:
        server.shutdown()
    wind_down(ctx, app=app, scheduler=scheduler)


def _http_app(settings: Settings):
    """Built in each gunicorn worker, after the fork, so each has its own pool and sweeper; with what
    ends them when the worker exits."""
    ctx = _serving_context(settings)
    app = create_app(ctx)
    return wsgi_app(app, ctx), lambda: wind_down(ctx, app=app)


def cmd_scheduler(args) -> None:
    settings = load_settings()
    settings.require("SLACK_BOT_TOKEN")
    if settings.database_url.startswith("sqlite"):
        _migrate(settings)
    ctx = _context(settings)
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, ctx)
    stopped = threading.Event()
    with stop_signal_calls(stopped.set):
        # The jobs' metrics are this process's.
        server = serve_in_background(wsgi_app(None, ctx), port=args.port) if args.port else None
        scheduler.start()
        stopped.wait()
    if server is not None:
        server.shutdown()
    wind_down(ctx, scheduler=scheduler)


def cmd_doctor(_args) -> int:
    """One line per check, the fix beside each that fails; exit status 1 if any fails."""
    settings = load_settings()
    ctx = build_context(settings, FEATURES, engine=make_read_only_engine(settings.database_url))
    checks = run_checks(ctx)
    ctx.engine.dispose()
    for check in checks:
        print(check)
        for line in () if check.passed else check.details:
            print(f"    {line}")
    print(summary(checks))
    return 0 if all(check.passed for check in checks) else 1


def cmd_manifest(args) -> None:
    url = args.http
    if url and not url.rstrip("/").endswith(EVENTS_PATH):
        url = url.rstrip("/") + EVENTS_PATH
    print(json.dumps(build_manifest(FEATURES, url), indent=2))


def cmd_jobs_run(args) -> int:
    settings = load_settings()
    jobs = jobs_by_name(FEATURES)
    if args.name not in jobs:
        raise ConfigError(f"unknown job {args.name!r}; the jobs are: {', '.join(jobs)}.")
    if not args.dry_run:
        settings.require("SLACK_BOT_TOKEN")
    ctx = _context(settings)
    with stop_signal_calls(ctx.outbox.stop):  # the job ends; what it could not send waits for the next process
        report = run_job(ctx, args.name, dry_run=args.dry_run, force=args.force)
    if not report.ran:
        print(f"{args.name} already ran for {report.period}; use --force to run it again.")
        return 0
    prefix = "[dry run] " if args.dry_run else ""
    print(f"{prefix}{args.name} for {report.period}:")
    for line in report.lines:
        print(f"  {line}")
    if report.backlog:
        print(f"  {report.backlog}")
    return 0


def cmd_export(args) -> None:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        write_export(session, EXPORTS[args.what], sys.stdout, args.since, settings.timezone)
    engine.dispose()


def _context(settings: Settings) -> Context:
    return freeze_start_up(build_context(settings, FEATURES))


def _serving_context(settings: Settings) -> Context:
    """A process serving Slack: work after each ack on a pool, and a sweeper that delivers what
    that work could not send at once (so no other process is needed for delivery)."""
    ctx = freeze_start_up(build_context(settings, FEATURES, background_threads=BACKGROUND_THREADS))
    Sweeper(ctx.outbox).start()
    return ctx


def freeze_start_up(ctx: Context) -> Context:
    """What start-up built (the modules, the context) lives as long as the process: the garbage
    collector leaves it out of its full collections, which a job writing thousands of rows triggers
    (a tenth of a second each, at 10,000 people)."""
    gc.freeze()
    return ctx
