"""Alembic, driven from code: `kaizen migrate`, `kaizen run` on SQLite, and the tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"  # env.py takes the tables from bot.features
# The revisions were renamed to follow the order they were made in; a database migrated before
# that still names its revision by the old id.
RENAMED_REVISIONS = {
    "0001": "0001_initial",
    "0003": "0002_ideas",
    "0005": "0003_reaction_kudos",
    "0002": "0004_feedback",
    "0004": "0005_tips",
}


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    _rename_old_revisions(engine)
    command.upgrade(alembic_config(engine), revision)


def schema_revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """The revisions the database is at, and those `kaizen migrate` would bring it to; reads only."""
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, set(head_revisions())


def schema_problem(engine: Engine) -> str | None:
    """None when the database is at the revision this code's migrations end at; else where it is."""
    current, head = schema_revisions(engine)
    if current == head:
        return None
    at = ", ".join(sorted(current)) or "no revision"
    return f"database schema at {at}, this Kaizen needs {', '.join(sorted(head))}: run `kaizen migrate`"


@cache
def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def _rename_old_revisions(engine: Engine) -> None:
    if not inspect(engine).has_table("alembic_version"):
        return
    with engine.begin() as connection:
        for old, new in RENAMED_REVISIONS.items():
            connection.execute(
                text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"), {"new": new, "old": old}
            )
