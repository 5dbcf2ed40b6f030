"""Kudos: the table and the queries on it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    func,
    literal,
    nulls_first,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from storage.db import Hideable, Range
from storage.models import Base, Member

# A kudos to every member of a Slack user group: one row each, one message (batch), one kudos of the
# giver's daily limit; counted in stats, not on the leaderboard.
TEAM_SOURCE = "team"


class Kudos(Hideable, Base):
    __tablename__ = "kudos"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One /kudos to several people is one batch: one celebration message for all of them.
    batch_key: Mapped[str] = mapped_column(String(200))
    # NULL for a customer's kudos (source `customer`): a compliment from a help desk has no giver in Slack.
    giver_id: Mapped[str | None] = mapped_column(String(32))
    recipient_id: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)  # Slack-safe mrkdwn, see bot.core.text
    values: Mapped[str] = mapped_column(String(500), default="")  # space-separated value names
    source: Mapped[str] = mapped_column(String(20))  # command | modal | reaction | shortcut | customer | team
    # The message a reaction kudos is on (NULL for the other sources): one per giver and message, ever.
    reacted_channel: Mapped[str | None] = mapped_column(String(32))
    reacted_ts: Mapped[str | None] = mapped_column(String(32))
    # When its giver took a reaction kudos back by removing the reaction. A withdrawn kudos is hidden
    # too (hidden_at: left out of everything, still counted in its giver's day), until the reaction
    # comes back; one an admin hid has no withdrawn_at, so a reaction never brings it back.
    withdrawn_at: Mapped[datetime | None]
    # The help desk's ticket a customer's kudos is for (NULL for the other sources).
    ticket_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]

    __table_args__ = (
        # hidden_at last: the counts that leave hidden kudos out are still read from the index alone.
        Index("ix_kudos_created_at", "created_at", "hidden_at"),
        Index("ix_kudos_giver_id_created_at", "giver_id", "created_at"),
        Index("ix_kudos_recipient_id_created_at", "recipient_id", "created_at", "hidden_at"),
        UniqueConstraint("giver_id", "reacted_channel", "reacted_ts", name="uq_kudos_giver_reaction"),
    )

    @property
    def value_list(self) -> list[str]:
        return self.values.split()


def _given_by(from_customers: bool):
    """Kudos from customers (no giver: customer compliments), or from teammates."""
    return Kudos.giver_id.is_(None) if from_customers else Kudos.giver_id.is_not(None)


def count_given_since(session: Session, giver_id: str, since: datetime) -> int:
    """For the daily limit: a kudos to a user group counts once, whatever its size; a kudos an admin hid
    still counts (hiding gives no one their kudos back)."""
    team = Kudos.source == TEAM_SOURCE
    query = select(func.count().filter(~team) + func.count(Kudos.batch_key.distinct()).filter(team)).where(
        Kudos.giver_id == giver_id, Kudos.created_at >= since
    )
    return session.scalar(query.execution_options(include_hidden=True)) or 0


def for_reaction(
    session: Session, giver_id: str, channel: str, ts: str, *, include_hidden: bool = False
) -> Kudos | None:
    query = select(Kudos).where(Kudos.giver_id == giver_id, Kudos.reacted_channel == channel, Kudos.reacted_ts == ts)
    return session.scalar(query.execution_options(include_hidden=include_hidden))


def batch_of(session: Session, kudos_id: int) -> list[Kudos]:
    """The kudos given with kudos `kudos_id` (one message to several people), hidden ones too."""
    batch = select(Kudos.batch_key).where(Kudos.id == kudos_id).scalar_subquery()
    query = select(Kudos).where(Kudos.batch_key == batch).order_by(Kudos.id)
    return list(session.scalars(query.execution_options(include_hidden=True)))


def top_recipients(
    session: Session,
    since: datetime | None,
    limit: int = 10,
    *,
    from_customers: bool = False,
    people: Collection[str] | None = None,
) -> list[tuple[str, int]]:
    """The most recognised (of `people`, or of all), by teammates or by customers; a kudos to a whole user
    group is left out, so one message can't lift forty people."""
    count = func.count().label("n")
    query = (
        select(Kudos.recipient_id, count)
        .where(_given_by(from_customers), Kudos.source != TEAM_SOURCE)
        .group_by(Kudos.recipient_id)
    )
    if since is not None:
        query = query.where(Kudos.created_at >= since)
    if people is not None:
        query = query.where(Kudos.recipient_id.in_(people))
    query = query.order_by(count.desc(), Kudos.recipient_id).limit(limit)
    return [(recipient, n) for recipient, n in session.execute(query)]


@dataclass(frozen=True)
class KudosStats:
    received_week: int
    received_month: int
    received_all: int
    from_customers_all: int  # of received_all
    from_teams_all: int  # of received_all: kudos to a user group they are in
    given_all: int
    top_values: list[tuple[str, int]]
    latest: list[Kudos]


def stats_for(session: Session, user_id: str, week_start: datetime, month_start: datetime) -> KudosStats:
    def received_since(since: datetime | None, *conditions) -> int:
        query = select(func.count()).where(Kudos.recipient_id == user_id, *conditions)
        if since is not None:
            query = query.where(Kudos.created_at >= since)
        return session.scalar(query) or 0

    values = Counter(
        value
        for row in session.scalars(select(Kudos.values).where(Kudos.recipient_id == user_id))
        for value in row.split()
    )
    latest = session.scalars(
        select(Kudos).where(Kudos.recipient_id == user_id).order_by(Kudos.created_at.desc(), Kudos.id.desc()).limit(3)
    ).all()
    return KudosStats(
        received_week=received_since(week_start),
        received_month=received_since(month_start),
        received_all=received_since(None),
        from_customers_all=received_since(None, _given_by(from_customers=True)),
        from_teams_all=received_since(None, Kudos.source == TEAM_SOURCE),
        given_all=session.scalar(select(func.count()).where(Kudos.giver_id == user_id)) or 0,
        top_values=values.most_common(3),
        latest=list(latest),
    )


@dataclass(frozen=True)
class TeamStats:
    received_week: int
    received_month: int
    received_all: int
    from_customers_all: int  # of received_all
    given_all: int
    recognised_month: int  # how many of the people received a kudos this month


def team_stats(session: Session, people: Collection[str], week_start: datetime, month_start: datetime) -> TeamStats:
    """Kudos to and from a team's people, in one pass over theirs."""
    received = Kudos.recipient_id.in_(people)
    row = session.execute(
        select(
            func.count().filter(received, Kudos.created_at >= week_start),
            func.count().filter(received, Kudos.created_at >= month_start),
            func.count().filter(received),
            func.count().filter(received, _given_by(from_customers=True)),
            func.count().filter(Kudos.giver_id.in_(people)),
            func.count(Kudos.recipient_id.distinct()).filter(received, Kudos.created_at >= month_start),
        ).where(or_(received, Kudos.giver_id.in_(people)))
    ).one()
    return TeamStats(*row)


def kudos_since(session: Session, since: datetime | None) -> Iterator[Kudos]:
    query = select(Kudos).order_by(Kudos.created_at, Kudos.id)
    if since is not None:
        query = query.where(Kudos.created_at >= since)
    return session.scalars(query.execution_options(yield_per=1000))


# --- The weekly celebration and the lead digest: counted by the database on indexed ranges
# (kudos.created_at, and (recipient_id, created_at) for per-person probes), so the cost follows
# the size of the week, not of the table.
def _to(people: Collection[str] | None):
    """Kudos to these people only; None: to anyone."""
    return true() if people is None else Kudos.recipient_id.in_(people)


def _in(range_: Range):
    return and_(Kudos.created_at >= range_[0], Kudos.created_at < range_[1])


def kudos_counts(
    session: Session, ranges: list[Range], *, from_customers: bool = False, to: Collection[str] | None = None
) -> list[int]:
    """The number of kudos from teammates (or from customers) in each range, in one indexed pass over their
    span; to anyone, or `to` these people only (a team's, for its part of the celebration)."""
    span = (min(start for start, _ in ranges), max(end for _, end in ranges))
    query = select(*(func.count().filter(_in(r)) for r in ranges)).where(_in(span), _given_by(from_customers), _to(to))
    return list(session.execute(query).one())


def recognised(
    session: Session, range_: Range, *, from_customers: bool = False, to: Collection[str] | None = None
) -> list[tuple[str, int]]:
    """Everyone (or of `to`) who received kudos from teammates (or from customers) in the range, with how
    many, most first."""
    count = func.count().label("n")
    query = (
        select(Kudos.recipient_id, count)
        .where(_in(range_), _given_by(from_customers), _to(to))
        .group_by(Kudos.recipient_id)
    )
    return [(user, n) for user, n in session.execute(query.order_by(count.desc(), Kudos.recipient_id))]


def givers(session: Session, range_: Range, *, to: Collection[str] | None = None) -> list[str]:
    """The teammates who gave kudos (to `to`) in the range, in the order they first did."""
    first = func.min(Kudos.created_at)
    query = (
        select(Kudos.giver_id)
        .where(_in(range_), _given_by(from_customers=False), _to(to))
        .group_by(Kudos.giver_id)
        .order_by(first, Kudos.giver_id)
    )
    return list(session.scalars(query))


def value_counts(
    session: Session, values: tuple[str, ...], range_: Range, *, to: Collection[str] | None = None
) -> list[tuple[str, int]]:
    """How many kudos messages tagged each team value in the range, most first (values never tagged
    left out): a kudos to three people tagged #teamwork is one #teamwork, so a batch counts once."""
    padded = literal(" ") + Kudos.values + literal(" ")  # so `learning` does not match `unlearning`
    batches = Kudos.batch_key.distinct()
    row = session.execute(
        select(*(func.count(batches).filter(padded.like(f"% {value} %")) for value in values)).where(
            _in(range_), _to(to)
        )
    ).one()
    counted = [(value, n) for value, n in zip(values, row, strict=True) if n]
    return sorted(counted, key=lambda pair: -pair[1])


def first_time_recipients(session: Session, range_: Range, *, to: Collection[str] | None = None) -> list[str]:
    """People (of `to`) whose first kudos ever (from anyone) arrived in the range from a teammate."""
    earlier = aliased(Kudos)
    before = exists().where(earlier.recipient_id == Kudos.recipient_id, earlier.created_at < range_[0])
    query = (
        select(Kudos.recipient_id)
        .where(_in(range_), _given_by(from_customers=False), _to(to), ~before)
        .distinct()
        .order_by(Kudos.recipient_id)
    )
    return list(session.scalars(query))


def received_counts(session: Session, ranges: list[Range]) -> dict[str, list[int]]:
    """Kudos from teammates each person received in each range (those who received any), in one pass."""
    return _counts_per(session, Kudos.recipient_id, ranges)


def given_counts(session: Session, ranges: list[Range]) -> dict[str, list[int]]:
    """Kudos each teammate gave in each range (those who gave any), in one pass."""
    return _counts_per(session, Kudos.giver_id, ranges)


def _counts_per(session: Session, person, ranges: list[Range]) -> dict[str, list[int]]:
    span = (min(start for start, _ in ranges), max(end for _, end in ranges))
    query = (
        select(person, *(func.count().filter(_in(r)) for r in ranges))
        .where(_in(span), _given_by(from_customers=False))
        .group_by(person)
    )
    return {user: list(counts) for user, *counts in session.execute(query)}


def members_without_kudos_since(
    session: Session, since: datetime, *, include_guests: bool
) -> list[tuple[str, datetime | None]]:
    """Members (not bots, not deactivated, and not guests unless `include_guests`) with no kudos
    received since `since` (from a teammate or a customer: either is recognition), and their last
    one; never-recognised first, then longest ago."""
    recent = exists().where(Kudos.recipient_id == Member.user_id, Kudos.created_at >= since)
    # Only for the few with none recent: when their last kudos was.
    last = select(func.max(Kudos.created_at)).where(Kudos.recipient_id == Member.user_id).scalar_subquery()
    last_kudos = last.label("last_kudos")
    query = select(Member.user_id, last_kudos).where(~Member.is_bot, ~Member.deleted, ~recent)
    if not include_guests:
        query = query.where(~Member.is_guest)
    query = query.order_by(nulls_first(last_kudos), Member.user_id)
    return [(user, last_kudos) for user, last_kudos in session.execute(query)]
