"""Growth goals: what each person wants to get better at, its milestones, and the progress they log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, raiseload, relationship

from storage.db import Range
from storage.models import Base

OPEN, DONE, DROPPED = "open", "done", "dropped"


class Goal(Base):
    """One person's goal. Private to its owner unless `shared` (with the leads)."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(32))
    number: Mapped[int]  # the owner's goal 1, 2, 3…: stable, a dropped goal keeps its number
    title: Mapped[str] = mapped_column(Text)  # safe mrkdwn, see bot.core.text
    why: Mapped[str] = mapped_column(Text, default="")
    target_date: Mapped[date | None] = mapped_column(Date)
    shared: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default=OPEN)  # open | done | dropped
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]  # done or dropped
    milestones: Mapped[list[GoalMilestone]] = relationship(
        order_by="GoalMilestone.position", lazy="selectin", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("owner_id", "number"),
        Index("ix_goals_status_owner_id", "status", "owner_id"),
        Index("ix_goals_closed_at", "closed_at"),
    )


class GoalMilestone(Base):
    __tablename__ = "goal_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"))
    position: Mapped[int]  # 1 to 5, in the order they were written
    text: Mapped[str] = mapped_column(Text)  # safe mrkdwn
    reached_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("goal_id", "position"),
        Index("ix_goal_milestones_reached_at", "reached_at"),
    )


class GoalProgress(Base):
    """Progress logged on a goal at a check-in: a short note, and the milestones ticked with it."""

    __tablename__ = "goal_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text, default="")  # safe mrkdwn; empty when only milestones were ticked
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_goal_progress_goal_id", "goal_id", "created_at"),
        Index("ix_goal_progress_created_at", "created_at"),
    )


@dataclass(frozen=True)
class Progress:
    """How much progress a goal has seen, and the latest."""

    count: int
    latest: GoalProgress | None


NO_PROGRESS = Progress(0, None)


@dataclass(frozen=True)
class Milestones:
    """How many milestones a goal has, and how many are reached."""

    reached: int
    total: int

    @classmethod
    def of(cls, goal: Goal) -> Milestones:
        """From a goal whose milestones are loaded (one person's goals: goals_of, by_number)."""
        return cls(sum(1 for milestone in goal.milestones if milestone.reached_at), len(goal.milestones))


NO_MILESTONES = Milestones(0, 0)


# --- one person's goals ---------------------------------------------------------------------------
def goals_of(session: Session, owner_id: str, status: str | None = None) -> list[Goal]:
    query = select(Goal).where(Goal.owner_id == owner_id)
    if status:
        query = query.where(Goal.status == status)
    return list(session.scalars(query.order_by(Goal.number)))


def next_number(session: Session, owner_id: str) -> int:
    return (session.scalar(select(func.max(Goal.number)).where(Goal.owner_id == owner_id)) or 0) + 1


def by_number(session: Session, owner_id: str, number: int) -> Goal | None:
    query = select(Goal).where(Goal.owner_id == owner_id, Goal.number == number).with_for_update()
    return session.scalar(query)


def lock_goal(session: Session, goal_id: int) -> Goal | None:
    """The goal, locked until commit, so a check-in and a Done on it happen one after the other."""
    return session.scalar(select(Goal).where(Goal.id == goal_id).with_for_update())


def progress_of(session: Session, *where: ColumnElement[bool]) -> dict[int, Progress]:
    """The progress of the goals that match `where` (`Goal.owner_id == "U1"`): each one's count and
    its latest (goals with none are left out). A join, not a list of IDs, however many goals match."""
    counts = (
        select(GoalProgress.goal_id, func.count().label("n"), func.max(GoalProgress.id).label("latest"))
        .join(Goal, Goal.id == GoalProgress.goal_id)
        .where(*where)
        .group_by(GoalProgress.goal_id)
        .subquery()
    )
    query = (
        select(counts.c.goal_id, counts.c.n, GoalProgress)
        .select_from(counts)
        .join(GoalProgress, GoalProgress.id == counts.c.latest)
    )
    return {goal_id: Progress(n, latest) for goal_id, n, latest in session.execute(query)}


# --- everyone's --------------------------------------------------------------------------------------
def open_goals(session: Session) -> list[Goal]:
    """Everyone's open goals, without their milestones (milestone_counts counts them): loading the
    milestones of 30,000 goals one object each was most of the weekly check-in's time."""
    query = select(Goal).where(Goal.status == OPEN).options(raiseload(Goal.milestones))
    return list(session.scalars(query.order_by(Goal.owner_id, Goal.number)))


def milestone_counts(session: Session, *where: ColumnElement[bool]) -> dict[int, Milestones]:
    """The milestones of the goals that match `where`, counted (goals with none are left out)."""
    query = (
        select(GoalMilestone.goal_id, func.count(GoalMilestone.reached_at), func.count())
        .join(Goal, Goal.id == GoalMilestone.goal_id)
        .where(*where)
        .group_by(GoalMilestone.goal_id)
    )
    return {goal_id: Milestones(reached, total) for goal_id, reached, total in session.execute(query)}


def progressed_since(session: Session, since: datetime) -> set[int]:
    """The goals with progress logged since `since`."""
    return set(session.scalars(select(GoalProgress.goal_id).where(GoalProgress.created_at >= since).distinct()))


def milestones_reached_in(session: Session, range_: Range) -> list[tuple[GoalMilestone, Goal]]:
    start, end = range_
    query = (
        select(GoalMilestone, Goal)
        .join(Goal, Goal.id == GoalMilestone.goal_id)
        .where(GoalMilestone.reached_at >= start, GoalMilestone.reached_at < end)
        .order_by(GoalMilestone.reached_at, GoalMilestone.id)
    )
    return [(milestone, goal) for milestone, goal in session.execute(query)]


def goals_done_in(session: Session, range_: Range) -> list[Goal]:
    start, end = range_
    query = select(Goal).where(Goal.status == DONE, Goal.closed_at >= start, Goal.closed_at < end)
    return list(session.scalars(query.order_by(Goal.closed_at, Goal.id)))


def people_with_progress_in(session: Session, range_: Range) -> set[str]:
    """Who logged progress on a goal of theirs in the range."""
    start, end = range_
    query = (
        select(Goal.owner_id)
        .join(GoalProgress, GoalProgress.goal_id == Goal.id)
        .where(GoalProgress.created_at >= start, GoalProgress.created_at < end)
        .distinct()
    )
    return set(session.scalars(query))


# --- shared goals (the leads') ----------------------------------------------------------------------
def anything_shared(session: Session) -> bool:
    return session.scalar(select(Goal.id).where(Goal.shared).limit(1)) is not None


@dataclass(frozen=True)
class SharedGoal:
    """A shared goal as the lead digest names it: without its milestones and progress, so a digest about
    thousands of goals reads rows, not objects."""

    id: int
    owner_id: str
    number: int
    title: str  # safe mrkdwn
    status: str
    created_at: datetime


@dataclass(frozen=True)
class WeekProgress:
    """How much progress a goal saw in a range, and the latest thing said."""

    count: int  # check-ins with progress
    latest_note: str  # the latest note among them ("" when they only ticked milestones)


_SHARED_GOAL = (Goal.id, Goal.owner_id, Goal.number, Goal.title, Goal.status, Goal.created_at)


def shared_counts_by_owner(session: Session, weeks: list[Range]) -> dict[str, list[int]]:
    """On each owner's shared goals: progress logged, milestones reached and goals done in each of the
    weeks (three counts a week, in that order), in one pass over each kind."""
    counts: dict[str, list[int]] = {}
    kinds = [
        (GoalProgress.created_at, select(Goal.owner_id).join(GoalProgress, GoalProgress.goal_id == Goal.id)),
        (GoalMilestone.reached_at, select(Goal.owner_id).join(GoalMilestone, GoalMilestone.goal_id == Goal.id)),
        (Goal.closed_at, select(Goal.owner_id).where(Goal.status == DONE)),
    ]
    span = (min(start for start, _ in weeks), max(end for _, end in weeks))
    for kind, (moment, query) in enumerate(kinds):
        within = [and_(moment >= start, moment < end) for start, end in weeks]
        grouped = query.add_columns(*(func.count().filter(w) for w in within)).where(
            Goal.shared, moment >= span[0], moment < span[1]
        )
        for owner, *numbers in session.execute(grouped.group_by(Goal.owner_id)):
            row = counts.setdefault(owner, [0] * 3 * len(weeks))
            for week, n in enumerate(numbers):
                row[3 * week + kind] = n
    return counts


def shared_goals_moved_in(session: Session, range_: Range) -> list[tuple[int, str]]:
    """The shared goals with progress logged, a milestone reached, or done in the range, by owner and
    number: each one's ID and owner (shared_goals reads the few a digest names)."""
    start, end = range_
    progressed = exists().where(
        GoalProgress.goal_id == Goal.id, GoalProgress.created_at >= start, GoalProgress.created_at < end
    )
    reached = exists().where(
        GoalMilestone.goal_id == Goal.id, GoalMilestone.reached_at >= start, GoalMilestone.reached_at < end
    )
    done = and_(Goal.status == DONE, Goal.closed_at >= start, Goal.closed_at < end)
    query = select(Goal.id, Goal.owner_id).where(Goal.shared, or_(progressed, reached, done))
    return [(goal_id, owner) for goal_id, owner in session.execute(query.order_by(Goal.owner_id, Goal.number))]


def shared_goals(session: Session, goal_ids: Collection[int]) -> dict[int, SharedGoal]:
    query = select(*_SHARED_GOAL).where(Goal.shared, Goal.id.in_(goal_ids))
    return {row.id: SharedGoal(*row) for row in session.execute(query)}


def progress_in(session: Session, goal_ids: Collection[int], range_: Range) -> dict[int, WeekProgress]:
    """The progress each of these goals saw in the range (those that saw some)."""
    start, end = range_
    query = (
        select(GoalProgress.goal_id, GoalProgress.note)
        .where(GoalProgress.goal_id.in_(goal_ids), GoalProgress.created_at >= start, GoalProgress.created_at < end)
        .order_by(GoalProgress.created_at, GoalProgress.id)
    )
    notes: dict[int, list[str]] = defaultdict(list)
    for goal_id, note in session.execute(query):
        notes[goal_id].append(note)
    return {
        goal_id: WeekProgress(len(said), next((n for n in reversed(said) if n), "")) for goal_id, said in notes.items()
    }


def stalled_shared_goals(session: Session, before: datetime) -> list[tuple[SharedGoal, datetime | None]]:
    """Open shared goals with no progress since `before` (and set before it), with their last
    progress, longest waiting first."""
    recent = exists().where(GoalProgress.goal_id == Goal.id, GoalProgress.created_at >= before)
    last = select(func.max(GoalProgress.created_at)).where(GoalProgress.goal_id == Goal.id).scalar_subquery()
    stalled = (
        select(*_SHARED_GOAL, last.label("last_progress"))
        .where(Goal.shared, Goal.status == OPEN, Goal.created_at < before, ~recent)
        .subquery()
    )
    query = select(stalled).order_by(func.coalesce(stalled.c.last_progress, stalled.c.created_at), stalled.c.id)
    return [(SharedGoal(*row[:-1]), row[-1]) for row in session.execute(query)]


def shared_goals_since(session: Session, since: datetime | None) -> Iterator[tuple[Goal, list[datetime]]]:
    """Shared goals set from `since` on (None: all), oldest first, each with the dates of its progress."""
    query = select(Goal).where(Goal.shared).order_by(Goal.created_at, Goal.id)
    if since is not None:
        query = query.where(Goal.created_at >= since)
    dates: dict[int, list[datetime]] = {}
    progress = (
        select(GoalProgress.goal_id, GoalProgress.created_at)
        .join(Goal, Goal.id == GoalProgress.goal_id)
        .where(Goal.shared)
        .order_by(GoalProgress.created_at, GoalProgress.id)
    )
    if since is not None:
        progress = progress.where(Goal.created_at >= since)
    for goal_id, at in session.execute(progress):
        dates.setdefault(goal_id, []).append(at)
    for goal in session.scalars(query):
        yield goal, dates.get(goal.id, [])
