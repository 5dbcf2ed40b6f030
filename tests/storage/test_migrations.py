from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from storage.db import make_engine
from storage.migrate import target_metadata, upgrade


def test_upgrade_empty_sqlite_database_to_head_without_drift(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), target_metadata())
        assert diff == []
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert set(inspect(engine).get_table_names()) >= {t.name for t in target_metadata().sorted_tables}


def test_postgresql_database_migrated_to_head_without_drift(postgres_url):
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), target_metadata())
    engine.dispose()
    assert diff == []


def test_upgrade_twice_is_harmless(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
