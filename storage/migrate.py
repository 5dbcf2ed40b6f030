"""Alembic, driven from code: `kaizen migrate`, `kaizen run` on SQLite, and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData

MIGRATIONS = Path(__file__).parent / "migrations"


def target_metadata() -> MetaData:
    """The metadata of every table; importing the feature modules registers their models."""
    import storage.feedback  # noqa: F401
    import storage.ideas  # noqa: F401
    import storage.kudos  # noqa: F401
    import storage.tips  # noqa: F401
    from storage.models import Base

    return Base.metadata


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)
