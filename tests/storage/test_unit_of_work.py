from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from storage.kudos import Kudos

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


def a_kudos() -> Kudos:
    return Kudos(
        batch_key="b", giver_id="U1", recipient_id="U2", message="m", values="", source="command", created_at=NOW
    )


def count(ctx) -> int:
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Kudos))


def test_rolls_back_uncommitted_work_by_default(ctx):
    with ctx.session_factory() as session:
        session.add(a_kudos())
        session.flush()
    assert count(ctx) == 0


def test_rolls_back_on_error(ctx):
    with pytest.raises(RuntimeError), ctx.transaction() as session:
        session.add(a_kudos())
        session.flush()
        raise RuntimeError("boom")
    assert count(ctx) == 0


def test_commits_and_reads_back_aware_utc(ctx):
    with ctx.transaction() as session:
        session.add(a_kudos())
    with ctx.session_factory() as session:
        stored = session.scalars(select(Kudos)).one()
    assert stored.created_at == NOW and stored.created_at.tzinfo is not None
