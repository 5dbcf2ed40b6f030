"""The log: readable text (the default), or one JSON object a line (KAIZEN_LOG_FORMAT=json), each line
with what it is about where that is known: a request's kind and the Slack IDs of its team and
channel, or a job's name and period.

What a line may carry: only those IDs are added (never the ID of the person who made a request, who
may be an anonymous giver), the code logs no user text, and a Slack token that reaches a line all the
same (in an exception, say) is masked.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

from gunicorn import glogging

JSON = "json"  # KAIZEN_LOG_FORMAT; the other is "text"
# What a line is about: set around a request (bot.core.app) and a job's run (bot.core.jobs).
_about: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar("kaizen_log_about", default=())
_TOKEN = re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+")


@contextmanager
def log_about(**fields: str | None) -> Iterator[None]:
    """Every line logged inside (also by the tasks it gives a ContextPool) says what it is about."""
    about = {**dict(_about.get()), **{name: value for name, value in fields.items() if value}}
    reset = _about.set(tuple(about.items()))
    try:
        yield
    finally:
        _about.reset(reset)


class ContextPool(ThreadPoolExecutor):
    """A thread pool whose tasks log about what the thread that gave them was about (a request, a job)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(about)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        about = _about.get()
        record.about = " [" + " ".join(f"{name}={value}" for name, value in about) + "]" if about else ""
        return mask_tokens(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **dict(_about.get()),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return mask_tokens(json.dumps(line, ensure_ascii=False))


def mask_tokens(line: str) -> str:
    return _TOKEN.sub(lambda token: token[0][:5] + "…", line)


def configure_logging(log_format: str) -> None:
    """Log INFO and up to stderr in `log_format`; a process whose root logger has a handler already
    (a test's) keeps it."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == JSON else TextFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("alembic").setLevel(logging.WARNING)


class GunicornLogger(glogging.Logger):
    """gunicorn's own lines (a worker booting, timing out) go to Kaizen's log, in its format."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in list(self.error_log.handlers):
            self.error_log.removeHandler(handler)
        self.error_log.propagate = True
