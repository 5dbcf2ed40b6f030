"""HTTP: Bolt's WSGI adapter, a health check and each feature's routes (a help desk's webhook, say),
as one WSGI app: served by gunicorn in HTTP mode, or by a small threaded server beside Socket Mode."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text

from bot.core.context import Context, HttpAnswer, Route
from bot.core.logs import GunicornLogger
from bot.core.metrics import OutboxGauges, metrics_page, worker_exited
from bot.core.outbox import OutboxSender

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"

log = logging.getLogger(__name__)


def wsgi_app(app: App | None, ctx: Context) -> Callable:
    """POST /slack/events to Bolt (which verifies Slack's signature) when given a Bolt app (HTTP mode);
    GET /healthz checks the database and that Slack accepts the bot token; GET /metrics (Prometheus);
    every feature's routes."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH) if app else None
    routes = {route.path: route for feature in ctx.features for route in feature.routes}

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == METRICS_PATH and method == "GET":
            page, content_type = metrics_page(OutboxGauges(ctx.session_factory, ctx.clock, ctx.outbox.token_refused))
            start_response("200 OK", [("Content-Type", content_type)])
            return [page]
        if path == HEALTH_PATH and method == "GET":
            problem = health_problem(ctx.engine, ctx.outbox)
            status, reason = (503, problem) if problem else (200, "ok")
        elif path in routes:
            status, reason = _serve(ctx, routes[path], environ)
        elif slack:
            return slack(environ, start_response)
        else:
            status, reason = 404, "not found"
        headers = [("Content-Type", "text/plain; charset=utf-8")]
        if status == 405:
            headers.append(("Allow", "POST"))
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [f"{reason}\n".encode()]

    return application


def health_problem(engine: Engine, outbox: OutboxSender) -> str | None:
    """What keeps Kaizen from working, in one line; None when all is well."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # a health check reports, it does not raise
        return f"database unavailable: {type(error).__name__}"
    if outbox.token_refused:
        refused, waiting = outbox.token_refused, outbox.waiting()
        return f"Slack refuses the bot token ({refused}): sending is paused, {waiting} message(s) waiting"
    return None


def _serve(ctx: Context, route: Route, environ: dict) -> HttpAnswer:
    if environ.get("REQUEST_METHOD") != "POST":
        return 405, f"{route.path} takes a POST"
    declared = environ.get("CONTENT_LENGTH") or "0"
    if not (declared.isascii() and declared.isdigit()):
        return 400, "bad Content-Length"
    length = int(declared)
    stream = environ["wsgi.input"]
    limit = route.max_body
    too_big = 413, f"the body is over {f'{limit // 1024} KB' if limit % 1024 == 0 else f'{limit} bytes'}"
    if length > limit:  # refused before reading a byte of it
        return too_big
    if length:
        body = stream.read(length)
    elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        body = stream.read(limit + 1)  # one byte past the limit is enough to know
        if len(body) > limit:
            return too_big
    else:
        body = b""
    headers = {name[5:].replace("_", "-").lower(): value for name, value in environ.items() if name.startswith("HTTP_")}
    if "CONTENT_TYPE" in environ:
        headers["content-type"] = environ["CONTENT_TYPE"]
    return route.handle(ctx, headers, body)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow client never keeps the process from stopping


class _LoggingRequestHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def serve_in_background(application: Callable, *, port: int, host: str = "0.0.0.0") -> WSGIServer:
    """Serve `application` on a thread of its own (beside Socket Mode); `shutdown()` stops it."""
    server = make_server(
        host, port, application, server_class=_ThreadingWSGIServer, handler_class=_LoggingRequestHandler
    )
    threading.Thread(target=server.serve_forever, name="kaizen-http", daemon=True).start()
    return server


class GunicornServer(BaseApplication):
    """gunicorn run from our CLI; `load` builds the app inside each worker, after the fork."""

    def __init__(self, load_app: Callable[[], Callable], options: dict):
        self.load_app = load_app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Callable:
        return self.load_app()


def serve(load_app: Callable[[], Callable], *, port: int, workers: int, threads: int) -> None:
    GunicornServer(
        load_app,
        {
            "bind": f"0.0.0.0:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 30,
            "accesslog": None,
            "loglevel": "info",
            "logger_class": GunicornLogger,
            "child_exit": worker_exited,
        },
    ).run()
