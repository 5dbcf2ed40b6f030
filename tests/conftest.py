"""Fixtures: settings, a database per test (SQLite, and PostgreSQL when reachable), the fake
Slack Web API, a fixed clock, the Bolt app, a signed-request helper and a help desk."""

from __future__ import annotations

import functools
import gc
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from bot.core.app import create_app
from bot.core.context import build_context
from bot.core.http import wsgi_app
from bot.core.manifest import bot_scopes
from bot.core.outbox import Sweeper
from bot.core.settings import load_settings
from bot.features import FEATURES, tables
from storage.db import make_engine
from storage.migrate import alembic_config, upgrade
from tests.fake_slack import FakeSlack
from tests.help_desk import COMPLIMENTS_SECRET, ZENDESK_SECRET, HelpDesk
from tests.slack_requests import SIGNING_SECRET, SlackRequests

WEDNESDAY_MORNING = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # 10:00 in Paris
POSTGRES_URL = os.environ.get("KAIZEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_postgres_status: dict[str, str] = {}


class FixedClock:
    """A clock the test moves by hand; aware UTC datetimes."""

    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class RunningClock:
    """Real time, starting from the same Wednesday morning as the fixed clock."""

    def __init__(self, start: datetime):
        self.start, self.started = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.started)


def wait_for(
    condition: Callable[[], object], what: str, timeout: float = 20.0, state: Callable[[], object] | None = None
) -> None:
    """Poll until `condition()` is true; fail saying `what` did not happen (and `state()`, what there was
    instead). The deadline is generous: it is how long a loaded test machine may take, not a promise
    about speed (bench/ measures that)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"within {timeout:.0f} s: {what}" + (f"; instead: {state()}" if state else ""))
        time.sleep(0.05)


class OutboxTime:
    """The outbox's time in a test: the test's clock plus however long the outbox waited. Its waits
    return at once, yet it sees what a real wait would have let it send; the records' time (ctx.now())
    stays where the test put it."""

    def __init__(self, clock: FixedClock):
        self.clock = clock
        self.waited = timedelta(0)
        self.lock = threading.Lock()

    def now(self) -> datetime:
        return self.clock() + self.waited

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.waited += timedelta(seconds=seconds)

    def drive(self, sender) -> None:
        sender.clock, sender.sleep = self.now, self.sleep


def base_env(fake: FakeSlack | None = None, **overrides: str) -> dict[str, str]:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url if fake else "http://127.0.0.1:9/api/",
        "KAIZEN_TIMEZONE": "Europe/Paris",
        "KAIZEN_KUDOS_CHANNEL": "CKUDOS",
        "KAIZEN_IDEAS_CHANNEL": "CIDEAS",
        "KAIZEN_TIPS_CHANNEL": "CTIPS",
        "KAIZEN_LEADS": "ULEAD",
        "KAIZEN_ADMINS": "UADMIN",
    }
    env.update(overrides)
    return env


# --- databases --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A fresh PostgreSQL database for this test run, migrated to head; dropped at the end."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"kaizen_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        _postgres_status["skipped"] = (
            f"not reachable at {make_url(POSTGRES_URL).render_as_string()}: " + str(error.orig).splitlines()[0]
        )
        pytest.skip(f"PostgreSQL {_postgres_status['skipped']}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    _postgres_status["ran"] = url
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """Every storage-touching test runs on SQLite and on PostgreSQL (skipped, and said, if unreachable)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'kaizen.db'}")
        tables().create_all(engine)
        with engine.begin() as connection:  # the models' tables are the head revision's (test_migrations)
            MigrationContext.configure(connection).stamp(_migrations(), "head")
    else:
        engine = make_engine(request.getfixturevalue("postgres_url"))
        names = ", ".join(f'"{t.name}"' for t in tables().sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield engine
    engine.dispose()


@functools.cache
def _migrations() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))


def pytest_terminal_summary(terminalreporter) -> None:
    if "ran" in _postgres_status:
        terminalreporter.write_line("PostgreSQL: storage tests ran on PostgreSQL as well as SQLite.")
    elif "skipped" in _postgres_status:
        terminalreporter.write_line(
            f"PostgreSQL: SKIPPED — {_postgres_status['skipped']}. Only SQLite was tested; "
            "set KAIZEN_TEST_POSTGRES_URL to a reachable server.",
            yellow=True,
            bold=True,
        )


# --- Slack --------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def unfrozen():
    """`kaizen` commands run in a test freeze what their start-up built (bot.cli.freeze_start_up):
    a test's is garbage once it ends."""
    yield
    gc.unfreeze()


@pytest.fixture
def fake_slack():
    fake = FakeSlack().start()
    fake.scopes = set(bot_scopes(FEATURES))  # the app was installed from this version's manifest
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(WEDNESDAY_MORNING)


@pytest.fixture
def env(fake_slack) -> dict[str, str]:
    """Edit this dict in a test (before using `ctx`) to change a setting."""
    return base_env(fake_slack)


@pytest.fixture
def settings(env):
    return load_settings(env)


@pytest.fixture
def ctx(settings, engine, clock):
    context = build_context(settings, FEATURES, engine=engine, clock=clock)
    OutboxTime(clock).drive(context.outbox)
    return context


@pytest.fixture
def app(ctx):
    return create_app(ctx, process_before_response=True)


@pytest.fixture
def slack(app, fake_slack) -> SlackRequests:
    return SlackRequests(app, fake_slack.response_url())


# --- as in production: work after the ack on a pool, the outbox's sweeper, real time ---------
@pytest.fixture
def live_ctx(settings, engine):
    """The context `kaizen run` builds (a pool for the work after each ack, a sweeper thread)."""
    context = build_context(
        settings, FEATURES, engine=engine, clock=RunningClock(WEDNESDAY_MORNING), background_threads=4
    )
    sweeper = Sweeper(context.outbox, probe_token_every=0.2).start()
    yield context
    sweeper.stop()
    context.close()


@pytest.fixture
def live_app(live_ctx):
    app = create_app(live_ctx)  # listeners run after the ack, on Bolt's threads, as in production
    yield app
    app.listener_runner.listener_executor.shutdown(wait=True)


@pytest.fixture
def live_slack(live_app, fake_slack) -> SlackRequests:
    return SlackRequests(live_app, fake_slack.response_url())


@pytest.fixture
def help_desk(request, env, clock, engine) -> HelpDesk:
    """Both integrations switched on (unless the test set their secrets in `env` first: then it asks for
    `engine`, not `ctx`, and this fixture with request.getfixturevalue), served by the same WSGI app as
    `kaizen run --http`."""
    env.setdefault("KAIZEN_ZENDESK_SECRET", ZENDESK_SECRET)
    env.setdefault("KAIZEN_COMPLIMENTS_SECRET", COMPLIMENTS_SECRET)
    ctx = request.getfixturevalue("ctx")
    return HelpDesk(wsgi_app(request.getfixturevalue("app"), ctx), clock)
