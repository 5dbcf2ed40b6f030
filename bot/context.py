"""What every handler and job needs, built once per process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.outbox import OUTBOX_KEYS, OutboxSender, utc_now
from bot.slack_users import UserDirectory
from storage.db import make_engine, make_session_factory


@dataclass
class Context:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker
    client: WebClient
    outbox: OutboxSender
    users: UserDirectory
    clock: Callable[[], datetime]

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
) -> Context:
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
    )
