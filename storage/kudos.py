"""Kudos: the table and the queries on it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base


class Kudos(Base):
    __tablename__ = "kudos"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One /kudos to several people is one batch: one celebration message for all of them.
    batch_key: Mapped[str] = mapped_column(String(200))
    giver_id: Mapped[str] = mapped_column(String(32))
    recipient_id: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)  # Slack-safe mrkdwn, see bot.core.text
    values: Mapped[str] = mapped_column(String(500), default="")  # space-separated value names
    source: Mapped[str] = mapped_column(String(20))  # command | modal | reaction | shortcut
    # The message a reaction kudos is on (NULL for the other sources): one per giver and message.
    reacted_channel: Mapped[str | None] = mapped_column(String(32))
    reacted_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_kudos_created_at", "created_at"),
        Index("ix_kudos_giver_id_created_at", "giver_id", "created_at"),
        Index("ix_kudos_recipient_id_created_at", "recipient_id", "created_at"),
        UniqueConstraint("giver_id", "reacted_channel", "reacted_ts", name="uq_kudos_giver_reaction"),
    )

    @property
    def value_list(self) -> list[str]:
        return self.values.split()


def count_given_since(session: Session, giver_id: str, since: datetime) -> int:
    query = select(func.count()).where(Kudos.giver_id == giver_id, Kudos.created_at >= since)
    return session.scalar(query) or 0


def for_reaction(session: Session, giver_id: str, channel: str, ts: str) -> Kudos | None:
    query = select(Kudos).where(Kudos.giver_id == giver_id, Kudos.reacted_channel == channel, Kudos.reacted_ts == ts)
    return session.scalar(query)


def top_recipients(session: Session, since: datetime | None, limit: int = 10) -> list[tuple[str, int]]:
    count = func.count().label("n")
    query = select(Kudos.recipient_id, count).group_by(Kudos.recipient_id)
    if since is not None:
        query = query.where(Kudos.created_at >= since)
    query = query.order_by(count.desc(), Kudos.recipient_id).limit(limit)
    return [(recipient, n) for recipient, n in session.execute(query)]


@dataclass(frozen=True)
class KudosStats:
    received_week: int
    received_month: int
    received_all: int
    given_all: int
    top_values: list[tuple[str, int]]
    latest: list[Kudos]


def stats_for(session: Session, user_id: str, week_start: datetime, month_start: datetime) -> KudosStats:
    def received_since(since: datetime | None) -> int:
        query = select(func.count()).where(Kudos.recipient_id == user_id)
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
        given_all=session.scalar(select(func.count()).where(Kudos.giver_id == user_id)) or 0,
        top_values=values.most_common(3),
        latest=list(latest),
    )


def kudos_since(session: Session, since: datetime | None) -> Iterator[Kudos]:
    query = select(Kudos).order_by(Kudos.created_at, Kudos.id)
    if since is not None:
        query = query.where(Kudos.created_at >= since)
    return session.scalars(query.execution_options(yield_per=1000))
