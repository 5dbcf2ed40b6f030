"""The people Kaizen has seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Member


def remember(session: Session, user_id: str, name: str, is_bot: bool, deleted: bool, now: datetime) -> None:
    """Insert or refresh a member; safe when two requests see the same new person at once."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Member).values(user_id=user_id, name=name, is_bot=is_bot, deleted=deleted, first_seen_at=now)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[Member.user_id], set_={"name": name, "is_bot": is_bot, "deleted": deleted}
        )
    )
