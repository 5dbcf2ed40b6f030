"""Lessons the team learns from customers, and the Useful votes that make the best of them tips."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, and_, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Range
from storage.models import Base


class Lesson(Base):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)  # the lesson's number, as people see it
    text: Mapped[str] = mapped_column(Text)  # Slack-safe mrkdwn, see bot.core.text
    theme: Mapped[str | None] = mapped_column(String(50))  # one of the tip themes
    author_id: Mapped[str | None] = mapped_column(String(32))  # None for an anonymous lesson
    created_at: Mapped[datetime]
    # The tip it became, once (by votes, or by an admin: promoted_by).
    tip_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id"), unique=True)
    promoted_at: Mapped[datetime | None]
    promoted_by: Mapped[str | None] = mapped_column(String(32))  # None when the votes promoted it

    __table_args__ = (
        Index("ix_lessons_created_at", "created_at"),
        Index("ix_lessons_author_id", "author_id"),
        Index("ix_lessons_promoted_at", "promoted_at"),
    )

    @property
    def anonymous(self) -> bool:
        return self.author_id is None


class LessonVote(Base):
    """One person finding one lesson useful."""

    __tablename__ = "lesson_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    voter_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("lesson_id", "voter_id", name="uq_lesson_votes_lesson_id_voter_id"),)


def _vote_count():
    return (
        select(func.count()).where(LessonVote.lesson_id == Lesson.id).correlate(Lesson).scalar_subquery().label("votes")
    )


def lock_lesson(session: Session, lesson_id: int) -> Lesson | None:
    """The lesson, locked until commit, so its votes and its promotion happen one at a time."""
    return session.scalar(select(Lesson).where(Lesson.id == lesson_id).with_for_update())


def find_vote(session: Session, lesson_id: int, voter_id: str) -> LessonVote | None:
    return session.scalar(select(LessonVote).where(LessonVote.lesson_id == lesson_id, LessonVote.voter_id == voter_id))


def vote_count(session: Session, lesson_id: int) -> int:
    return session.scalar(select(func.count()).where(LessonVote.lesson_id == lesson_id)) or 0


def newest(session: Session, limit: int, author_id: str | None = None) -> tuple[list[tuple[Lesson, int]], int]:
    """The newest lessons (everyone's, or one author's) with their votes, and how many there are in all."""
    mine = [Lesson.author_id == author_id] if author_id else []
    query = select(Lesson, _vote_count()).where(*mine).order_by(Lesson.id.desc()).limit(limit)
    total = session.scalar(select(func.count()).select_from(Lesson).where(*mine)) or 0
    return [(lesson, votes) for lesson, votes in session.execute(query)], total


def lessons_since(session: Session, since: datetime | None) -> Iterator[tuple[Lesson, int]]:
    query = select(Lesson, _vote_count()).order_by(Lesson.created_at, Lesson.id)
    if since is not None:
        query = query.where(Lesson.created_at >= since)
    yield from session.execute(query.execution_options(yield_per=1000))


def promoted_in(session: Session, range_: Range) -> list[Lesson]:
    start, end = range_
    query = select(Lesson).where(Lesson.promoted_at >= start, Lesson.promoted_at < end)
    return list(session.scalars(query.order_by(Lesson.promoted_at, Lesson.id)))


def lesson_counts_by_author(session: Session, range_: Range) -> dict[str | None, tuple[int, int]]:
    """(lessons shared, lessons promoted to tips) in the range, by author (None: the anonymous ones)."""
    start, end = range_
    shared = and_(Lesson.created_at >= start, Lesson.created_at < end)
    promoted = and_(Lesson.promoted_at >= start, Lesson.promoted_at < end)
    query = (
        select(Lesson.author_id, func.count().filter(shared), func.count().filter(promoted))
        .where(or_(shared, promoted))
        .group_by(Lesson.author_id)
    )
    return {author: (n_shared, n_promoted) for author, n_shared, n_promoted in session.execute(query)}
