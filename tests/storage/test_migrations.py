import hashlib
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, make_url, text

from bot.features import tables
from storage.db import make_engine
from storage.migrate import alembic_config, upgrade
from tests.conftest import POSTGRES_URL


def test_upgrade_empty_sqlite_database_to_head_without_drift(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), tables())
        assert diff == []
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert set(inspect(engine).get_table_names()) >= {t.name for t in tables().sorted_tables}


def test_postgresql_database_migrated_to_head_without_drift(postgres_url):
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), tables())
    engine.dispose()
    assert diff == []


def test_upgrade_twice_is_harmless(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def test_revision_ids_follow_the_order_the_migrations_were_made_in():
    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    chain = [revision.revision for revision in reversed(list(script.walk_revisions()))]
    assert chain == sorted(chain)
    assert [int(revision.split("_")[0]) for revision in chain] == list(range(1, len(chain) + 1))


def test_a_database_migrated_under_the_old_revision_ids_keeps_upgrading(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0005_tips")
    with engine.begin() as connection:  # as the last release left it: the tips migration was "0004"
        connection.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), tables())
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert diff == [] and version == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """An empty database of each kind, for a migration to run on from the start."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    request.getfixturevalue("postgres_url")  # skips when PostgreSQL is unreachable
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"kaizen_migration_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_unmatched_agents_kept_by_plain_sha256_are_rekeyed_beyond_reversing(empty_database):
    upgrade(empty_database, "0013_idea_impact")
    agents = ["carla@example.com", "carla@example.com", "dan@example.com"]
    plain = [hashlib.sha256(agent.encode()).hexdigest() for agent in agents]  # what a staff directory reverses
    with empty_database.begin() as connection:
        for ticket, old in enumerate(plain):
            connection.execute(
                text(
                    "INSERT INTO compliments (desk, ticket_id, rating, agent_email_hash, received_at) "
                    "VALUES ('zendesk', :ticket, 'good', :old, '2026-11-18 09:00:00')"
                ),
                {"ticket": str(ticket), "old": old},
            )

    upgrade(empty_database)

    with empty_database.connect() as connection:
        rekeyed = connection.scalars(text("SELECT agent_email_hash FROM compliments ORDER BY ticket_id")).all()
    assert not set(rekeyed) & set(plain)
    assert rekeyed[0] == rekeyed[1] != rekeyed[2]  # still one agent and another, for the digest's count


def test_the_mentoring_rounds_already_matched_are_kept_as_matched(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'rounds.db'}")
    upgrade(engine, "0013_idea_impact")
    pair = (
        "INSERT INTO mentor_pairs (round, mentor_id, learner_id, skill, created_at, follow_up_on) "
        "VALUES (:round, 'UMAYA', :learner, 'billing', :at, '2026-12-01')"
    )
    with engine.begin() as connection:
        for round_, learner, at in [
            ("2026-11-16", "UANA", "2026-11-16 09:00:00"),
            ("2026-11-16", "UBEN", "2026-11-18 09:00:00"),  # a forced run paired a newcomer later
            ("2026-11-30", "UANA", "2026-11-30 09:00:00"),
        ]:
            connection.execute(text(pair), {"round": round_, "learner": learner, "at": at})
    upgrade(engine)
    with engine.connect() as connection:
        rounds = connection.execute(text("SELECT round, matched_at FROM mentor_rounds ORDER BY round")).all()
    assert [tuple(map(str, row)) for row in rounds] == [
        ("2026-11-16", "2026-11-16 09:00:00"),
        ("2026-11-30", "2026-11-30 09:00:00"),
    ]


def test_a_migration_that_rebuilds_a_table_on_sqlite_keeps_the_rows_that_point_at_it(tmp_path):
    # SQLite alters a table by copying it and dropping the old one; with foreign keys on, that DROP
    # cascades to every row pointing at it (0013 rebuilt `ideas`, and took each vote and status change).
    engine = make_engine(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    upgrade(engine, "0012_goals")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ideas (id, title, description, category, author_id, status, created_at) "
                "VALUES (1, 'Pre-fill the refund form', '', 'process', 'UANA', 'new', '2026-11-16 09:00:00')"
            )
        )
        connection.execute(
            text("INSERT INTO idea_votes (idea_id, voter_id, created_at) VALUES (1, 'UBEN', '2026-11-16 10:00:00')")
        )
        connection.execute(
            text(
                "INSERT INTO idea_status_changes (idea_id, changed_by, from_status, to_status, note, changed_at) "
                "VALUES (1, 'ULEAD', 'new', 'planned', '', '2026-11-17 09:00:00')"
            )
        )

    upgrade(engine)

    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM idea_votes")) == 1
        assert connection.scalar(text("SELECT count(*) FROM idea_status_changes")) == 1
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1  # on again for the app's own work
