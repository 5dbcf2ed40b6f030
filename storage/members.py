"""The people Kaizen has seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.db import dialect_insert
from storage.models import Member


def remember(session: Session, user_id: str, name: str, is_bot: bool, deleted: bool, now: datetime) -> None:
    """Insert or refresh a member; safe when two requests see the same new person at once."""
    values = {"name": name, "is_bot": is_bot, "deleted": deleted}
    statement = dialect_insert(session)(Member).values(user_id=user_id, first_seen_at=now, **values)
    session.execute(statement.on_conflict_do_update(index_elements=[Member.user_id], set_=values))
