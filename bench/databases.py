"""Throwaway databases for the benchmarks: SQLite in a temporary directory, and PostgreSQL
(a fresh database on the tests' server, dropped afterwards) when it is reachable."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import POSTGRES_URL


@contextmanager
def sqlite() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'bench.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()


@contextmanager
def postgresql() -> Iterator[Engine | None]:
    """A migrated PostgreSQL database, or None when no server is reachable."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"kaizen_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        print(f"PostgreSQL not reachable ({str(error.orig).splitlines()[0]}): skipped")
        yield None
        return
    engine = make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def each() -> Iterator[Engine]:
    """SQLite, then PostgreSQL when it is reachable: a fresh database each, dropped afterwards."""
    with sqlite() as engine:
        yield engine
    with postgresql() as engine:
        if engine is not None:
            yield engine
