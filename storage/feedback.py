"""Feedback: one row per request (or unrequested piece of feedback), and the queries on it.

The feedback text itself is not kept here: it exists only in the DM that delivers it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime

from sqlalchemy import Index, String, Text, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Hideable, Range, dialect_insert
from storage.models import Base


class Feedback(Hideable, Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    about_id: Mapped[str] = mapped_column(String(32))  # who it is for: the requester, or the person given it
    # Who was asked, or who gave it; None once it is answered anonymously, so no table knows the giver.
    giver_id: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(Text, default="")  # safe mrkdwn, see bot.core.text
    requested: Mapped[bool]
    status: Mapped[str] = mapped_column(String(10))  # open | answered | expired
    anonymous: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_feedback_status_created_at", "status", "created_at"),
        Index("ix_feedback_giver_id_status", "giver_id", "status"),
        Index("ix_feedback_about_id_status", "about_id", "status"),
    )


class AnonymousFeedbackCount(Base):
    """How much anonymous unrequested feedback someone gave on a day, under a key that names
    nobody to whoever reads the database alone (see bot.feedback.rules.anonymous_giver_key)."""

    __tablename__ = "anonymous_feedback_counts"

    day: Mapped[date] = mapped_column(primary_key=True)
    giver_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    given: Mapped[int]


def count_anonymous_given(session: Session, day: date, giver_key: str) -> int:
    """Count one more anonymous feedback under this key on this day, and return the day's count so
    far. An upsert: two at once are both counted. Earlier days are forgotten."""
    forget_anonymous_counts(session, before=day)
    counts = AnonymousFeedbackCount.__table__
    statement = (
        dialect_insert(session)(counts)
        .values(day=day, giver_key=giver_key, given=1)
        .on_conflict_do_update(index_elements=[counts.c.day, counts.c.giver_key], set_={"given": counts.c.given + 1})
        .returning(counts.c.given)
    )
    return session.execute(statement).scalar_one()


def forget_anonymous_counts(session: Session, before: date) -> None:
    session.execute(delete(AnonymousFeedbackCount).where(AnonymousFeedbackCount.day < before))


def mark_answered(session: Session, request_id: int, giver_id: str | None, anonymous: bool, now: datetime) -> bool:
    """Close an open request; False if it was answered or expired meanwhile (a second modal, a race)."""
    answered = session.execute(
        update(Feedback)
        .where(Feedback.id == request_id, Feedback.status == "open")
        .values(status="answered", answered_at=now, giver_id=giver_id, anonymous=anonymous)
    )
    return answered.rowcount == 1


def open_requests_created_before(session: Session, moment: datetime, *, unreminded: bool = False) -> Sequence[Feedback]:
    query = select(Feedback).where(Feedback.status == "open", Feedback.created_at <= moment)
    if unreminded:
        query = query.where(Feedback.reminded_at.is_(None))
    # Locked, so an answer arriving meanwhile waits for (and then scrubs) a reminder, or is seen as answered.
    return session.scalars(query.order_by(Feedback.id).with_for_update()).all()


def waiting_on(session: Session, user_id: str) -> Sequence[Feedback]:
    query = select(Feedback).where(Feedback.giver_id == user_id, Feedback.status == "open")
    return session.scalars(query.order_by(Feedback.created_at, Feedback.id)).all()


def open_requests_of(session: Session, user_id: str) -> Sequence[Feedback]:
    query = select(Feedback).where(Feedback.about_id == user_id, Feedback.status == "open")
    return session.scalars(query.order_by(Feedback.created_at, Feedback.id)).all()


def feedback_since(session: Session, since: datetime | None) -> Iterator[Feedback]:
    query = select(Feedback).order_by(Feedback.created_at, Feedback.id)
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    return session.scalars(query.execution_options(yield_per=1000))


def feedback_counts(session: Session, range_: Range) -> tuple[int, int]:
    """(feedback requests asked, feedback answers given) in the range. Counts only, never text."""
    start, end = range_
    asked = select(func.count()).where(Feedback.requested, Feedback.created_at >= start, Feedback.created_at < end)
    answered = select(func.count()).where(Feedback.answered_at >= start, Feedback.answered_at < end)
    return session.scalar(asked) or 0, session.scalar(answered) or 0


def overdue_feedback_requests(session: Session, asked_before: datetime) -> list[datetime]:
    """When each still-unanswered, unexpired feedback request asked before `asked_before` was asked."""
    query = select(Feedback.created_at).where(
        Feedback.requested, Feedback.status == "open", Feedback.created_at < asked_before
    )
    return list(session.scalars(query.order_by(Feedback.created_at)))
