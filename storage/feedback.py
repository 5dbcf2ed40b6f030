"""Feedback: one row per request (or unrequested piece of feedback), and the queries on it.

The feedback text itself is not kept here: it exists only in the DM that delivers it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import astuple, dataclass
from datetime import date, datetime

from sqlalchemy import Index, String, Text, and_, delete, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Hideable, Range, count_one_more
from storage.models import Base


class Feedback(Hideable, Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    about_id: Mapped[str] = mapped_column(String(32))  # who it is for: the requester, or the person given it
    # Who was asked, or who gave it; None once it is answered anonymously, so no table knows the giver.
    giver_id: Mapped[str | None] = mapped_column(String(32))
    # The requests one `/feedback request` made share it; None for unrequested feedback.
    batch_key: Mapped[str | None] = mapped_column(String(200))
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
        Index("ix_feedback_batch_key", "batch_key"),
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
    return count_one_more(session, AnonymousFeedbackCount.given, day=day, giver_key=giver_key)


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


@dataclass(frozen=True)
class AskedTogether:
    """Some of the requests one `/feedback request` made (those still open, or expiring now)."""

    requests: list[Feedback]
    asked: int  # everyone that /feedback request asked
    # Someone it asked answered anonymously: then who the requests are with must never be shown,
    # only how many, or the requester could tell who answered by who is left.
    anonymous: bool

    @property
    def topic(self) -> str:
        return self.requests[0].topic

    @property
    def asked_at(self) -> datetime:
        return self.requests[0].created_at


def asked_together(session: Session, requests: Sequence[Feedback]) -> list[AskedTogether]:
    """Requests grouped by the `/feedback request` that made them, in the order given."""
    grouped: dict[str | None, list[Feedback]] = defaultdict(list)
    for request in requests:
        grouped[request.batch_key].append(request)
    query = (
        select(Feedback.batch_key, func.count(), func.count().filter(Feedback.anonymous))
        .where(Feedback.batch_key.in_(grouped))
        .group_by(Feedback.batch_key)
    )
    batches = {key: (asked, anonymous > 0) for key, asked, anonymous in session.execute(query)}
    return [AskedTogether(together, *batches[key]) for key, together in grouped.items()]


def anonymous_batches(session: Session) -> set[str]:
    """The keys of the request batches someone answered anonymously."""
    query = select(Feedback.batch_key).where(Feedback.anonymous, Feedback.batch_key.is_not(None)).distinct()
    return set(session.scalars(query))


def feedback_since(session: Session, since: datetime | None) -> Iterator[Feedback]:
    """Oldest first, the requests of one batch together (two batches can be made at the same moment)."""
    query = select(Feedback).order_by(Feedback.created_at, Feedback.batch_key, Feedback.id)
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    return session.scalars(query.execution_options(yield_per=1000))


@dataclass(frozen=True)
class FeedbackCounts:
    asked: int = 0  # feedback requests made
    answered: int = 0  # answers to requests given
    unrequested: int = 0  # feedback given that nobody asked for

    def __add__(self, other: FeedbackCounts) -> FeedbackCounts:
        return FeedbackCounts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def _counts(range_: Range):
    """What happened to feedback in the range, as three counts, and the rows they come from."""
    start, end = range_
    made = and_(Feedback.created_at >= start, Feedback.created_at < end)
    answered = and_(Feedback.answered_at >= start, Feedback.answered_at < end)
    counts = (
        func.count().filter(Feedback.requested, made),
        func.count().filter(Feedback.requested, answered),
        func.count().filter(~Feedback.requested, made),
    )
    return counts, or_(made, answered)


def feedback_counts(session: Session, range_: Range) -> FeedbackCounts:
    """What happened to feedback in the range. Counts only, never text."""
    counts, rows = _counts(range_)
    return FeedbackCounts(*session.execute(select(*counts).where(rows)).one())


def feedback_counts_by_person(session: Session, range_: Range) -> dict[str, FeedbackCounts]:
    """The same, for each person it was for (who asked, or was given it unasked)."""
    counts, rows = _counts(range_)
    query = select(Feedback.about_id, *counts).where(rows).group_by(Feedback.about_id)
    return {about: FeedbackCounts(*numbers) for about, *numbers in session.execute(query)}


@dataclass(frozen=True)
class OverdueRequest:
    about_id: str  # who asked
    giver_id: str  # who was asked
    batch_key: str | None
    asked_at: datetime


def overdue_feedback_requests(session: Session, asked_before: datetime) -> list[OverdueRequest]:
    """The still-unanswered, unexpired feedback requests asked before `asked_before`, oldest first."""
    query = select(Feedback.about_id, Feedback.giver_id, Feedback.batch_key, Feedback.created_at).where(
        Feedback.requested, Feedback.status == "open", Feedback.created_at < asked_before
    )
    return [OverdueRequest(*row) for row in session.execute(query.order_by(Feedback.created_at, Feedback.id))]
