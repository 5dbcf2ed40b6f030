"""Mentoring: the skills people offer and want, the pairs each round made, and what became of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Index,
    String,
    UniqueConstraint,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Range, dialect_insert
from storage.models import Base, Member

OFFER, WANT = "offer", "want"


class MentorSkill(Base):
    """One skill one person offers to teach, or wants to learn."""

    __tablename__ = "mentor_skills"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(5), primary_key=True)  # offer | want
    skill: Mapped[str] = mapped_column(String(40), primary_key=True)
    added_at: Mapped[datetime]
    # A want: when its learner was told why no mentor could be found, so they hear it once.
    told_unmatched_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_mentor_skills_role_skill", "role", "skill"),)


class MentorPair(Base):
    """A mentor and a learner matched for one round, on one skill."""

    __tablename__ = "mentor_pairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    round: Mapped[date] = mapped_column(Date)  # the Monday the round started
    mentor_id: Mapped[str] = mapped_column(String(32), index=True)
    learner_id: Mapped[str] = mapped_column(String(32), index=True)
    skill: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    follow_up_on: Mapped[date] = mapped_column(Date)  # the day "Did you meet?" is asked
    followed_up_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(String(10))  # met | not-yet | not-going
    answered_by: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("round", "learner_id"),
        Index("ix_mentor_pairs_follow_up_on", "follow_up_on", "followed_up_at"),
    )


class MentorRound(Base):
    """A round that was matched, even one that paired nobody: the latest is the round under way."""

    __tablename__ = "mentor_rounds"

    round: Mapped[date] = mapped_column(Date, primary_key=True)  # the Monday it started
    matched_at: Mapped[datetime]  # first matched (a forced run may pair newcomers later)


def skills_of(session: Session, user_id: str, role: str) -> list[str]:
    query = select(MentorSkill.skill).where(MentorSkill.user_id == user_id, MentorSkill.role == role)
    return list(session.scalars(query.order_by(MentorSkill.skill)))


def add_skills(session: Session, user_id: str, role: str, skills: list[str], now: datetime) -> list[str]:
    """Add the skills not there yet; returns those. The same request twice at once adds them once,
    and the second finds them there."""
    if not skills:
        return []
    rows = [{"user_id": user_id, "role": role, "skill": skill, "added_at": now} for skill in skills]
    statement = (
        dialect_insert(session)(MentorSkill)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[MentorSkill.user_id, MentorSkill.role, MentorSkill.skill])
        .returning(MentorSkill.skill)
    )
    added = set(session.scalars(statement))
    return [skill for skill in skills if skill in added]


def set_skills(session: Session, user_id: str, role: str, skills: list[str], now: datetime) -> None:
    """Make `skills` the whole list; skills kept keep their history."""
    session.execute(
        delete(MentorSkill).where(
            MentorSkill.user_id == user_id, MentorSkill.role == role, MentorSkill.skill.not_in(skills)
        )
    )
    add_skills(session, user_id, role, skills, now)


def remove_skills(session: Session, user_id: str, skills: list[str] | None = None) -> int:
    """Remove these skills (None: all) from both of a person's lists; how many rows went."""
    statement = delete(MentorSkill).where(MentorSkill.user_id == user_id)
    if skills is not None:
        statement = statement.where(MentorSkill.skill.in_(skills))
    return session.execute(statement).rowcount


def _active(role: str) -> ColumnElement[bool]:
    """The skills of `role` of everyone but those Kaizen knows are deactivated: they offer and want nothing."""
    gone = select(Member.user_id).where(Member.deleted)
    return and_(MentorSkill.role == role, MentorSkill.user_id.not_in(gone))


def offering(session: Session, skill: str) -> list[str]:
    query = select(MentorSkill.user_id).where(_active(OFFER), MentorSkill.skill == skill)
    return list(session.scalars(query.order_by(MentorSkill.user_id)))


def everyone_skills(session: Session, role: str) -> dict[str, set[str]]:
    """Person → skills, for everyone but those Kaizen knows are deactivated."""
    query = select(MentorSkill.user_id, MentorSkill.skill).where(_active(role))
    skills: dict[str, set[str]] = {}
    for user_id, skill in session.execute(query.order_by(MentorSkill.user_id, MentorSkill.skill)):
        skills.setdefault(user_id, set()).add(skill)
    return skills


def untold_unpaired(session: Session, round_: date, now: datetime) -> set[str]:
    """The learners without a mentor this round with a want (added by `now`) they were never told about;
    deactivated people left out."""
    return set(session.scalars(select(MentorSkill.user_id).where(_untold_unpaired(round_, now)).distinct()))


def mark_unpaired_told(session: Session, round_: date, now: datetime) -> None:
    """Those learners' wants: told now (a statement whatever their number, no list of them)."""
    session.execute(update(MentorSkill).where(_untold_unpaired(round_, now)).values(told_unmatched_at=now))


def _untold_unpaired(round_: date, now: datetime) -> ColumnElement[bool]:
    # added_at: a want that comes in while the job runs is told about in its next round, not marked told unsaid.
    paired = select(MentorPair.id).where(MentorPair.round == round_, MentorPair.learner_id == MentorSkill.user_id)
    return and_(_active(WANT), MentorSkill.told_unmatched_at.is_(None), MentorSkill.added_at <= now, ~paired.exists())


def wants_not_offered(session: Session) -> list[tuple[str, str]]:
    """(person, skill) for each skill someone wants and nobody offers (leaving out deactivated people)."""
    offered = select(MentorSkill.skill).where(_active(OFFER))
    query = select(MentorSkill.user_id, MentorSkill.skill).where(_active(WANT), MentorSkill.skill.not_in(offered))
    return [(user, skill) for user, skill in session.execute(query)]


def anyone_taking_part(session: Session) -> bool:
    return session.scalar(select(MentorSkill.user_id).limit(1)) is not None


def pairs_of_round(session: Session, round_: date) -> Sequence[MentorPair]:
    return session.scalars(select(MentorPair).where(MentorPair.round == round_).order_by(MentorPair.id)).all()


def add_pairs(session: Session, round_: date, pairs: list[dict[str, Any]], now: datetime) -> list[MentorPair]:
    """Write a round's new pairs (mentor_id, learner_id, skill, follow_up_on) in one statement, without
    an ORM object each; return them as stored, with their IDs."""
    if not pairs:
        return []
    session.execute(insert(MentorPair), [{**pair, "round": round_, "created_at": now} for pair in pairs])
    learners = {pair["learner_id"] for pair in pairs}
    return [pair for pair in pairs_of_round(session, round_) if pair.learner_id in learners]


def round_before(session: Session, round_: date) -> date | None:
    return session.scalar(select(func.max(MentorPair.round)).where(MentorPair.round < round_))


def round_matched(session: Session, round_: date, now: datetime) -> None:
    insert = dialect_insert(session)(MentorRound).values(round=round_, matched_at=now)
    session.execute(insert.on_conflict_do_nothing(index_elements=[MentorRound.round]))


def latest_round(session: Session) -> date | None:
    """The round under way: the latest matched, whether or not it paired anyone."""
    return session.scalar(select(func.max(MentorRound.round)))


def pairs_of(session: Session, user_id: str, round_: date) -> Sequence[MentorPair]:
    query = select(MentorPair).where(
        MentorPair.round == round_, or_(MentorPair.mentor_id == user_id, MentorPair.learner_id == user_id)
    )
    return session.scalars(query.order_by(MentorPair.id)).all()


def due_follow_ups(session: Session, today: date) -> Sequence[MentorPair]:
    query = select(MentorPair).where(MentorPair.follow_up_on <= today, MentorPair.followed_up_at.is_(None))
    return session.scalars(query.order_by(MentorPair.id).with_for_update()).all()


def lock_pair(session: Session, pair_id: int) -> MentorPair | None:
    return session.scalar(select(MentorPair).where(MentorPair.id == pair_id).with_for_update())


def pairs_in(session: Session, range_: Range) -> Sequence[MentorPair]:
    """The pairs made in the range, or that answered in it."""
    start, end = range_
    made = and_(MentorPair.created_at >= start, MentorPair.created_at < end)
    answered = and_(MentorPair.answered_at >= start, MentorPair.answered_at < end)
    return session.scalars(select(MentorPair).where(or_(made, answered)).order_by(MentorPair.id)).all()
