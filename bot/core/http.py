"""HTTP mode: Bolt's WSGI adapter served by gunicorn, plus a health check."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text

from bot.core.outbox import OutboxSender

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_app(app: App, engine: Engine, outbox: OutboxSender | None = None) -> Callable:
    """POST /slack/events to Bolt (which verifies Slack's signature); GET /healthz checks the database
    and that Slack accepts the token the outbox sends with."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            problem = health_problem(engine, outbox)
            status = "503 Service Unavailable" if problem else "200 OK"
            start_response(status, [("Content-Type", "text/plain")])
            return [f"{problem or 'ok'}\n".encode()]
        return slack(environ, start_response)

    return application


def health_problem(engine: Engine, outbox: OutboxSender | None) -> str | None:
    """What keeps Kaizen from working, in one line; None when all is well."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # a health check reports, it does not raise
        return f"database unavailable: {type(error).__name__}"
    if outbox is not None and outbox.token_refused:
        refused, waiting = outbox.token_refused, outbox.waiting()
        return f"Slack refuses the bot token ({refused}): sending is paused, {waiting} message(s) waiting"
    return None


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
        },
    ).run()
