"""What every handler and job needs, built once per process."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.core.outbox import OUTBOX_KEYS, OutboxSender, utc_now
from bot.core.settings import Settings
from bot.core.slack_users import UserDirectory
from storage.db import make_engine, make_session_factory

log = logging.getLogger(__name__)


@dataclass
class Context:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker
    client: WebClient
    outbox: OutboxSender
    users: UserDirectory
    clock: Callable[[], datetime]
    # Runs work after an ack: a thread pool when serving Slack, inline in tests (process_before_response).
    defer: Callable[..., object]

    def now(self) -> datetime:
        """The current time in the team's zone."""
        return self.clock().astimezone(self.settings.timezone)

    @contextmanager
    def transaction(self, *, deliver: bool = True) -> Iterator[Session]:
        """One unit of work; the outbox rows it wrote are sent after commit (unless deliver=False)."""
        with self.session_factory.begin() as session:
            yield session
        if deliver:
            self.deliver_outbox(session)

    def deliver_outbox(self, session: Session) -> None:
        self.outbox.deliver(session.info.pop(OUTBOX_KEYS, []))


def build_context(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utc_now,
    background_threads: int = 0,
) -> Context:
    """`background_threads` > 0 runs deferred work on a pool of that size, so a slow database or
    Slack never holds up the next acknowledgement; 0 runs it inline (tests, jobs, the CLI)."""
    engine = engine or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    # The outbox does its own retrying, so its client must not retry or sleep on its own.
    outbox_client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, retry_handlers=[])
    return Context(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        client=client,
        outbox=OutboxSender(session_factory, outbox_client, clock),
        users=UserDirectory(client),
        clock=clock,
        defer=_pool(background_threads) if background_threads else _inline,
    )


def _inline(function: Callable, *args, **kwargs) -> None:
    function(*args, **kwargs)


def _pool(threads: int) -> Callable[..., None]:
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kaizen-work")

    def submit(function: Callable, *args, **kwargs) -> None:
        executor.submit(function, *args, **kwargs).add_done_callback(_log_failure)

    return submit


def _log_failure(future: Future) -> None:
    if future.exception() is not None:
        log.error("Work after an acknowledgement failed", exc_info=future.exception())
