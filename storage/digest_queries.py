"""Aggregate queries for the weekly celebration and the lead digest.

Everything is counted by the database on indexed ranges (kudos.created_at, and
(recipient_id, created_at) for per-person probes): nothing loads the kudos into Python,
so the cost follows the size of the week, not of the table.

The feedback and ideas tables belong to their own features; the functions in the
"Feedback" and "Ideas" sections below are the only places the digest and the
celebration read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, literal, nulls_first, or_, select
from sqlalchemy.orm import Session, aliased

from storage.feedback import Feedback
from storage.ideas import Idea, IdeaStatusChange
from storage.kudos import Kudos
from storage.models import Member

Range = tuple[datetime, datetime]  # [start, end)


def _in(range_: Range):
    return and_(Kudos.created_at >= range_[0], Kudos.created_at < range_[1])


# --- Kudos ------------------------------------------------------------------------------
def kudos_counts(session: Session, ranges: list[Range]) -> list[int]:
    """The number of kudos in each range, in one indexed pass over their span."""
    span = (min(start for start, _ in ranges), max(end for _, end in ranges))
    row = session.execute(select(*(func.count().filter(_in(r)) for r in ranges)).where(_in(span))).one()
    return list(row)


def recognised(session: Session, range_: Range) -> list[tuple[str, int]]:
    """Everyone who received kudos in the range, with how many, most first."""
    count = func.count().label("n")
    query = select(Kudos.recipient_id, count).where(_in(range_)).group_by(Kudos.recipient_id)
    return [(user, n) for user, n in session.execute(query.order_by(count.desc(), Kudos.recipient_id))]


def giver_count(session: Session, range_: Range) -> int:
    return session.scalar(select(func.count(Kudos.giver_id.distinct())).where(_in(range_))) or 0


def value_counts(session: Session, values: tuple[str, ...], range_: Range) -> list[tuple[str, int]]:
    """How often each team value was tagged in the range, most first (values never tagged left out)."""
    padded = literal(" ") + Kudos.values + literal(" ")  # so `learning` does not match `unlearning`
    row = session.execute(
        select(*(func.count().filter(padded.like(f"% {value} %")) for value in values)).where(_in(range_))
    ).one()
    counted = [(value, n) for value, n in zip(values, row, strict=True) if n]
    return sorted(counted, key=lambda pair: -pair[1])


def first_time_recipients(session: Session, range_: Range) -> list[str]:
    """People whose first kudos ever arrived in the range."""
    earlier = aliased(Kudos)
    before = exists().where(earlier.recipient_id == Kudos.recipient_id, earlier.created_at < range_[0])
    query = select(Kudos.recipient_id).where(_in(range_), ~before).distinct().order_by(Kudos.recipient_id)
    return list(session.scalars(query))


def members_without_kudos_since(session: Session, since: datetime) -> list[tuple[str, datetime | None]]:
    """People (not bots, not deactivated) with no kudos received since `since`, and their last one;
    never-recognised first, then longest ago."""
    last = select(func.max(Kudos.created_at)).where(Kudos.recipient_id == Member.user_id).scalar_subquery()
    people = select(Member.user_id, last.label("last_kudos")).where(~Member.is_bot, ~Member.deleted).subquery()
    query = (
        select(people.c.user_id, people.c.last_kudos)
        .where(or_(people.c.last_kudos.is_(None), people.c.last_kudos < since))
        .order_by(nulls_first(people.c.last_kudos), people.c.user_id)
    )
    return [(user, last_kudos) for user, last_kudos in session.execute(query)]


# --- Feedback (the feedback feature's tables) ---------------------------------------------
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


# --- Ideas (the ideas feature's tables) -------------------------------------------------
@dataclass(frozen=True)
class IdeaWaiting:
    number: int
    title: str  # safe mrkdwn
    status: str  # new | under-review
    since: datetime  # when it entered that status


def idea_status_counts(session: Session, range_: Range) -> dict[str, int]:
    """How many ideas reached each status in the range: `new` when submitted, the rest from the history."""
    start, end = range_
    count = func.count()
    changes = (
        select(IdeaStatusChange.to_status, count)
        .where(IdeaStatusChange.changed_at >= start, IdeaStatusChange.changed_at < end)
        .group_by(IdeaStatusChange.to_status)
    )
    counts = {status: n for status, n in session.execute(changes)}
    submitted = session.scalar(select(func.count()).where(Idea.created_at >= start, Idea.created_at < end)) or 0
    counts["new"] = counts.get("new", 0) + submitted
    return {status: n for status, n in counts.items() if n}


def ideas_implemented(session: Session, range_: Range) -> list[tuple[int, str]]:
    """(number, title) of the ideas whose status became implemented in the range."""
    start, end = range_
    query = (
        select(Idea.id, Idea.title)
        .join(IdeaStatusChange, IdeaStatusChange.idea_id == Idea.id)
        .where(
            IdeaStatusChange.to_status == "implemented",
            IdeaStatusChange.changed_at >= start,
            IdeaStatusChange.changed_at < end,
        )
        .distinct()
        .order_by(Idea.id)
    )
    return [(number, title) for number, title in session.execute(query)]


def ideas_awaiting_review(session: Session) -> list[IdeaWaiting]:
    """Ideas with status new or under-review, waiting longest first."""
    entered = (
        select(func.max(IdeaStatusChange.changed_at))
        .where(IdeaStatusChange.idea_id == Idea.id, IdeaStatusChange.to_status == Idea.status)
        .correlate(Idea)
        .scalar_subquery()
    )
    since = func.coalesce(entered, Idea.created_at).label("since")
    query = select(Idea.id, Idea.title, Idea.status, since).where(Idea.status.in_(("new", "under-review")))
    return [IdeaWaiting(*row) for row in session.execute(query.order_by(since, Idea.id))]
