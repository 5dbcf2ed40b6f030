"""What every handler and job needs (Context, built once per process), and what a feature plugs
into it (Feature, Job). bot/features.py lists the features; core never names one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.core.logs import ContextPool
from bot.core.outbox import OUTBOX_KEYS, OutboxSender, utc_now
from bot.core.parts import (
    DigestParts,
    DoctorPart,
    Export,
    MessageShortcut,
    Moderation,
    Scope,
    SlashCommand,
    WeekPart,
)
from bot.core.settings import Settings
from bot.core.slack_users import UserDirectory
from storage.db import Range, make_engine, make_session_factory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    """One run of a job for its period."""

    now: datetime  # in the team's zone
    period: str
    number: int  # 1 for the period's first run; each forced run takes the next number
    previous: datetime | None = None  # when the job last ran for an earlier period, if ever
    prepared: Any = None  # what the job's `prepare` gathered
    forced: bool = False  # asked for (--force, --dry-run) rather than due: a job may do now what is not due yet

    @property
    def key(self) -> str:
        """What the run's outbox keys are made of: the period, and after the first run its number
        too, so a forced run posts again instead of colliding with the first run's messages."""
        return self.period if self.number == 1 else f"{self.period}/run{self.number}"


@dataclass(frozen=True)
class Job:
    """A scheduled job. `work` writes its records and outbox rows in the session it is given and
    returns one line per thing it posts; bot.core.jobs.run_job claims its period around it."""

    name: str
    work: Callable[[Context, Session, Run], list[str]]
    # The period a run at local time `now` belongs to: "2026-11-23" for a daily job, "2026-W48" weekly.
    period: Callable[[datetime], str]
    schedule: Callable[[Settings], dict]  # CronTrigger fields, in KAIZEN_TIMEZONE
    # Slow reads (Slack's paged lists) done before the job's transaction, so they hold no database
    # lock; what it returns is given to `work` as `run.prepared`.
    prepare: Callable[[Context], Any] | None = None
    # Also run (again, as with --force) whenever `kaizen run` or `kaizen scheduler` starts.
    at_start: bool = False
    # The jobs whose records this one reads (by name): each runs first when it last ran more than a
    # day ago, so the reader never works from a stale copy (or an empty one, on a fresh database).
    reads: tuple[str, ...] = ()


# What a route answers: an HTTP status and a one-line reason (the response body).
HttpAnswer = tuple[int, str]


@dataclass(frozen=True)
class Route:
    """`POST path` from outside Slack (a help desk's webhook, say), served beside Slack's requests by
    `kaizen run --http` and by `kaizen run --port`. bot.core.http refuses a body over `max_body`
    bytes without reading it, then calls `handle` with the headers (lower-case names) and the body."""

    path: str
    handle: Callable[[Context, Mapping[str, str], bytes], HttpAnswer]
    max_body: int = 64 * 1024


@dataclass(frozen=True)
class Feature:
    """Everything one feature adds to Kaizen; each part is optional."""

    name: str
    listeners: Callable[[App, Context], None] | None = None  # handlers.<feature>.register
    routes: tuple[Route, ...] = ()  # handlers.<feature>.ROUTES: HTTP endpoints of its own
    jobs: tuple[Job, ...] = ()
    # Run on every context, whoever builds it (a request's process, the scheduler, the CLI).
    on_context: Callable[[Context], None] | None = None
    # Its part of a person's Home tab, of the weekly celebration (everyone's, or a team's people's for its
    # channel) and of the lead digest (one for each scope: everyone, each team).
    home: Callable[[Session, Settings, str, datetime], list[dict]] | None = None
    week: Callable[[Session, Settings, Range, Scope], WeekPart | None] | None = None
    digest: DigestParts | None = None
    exports: tuple[Export, ...] = ()
    moderation: Moderation | None = None  # how admins hide its items
    # The channels and people `kaizen doctor` checks for it (it only reads the session).
    doctor: Callable[[Session, Settings], DoctorPart] | None = None
    # What the Slack app manifest asks for on its behalf.
    commands: tuple[SlashCommand, ...] = ()
    shortcuts: tuple[MessageShortcut, ...] = ()
    events: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()

    def with_listeners(self, register: Callable[[App, Context], None]) -> Feature:
        return replace(self, listeners=register)

    def with_routes(self, routes: tuple[Route, ...]) -> Feature:
        return replace(self, routes=routes)


def jobs_by_name(features: tuple[Feature, ...]) -> dict[str, Job]:
    return {job.name: job for feature in features for job in feature.jobs}


@dataclass
class Context:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker
    client: WebClient
    outbox: OutboxSender
    users: UserDirectory
    clock: Callable[[], datetime]
    features: tuple[Feature, ...]
    # Runs work after an ack when serving Slack; None runs it inline (jobs, the CLI, process_before_response).
    pool: ThreadPoolExecutor | None = None

    def now(self) -> datetime:
        """The current time in the team's zone."""
        return self.clock().astimezone(self.settings.timezone)

    @property
    def jobs(self) -> dict[str, Job]:
        return jobs_by_name(self.features)

    @contextmanager
    def transaction(self, *, deliver: bool = True) -> Iterator[Session]:
        """One unit of work; the outbox rows it wrote are sent after commit (unless deliver=False)."""
        with self.session_factory.begin() as session:
            yield session
        if deliver:
            self.deliver_outbox(session)

    def deliver_outbox(self, session: Session) -> None:
        self.outbox.deliver(session.info.pop(OUTBOX_KEYS, []))

    def defer(self, function: Callable, *args, **kwargs) -> None:
        """Run work after an ack: on the pool, so a slow database or Slack never holds up the next ack."""
        if self.pool is None:
            function(*args, **kwargs)
        else:
            self.pool.submit(function, *args, **kwargs).add_done_callback(_log_failure)

    def close(self) -> None:
        """Finish the deferred work (and the deliveries it started); then the context is done."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def build_context(
    settings: Settings,
    features: tuple[Feature, ...],
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
    ctx = Context(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        client=client,
        outbox=OutboxSender(session_factory, outbox_client, clock),
        users=UserDirectory(client),
        clock=clock,
        features=features,
        pool=ContextPool(background_threads, thread_name_prefix="kaizen-work") if background_threads else None,
    )
    for feature in features:
        if feature.on_context:
            feature.on_context(ctx)
    return ctx


def _log_failure(future: Future) -> None:
    if future.exception() is not None:
        log.error("Work after an acknowledgement failed", exc_info=future.exception())
