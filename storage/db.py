"""Engine and session factory for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy import DateTime, Engine, Join, Table, create_engine, event, func, make_url, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import (
    InstrumentedAttribute,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.types import TypeDecorator

Range = tuple[datetime, datetime]  # [start, end): what the range queries of every feature take


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, stored as naive UTC (the same on SQLite and PostgreSQL), aware UTC out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def make_engine(url: str, **kwargs) -> Engine:
    """The engine of every database Kaizen opens. Its statements' bound values (an anonymous giver's ID
    in a lane, a DM's text) never reach a log line or an exception's message: hide_parameters."""
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=connect_args, hide_parameters=True, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)


def make_read_only_engine(url: str) -> Engine:
    """An engine that cannot change the database, for checks that must only read (`kaizen doctor`): a
    SQLite file opened read-only, which is not created when missing; PostgreSQL in read-only transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:") or path.startswith("file:"):
            return make_engine(url)  # nothing on disk to protect, or already a URI the admin wrote
        return create_engine(parsed.set(database=f"file:{quote(path)}", query={"mode": "ro", "uri": "true"}))
    return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c default_transaction_read_only=on"})


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy emit BEGIN itself (below) instead of pysqlite's deferred one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL is still crash-safe (a power cut may lose the last commits, never corrupt).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_on_begin(connection) -> None:
    # IMMEDIATE takes the write lock up front, so concurrent writers wait for each other
    # (busy_timeout) instead of failing with "database is locked" when upgrading a read lock.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class Hideable:
    """A table whose rows admins can hide (abusive kudos, ideas, feedback).

    A hidden row is left out of every ORM query of every session from make_session_factory, in
    whatever form it is asked for (counts, joins, subqueries, `session.get`), so it is gone from
    stats, exports, the Home tab, the celebration and the digests alike. The few queries that must
    still see it say `execution_options(include_hidden=True)`.
    """

    hidden_at: Mapped[datetime | None] = mapped_column(default=None)


def make_session_factory(engine: Engine) -> sessionmaker:
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "do_orm_execute", _leave_out_hidden_rows)
    return factory


def _leave_out_hidden_rows(state: ORMExecuteState) -> None:
    loading = state.is_column_load or state.is_relationship_load
    if not state.is_select or loading or state.execution_options.get("include_hidden", False):
        return
    if state.is_orm_statement:
        # SQLAlchemy's recipe for a global filter: criteria on every entity of the kind, aliases and joins too.
        state.statement = state.statement.options(
            with_loader_criteria(Hideable, lambda cls: cls.hidden_at.is_(None), include_aliases=True)
        )
        return
    # A select that names no ORM entity (`count(*)` filtered by a plain and_(...)) is Core to SQLAlchemy,
    # which then skips the recipe: the same criteria go on the tables it selects from.
    for table in _hideable_tables(state.statement.get_final_froms()):
        state.statement = state.statement.where(table.c.hidden_at.is_(None))


def _hideable_tables(froms) -> list[Table]:
    tables = []
    for from_ in froms:
        if isinstance(from_, Join):
            tables += _hideable_tables([from_.left, from_.right])
        elif isinstance(from_, Table) and "hidden_at" in from_.c:  # only Hideable gives a table that column
            tables.append(from_)
    return tables


def dialect_insert(session: Session):
    """INSERT with the dialect's ON CONFLICT clauses (PostgreSQL and SQLite share the same API)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def count_one_more(session: Session, counter: InstrumentedAttribute[int], **key) -> int:
    """Add one to the `counter` column of the row with this key (its primary key), or insert it at 1,
    and return the count: an upsert, whose row lock makes two at once count one after the other."""
    column = counter.property.columns[0]
    table = column.table
    statement = (
        dialect_insert(session)(table)
        .values(**key, **{column.name: 1})
        .on_conflict_do_update(index_elements=[table.c[name] for name in key], set_={column.name: column + 1})
        .returning(column)
    )
    return session.execute(statement).scalar_one()


def lock_until_commit(session: Session, name: str) -> None:
    """From here to commit, transactions that lock the same `name` run one after another, so a count
    and the insert it allows cannot interleave with another's.

    PostgreSQL: a transaction-level advisory lock. SQLite needs none: every transaction starts with
    BEGIN IMMEDIATE (above), so only one writes at a time from its first statement on.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))
