"""HTTP: Bolt's WSGI adapter, a health check and each feature's routes (a help desk's webhook, say),
as one WSGI app: served by gunicorn in HTTP mode, or by a small threaded server beside Socket Mode."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http import HTTPStatus
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, text

from bot.core.context import Context, HttpAnswer, Route
from bot.core.logs import GunicornLogger
from bot.core.metrics import OutboxGauges, metrics_page, worker_exited
from bot.core.outbox import TOKEN_ERRORS, OutboxSender
from bot.core.shutdown import GUNICORN_GRACE
from storage.migrate import schema_problem

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are a few KB: a bigger body is refused before anything reads it.
SLACK_MAX_BODY = 1024 * 1024
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
TOKEN_CHECKED_EVERY = 30.0  # seconds a readiness probe reuses Slack's last answer to auth.test
SLACK_PATIENCE = 5  # seconds a readiness probe waits for that answer

log = logging.getLogger(__name__)


def wsgi_app(app: App | None, ctx: Context, socket_problem: Callable[[], str | None] | None = None) -> Callable:
    """POST /slack/events to Bolt (which verifies Slack's signature) when given a Bolt app (HTTP mode);
    GET /healthz checks the database and that Slack accepts the bot token; GET /readyz also the schema,
    auth.test and (Socket Mode: `socket_problem`) the socket; GET /metrics (Prometheus); every feature's routes."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH) if app else None
    routes = {route.path: route for feature in ctx.features for route in feature.routes}
    readiness = Readiness(ctx, socket_problem)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == METRICS_PATH and method == "GET":
            page, content_type = metrics_page(OutboxGauges(ctx.session_factory, ctx.clock, ctx.outbox.token_refused))
            start_response("200 OK", [("Content-Type", content_type)])
            return [page]
        try:
            if path in (HEALTH_PATH, READY_PATH) and method == "GET":
                problem = health_problem(ctx.engine, ctx.outbox) if path == HEALTH_PATH else readiness.problem()
                status, reason = (503, problem) if problem else (200, "ok")
            elif path in routes:
                status, reason = _serve(ctx, routes[path], environ)
            elif slack:
                # Bolt reads the body it is given: the one read here, within the cap.
                body = _read_body(environ, SLACK_MAX_BODY)
                read = {**environ, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
                return slack(read, start_response)
            else:
                status, reason = 404, "not found"
        except BodyRefused as refusal:
            status, reason = refusal.answer
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


class Readiness:
    """Whether this process is ready to serve, for GET /readyz: what /healthz checks, and the schema is
    at the migrations' head, Slack accepts the bot token, and (Socket Mode) the socket is connected."""

    def __init__(self, ctx: Context, socket_problem: Callable[[], str | None] | None = None) -> None:
        self.ctx = ctx
        self.socket_problem = socket_problem or (lambda: None)
        self.token = TokenCheck(ctx.client)

    def problem(self) -> str | None:
        """The first thing wrong, in one line; None when ready."""
        problem = health_problem(self.ctx.engine, self.ctx.outbox)
        if problem or (problem := schema_problem(self.ctx.engine)):
            return problem
        return self.token.problem() or self.socket_problem()


class TokenCheck:
    """Whether Slack accepts the bot token (auth.test), asked at most once per `every` seconds: a
    readiness probe comes every few seconds, and each would otherwise be a call to Slack."""

    def __init__(self, client: WebClient, every: float = TOKEN_CHECKED_EVERY, monotonic=time.monotonic) -> None:
        self.client = WebClient(token=client.token, base_url=client.base_url, timeout=SLACK_PATIENCE, retry_handlers=[])
        self.every = every
        self.monotonic = monotonic
        self.lock = threading.Lock()
        self.asked_at: float | None = None
        self.answer: str | None = None

    def problem(self) -> str | None:
        with self.lock:
            now = self.monotonic()
            if self.asked_at is None or now - self.asked_at >= self.every:
                self.answer, self.asked_at = self._ask(), now
            return self.answer

    def _ask(self) -> str | None:
        try:
            self.client.auth_test()
        except SlackApiError as error:
            status, code = error.response.status_code, error.response.get("error")
            if code in TOKEN_ERRORS:
                return f"Slack refuses the bot token ({code})"
            return f"Slack could not check the bot token: auth.test answered {status} {code}"
        except OSError as error:  # URLError, a timeout
            return f"cannot reach Slack to check the bot token: {error}"
        return None


def _serve(ctx: Context, route: Route, environ: dict) -> HttpAnswer:
    if environ.get("REQUEST_METHOD") != "POST":
        return 405, f"{route.path} takes a POST"
    body = _read_body(environ, route.max_body)
    headers = {name[5:].replace("_", "-").lower(): value for name, value in environ.items() if name.startswith("HTTP_")}
    if "CONTENT_TYPE" in environ:
        headers["content-type"] = environ["CONTENT_TYPE"]
    return route.handle(ctx, headers, body)


class BodyRefused(Exception):
    """A request body refused before (or while) it was read; `answer` is what the client is told."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.answer: HttpAnswer = (status, reason)


def _read_body(environ: dict, limit: int) -> bytes:
    """The request body, at most `limit` bytes: a declared Content-Length over it is refused without
    reading a byte, a chunked body (which the server decodes) once it grows past it."""
    declared = environ.get("CONTENT_LENGTH") or "0"
    if not (declared.isascii() and declared.isdigit()):
        raise BodyRefused(400, "bad Content-Length")
    length = int(declared)
    if length > limit:
        raise BodyRefused(413, f"the body is over {_size(limit)}")
    stream = environ["wsgi.input"]
    try:
        if length:
            return stream.read(length)
        if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return b""
        body = stream.read(limit + 1)  # one byte past the limit is enough to know
    except TimeoutError:  # the server's socket timeout: a client too slow to send what it announced
        raise BodyRefused(408, "the body did not arrive in time") from None
    if len(body) > limit:
        raise BodyRefused(413, f"the body is over {_size(limit)}")
    return body


def _size(limit: int) -> str:
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


class _PooledWSGIServer(WSGIServer):
    """wsgiref's server with each connection served on a bounded pool of threads: when all are busy,
    the next connections wait in the listen backlog instead of each starting a thread of its own."""

    def __init__(self, *args, threads: int, client_timeout: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.client_timeout = client_timeout
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="kaizen-http")
        self.free_threads = threading.BoundedSemaphore(threads)

    def process_request(self, request, client_address) -> None:
        self.free_threads.acquire()  # at most a timeout away: every client is dropped once silent that long
        self.pool.submit(self._serve_connection, request, client_address)

    def _serve_connection(self, request, client_address) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self.free_threads.release()

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


class _RequestHandler(WSGIRequestHandler):
    @property
    def timeout(self) -> float:  # StreamRequestHandler sets it on the connection: a silent client is dropped
        return self.server.client_timeout

    def handle(self) -> None:
        try:
            super().handle()
        except TimeoutError:
            log.debug("%s sent nothing for %s s: dropped", self.address_string(), self.timeout)

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # wsgiref hands the application the chunks' framing as if it were the body.
            self.send_error(HTTPStatus.LENGTH_REQUIRED, "Send the body with a Content-Length")
            return False
        return True

    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def serve_in_background(
    application: Callable, *, port: int, host: str = "0.0.0.0", threads: int = 8, client_timeout: float = 10.0
) -> WSGIServer:
    """Serve `application` on a thread of its own (beside Socket Mode), each connection on one of
    `threads` threads, dropping a client silent for `client_timeout` seconds; `shutdown()` stops it."""
    server = make_server(
        host,
        port,
        application,
        server_class=partial(_PooledWSGIServer, threads=threads, client_timeout=client_timeout),
        handler_class=_RequestHandler,
    )
    threading.Thread(target=server.serve_forever, name="kaizen-http", daemon=True).start()
    return server


# What a gunicorn worker loads: the WSGI app, and what ends it when the worker exits.
Loaded = tuple[Callable, Callable[[], None]]


class GunicornServer(BaseApplication):
    """gunicorn run from our CLI; `load` builds the app inside each worker, after the fork."""

    def __init__(self, load_app: Callable[[], Loaded], options: dict):
        self.load_app = load_app
        self.options = options
        self.end_app: Callable[[], None] | None = None  # in a worker, once loaded
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("worker_exit", self.worker_exited)

    def load(self) -> Callable:
        application, self.end_app = self.load_app()
        return application

    def worker_exited(self, _server, _worker) -> None:
        """gunicorn's worker_exit hook, called in the worker once it stopped taking requests and those
        under way were answered (SIGTERM), and in the master for a worker found gone (no app there)."""
        if self.end_app is not None:
            self.end_app()


def serve(load_app: Callable[[], Loaded], *, port: int, workers: int, threads: int) -> None:
    GunicornServer(
        load_app,
        {
            "bind": f"0.0.0.0:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 30,
            "graceful_timeout": GUNICORN_GRACE,  # after SIGTERM: then a worker still there is killed
            "accesslog": None,
            "loglevel": "info",
            "logger_class": GunicornLogger,
            "child_exit": worker_exited,
        },
    ).run()
