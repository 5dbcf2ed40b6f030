"""Ideas, their votes and their status history: the tables and the queries on them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, delete, func, literal, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Hideable, Range
from storage.models import Base

# The most characters each part of a measure holds as stored (safe mrkdwn, where `&`, `<` and `>`
# take 4 or 5): the rules check what is stored against them, and the form offers as many.
MEASURE_LENGTHS = {"measure_name": 100, "measure_before": 40, "measure_after": 40, "measure_unit": 30}


@dataclass(frozen=True)
class Measure:
    """What an implemented idea changed, in numbers: "refund handle time: 9 min → 6 min"."""

    name: str  # Slack-safe mrkdwn, like the values
    before: str
    after: str
    unit: str = ""


class Idea(Hideable, Base):
    __tablename__ = "ideas"

    id: Mapped[int] = mapped_column(primary_key=True)  # the idea's number, as people see it
    title: Mapped[str] = mapped_column(Text)  # Slack-safe mrkdwn, see bot.core.text
    description: Mapped[str] = mapped_column(Text, default="")  # Slack-safe mrkdwn
    category: Mapped[str | None] = mapped_column(String(50))
    author_id: Mapped[str | None] = mapped_column(String(32))  # None for an anonymous idea
    status: Mapped[str] = mapped_column(String(20), default="new")
    created_at: Mapped[datetime]
    # The idea a `merged` one was merged into (its votes went there).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="SET NULL"))
    # What changed when it was last implemented (Slack-safe mrkdwn), and optionally a measure.
    impact: Mapped[str | None] = mapped_column(Text)
    measure_name: Mapped[str | None] = mapped_column(String(MEASURE_LENGTHS["measure_name"]))
    measure_before: Mapped[str | None] = mapped_column(String(MEASURE_LENGTHS["measure_before"]))
    measure_after: Mapped[str | None] = mapped_column(String(MEASURE_LENGTHS["measure_after"]))
    measure_unit: Mapped[str | None] = mapped_column(String(MEASURE_LENGTHS["measure_unit"]))

    __table_args__ = (Index("ix_ideas_status", "status"), Index("ix_ideas_created_at", "created_at"))

    @property
    def anonymous(self) -> bool:
        return self.author_id is None

    @property
    def measure(self) -> Measure | None:
        if self.measure_name is None:
            return None
        return Measure(self.measure_name, self.measure_before or "", self.measure_after or "", self.measure_unit or "")

    @measure.setter
    def measure(self, measure: Measure | None) -> None:
        self.measure_name, self.measure_before, self.measure_after, self.measure_unit = (
            (measure.name, measure.before, measure.after, measure.unit or None) if measure else (None,) * 4
        )


class IdeaVote(Base):
    __tablename__ = "idea_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    voter_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("idea_id", "voter_id", name="uq_idea_votes_idea_id_voter_id"),)


class IdeaStatusChange(Base):
    __tablename__ = "idea_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    changed_by: Mapped[str | None] = mapped_column(String(32))  # a lead; None: Kaizen itself (enough votes)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")  # Slack-safe mrkdwn; the reason for a decline
    changed_at: Mapped[datetime]

    __table_args__ = (Index("ix_idea_status_changes_idea_id_changed_at", "idea_id", "changed_at"),)


def _vote_count():
    return select(func.count()).where(IdeaVote.idea_id == Idea.id).correlate(Idea).scalar_subquery().label("votes")


def lock_idea(session: Session, idea_id: int, *, include_hidden: bool = False) -> Idea | None:
    """The idea, locked until commit, so votes and status changes on it run one at a time."""
    query = select(Idea).where(Idea.id == idea_id).with_for_update()
    return session.scalar(query.execution_options(include_hidden=include_hidden))


def vote_count(session: Session, idea_id: int) -> int:
    return session.scalar(select(func.count()).where(IdeaVote.idea_id == idea_id)) or 0


def find_vote(session: Session, idea_id: int, voter_id: str) -> IdeaVote | None:
    return session.scalar(select(IdeaVote).where(IdeaVote.idea_id == idea_id, IdeaVote.voter_id == voter_id))


def voter_ids(session: Session, idea_id: int) -> list[str]:
    query = select(IdeaVote.voter_id).where(IdeaVote.idea_id == idea_id).order_by(IdeaVote.created_at, IdeaVote.id)
    return list(session.scalars(query))


def move_votes(session: Session, from_id: int, to_id: int) -> None:
    """Give idea `to_id` the votes of `from_id`, each person's once: a vote for both counts one."""
    has_voted = select(IdeaVote.voter_id).where(IdeaVote.idea_id == to_id)
    session.execute(
        update(IdeaVote)
        .where(IdeaVote.idea_id == from_id, IdeaVote.voter_id.not_in(has_voted))
        .values(idea_id=to_id)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(IdeaVote).where(IdeaVote.idea_id == from_id).execution_options(synchronize_session=False))


def was_ever(session: Session, idea_id: int, status: str) -> bool:
    query = select(IdeaStatusChange.id).where(IdeaStatusChange.idea_id == idea_id, IdeaStatusChange.to_status == status)
    return session.scalar(query.limit(1)) is not None


def merged_into(session: Session, idea_id: int) -> list[int]:
    """The numbers of the ideas merged into this one."""
    return list(session.scalars(select(Idea.id).where(Idea.merged_into_id == idea_id).order_by(Idea.id)))


def merge_targets(session: Session, source_id: int, limit: int) -> list[Idea]:
    """The newest ideas idea `source_id` could be merged into: neither merged nor declined."""
    query = select(Idea).where(Idea.id != source_id, Idea.status.not_in(("merged", "declined")))
    return list(session.scalars(query.order_by(Idea.id.desc()).limit(limit)))


def latest_change(session: Session, idea_id: int) -> IdeaStatusChange | None:
    query = (
        select(IdeaStatusChange)
        .where(IdeaStatusChange.idea_id == idea_id)
        .order_by(IdeaStatusChange.changed_at.desc(), IdeaStatusChange.id.desc())
    )
    return session.scalars(query.limit(1)).first()


def count_ideas(session: Session, statuses: tuple[str, ...]) -> int:
    return session.scalar(select(func.count()).where(Idea.status.in_(statuses))) or 0


def newest(session: Session, statuses: tuple[str, ...], limit: int) -> list[tuple[Idea, int]]:
    query = select(Idea, _vote_count()).where(Idea.status.in_(statuses)).order_by(Idea.id.desc()).limit(limit)
    return [(idea, votes) for idea, votes in session.execute(query)]


def most_voted(session: Session, statuses: tuple[str, ...], limit: int) -> list[tuple[Idea, int]]:
    votes = _vote_count()
    query = select(Idea, votes).where(Idea.status.in_(statuses)).order_by(votes.desc(), Idea.id).limit(limit)
    return [(idea, n) for idea, n in session.execute(query)]


def ideas_since(session: Session, since: datetime | None) -> Iterator[tuple[Idea, int]]:
    query = select(Idea, _vote_count()).order_by(Idea.created_at, Idea.id)
    if since is not None:
        query = query.where(Idea.created_at >= since)
    yield from session.execute(query.execution_options(yield_per=1000))


def status_changes_since(session: Session, since: datetime | None) -> dict[int, list[IdeaStatusChange]]:
    """The status history of each idea submitted from `since` on, by idea number, oldest first."""
    query = select(IdeaStatusChange).order_by(
        IdeaStatusChange.idea_id, IdeaStatusChange.changed_at, IdeaStatusChange.id
    )
    if since is not None:
        query = query.join(Idea, Idea.id == IdeaStatusChange.idea_id).where(Idea.created_at >= since)
    changes: dict[int, list[IdeaStatusChange]] = defaultdict(list)
    for change in session.scalars(query):
        changes[change.idea_id].append(change)
    return changes


def ideas_by_author(session: Session, author_id: str, limit: int) -> tuple[list[tuple[Idea, int]], int]:
    """Someone's newest ideas with their votes, and how many they have in all."""
    query = select(Idea, _vote_count()).where(Idea.author_id == author_id)
    rows = session.execute(query.order_by(Idea.created_at.desc(), Idea.id.desc()).limit(limit)).all()
    total = session.scalar(select(func.count()).where(Idea.author_id == author_id)) or 0
    return [(idea, votes) for idea, votes in rows], total


@dataclass(frozen=True)
class IdeaWaiting:
    number: int
    title: str  # safe mrkdwn
    status: str  # new | under-review
    since: datetime  # when it entered that status
    author_id: str | None  # None for an anonymous idea


def idea_status_counts_by_author(session: Session, range_: Range) -> dict[str | None, dict[str, int]]:
    """How many of each author's ideas (None: the anonymous ones) reached each status in the range:
    `new` when submitted, the rest from the history."""
    start, end = range_
    count = func.count()
    changes = (
        select(Idea.author_id, IdeaStatusChange.to_status, count)
        .join(Idea, Idea.id == IdeaStatusChange.idea_id)  # so a hidden idea's changes are not counted
        .where(IdeaStatusChange.changed_at >= start, IdeaStatusChange.changed_at < end)
        .group_by(Idea.author_id, IdeaStatusChange.to_status)
    )
    submitted = (
        select(Idea.author_id, literal("new"), count)
        .where(Idea.created_at >= start, Idea.created_at < end)
        .group_by(Idea.author_id)
    )
    counts: dict[str | None, Counter[str]] = defaultdict(Counter)
    for query in (changes, submitted):
        for author, status, n in session.execute(query):
            counts[author][status] += n
    return {author: dict(by_status) for author, by_status in counts.items()}


def ideas_implemented(session: Session, range_: Range) -> list[Idea]:
    """The ideas implemented in the range and still implemented now, by number."""
    start, end = range_
    moved = select(IdeaStatusChange.idea_id).where(
        IdeaStatusChange.to_status == "implemented",
        IdeaStatusChange.changed_at >= start,
        IdeaStatusChange.changed_at < end,
    )
    query = select(Idea).where(Idea.status == "implemented", Idea.id.in_(moved)).order_by(Idea.id)
    return list(session.scalars(query))


def ideas_awaiting_review(session: Session) -> list[IdeaWaiting]:
    """Ideas with status new or under-review, waiting longest first."""
    entered = (
        select(func.max(IdeaStatusChange.changed_at))
        .where(IdeaStatusChange.idea_id == Idea.id, IdeaStatusChange.to_status == Idea.status)
        .correlate(Idea)
        .scalar_subquery()
    )
    since = func.coalesce(entered, Idea.created_at).label("since")
    query = select(Idea.id, Idea.title, Idea.status, since, Idea.author_id).where(
        Idea.status.in_(("new", "under-review"))
    )
    return [IdeaWaiting(*row) for row in session.execute(query.order_by(since, Idea.id))]
