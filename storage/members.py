"""The members of the workspace: the member directory."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import dialect_insert
from storage.models import Member

ROWS_PER_STATEMENT = 500  # far under SQLite's limit of bound parameters


class Person(Protocol):
    """What Slack says about a member (bot.core.slack_users.SlackUser)."""

    id: str
    name: str
    is_bot: bool
    deleted: bool
    is_guest: bool


def remember(session: Session, people: Iterable[Person], now: datetime) -> None:
    """Insert or refresh members; safe when two transactions see the same new person at once."""
    # One row per person, in a fixed order, so concurrent refreshes lock rows in the same order.
    rows = [
        {"user_id": p.id, "name": p.name, "is_bot": p.is_bot, "deleted": p.deleted, "is_guest": p.is_guest}
        for p in sorted({p.id: p for p in people}.values(), key=lambda p: p.id)
    ]
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        statement = dialect_insert(session)(Member).values(
            [{**row, "first_seen_at": now} for row in rows[start : start + ROWS_PER_STATEMENT]]
        )
        refreshed = {column: statement.excluded[column] for column in ("name", "is_bot", "deleted", "is_guest")}
        session.execute(statement.on_conflict_do_update(index_elements=[Member.user_id], set_=refreshed))


def states(session: Session, user_ids: Iterable[str]) -> dict[str, Member]:
    """What the member directory knows of these people (those it knows)."""
    ids = sorted(set(user_ids))
    found: dict[str, Member] = {}
    for start in range(0, len(ids), ROWS_PER_STATEMENT):
        query = select(Member).where(Member.user_id.in_(ids[start : start + ROWS_PER_STATEMENT]))
        found.update((member.user_id, member) for member in session.scalars(query))
    return found


def active_people(session: Session, *, include_guests: bool) -> set[str]:
    """Every member who counts as one of the team: not a bot, not deactivated, not a guest unless `include_guests`."""
    query = select(Member.user_id).where(~Member.is_bot, ~Member.deleted)
    if not include_guests:
        query = query.where(~Member.is_guest)
    return set(session.scalars(query))
