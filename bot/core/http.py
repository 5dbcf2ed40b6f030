"""HTTP mode: Bolt's WSGI adapter served by gunicorn, plus a health check."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_app(app: App, engine: Engine) -> Callable:
    """POST /slack/events to Bolt (which verifies Slack's signature); GET /healthz checks the database."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
            except Exception as error:  # a health check reports, it does not raise
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [f"database unavailable: {type(error).__name__}\n".encode()]
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        return slack(environ, start_response)

    return application


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
