"""Learning tips: the tips, which one was the tip of which day, and who gets it by DM."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, and_, case, delete, func, nulls_first, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import dialect_insert
from storage.models import Base


class Tip(Base):
    __tablename__ = "tips"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Tips shipped in bot/tips/tips.toml carry its key; tips added with /tip add have none.
    key: Mapped[str | None] = mapped_column(String(100), unique=True)
    theme: Mapped[str | None] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)  # safe mrkdwn
    active: Mapped[bool] = mapped_column(default=True)
    added_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # Who to thank for it, shown with it (safe mrkdwn, e.g. "shared by <@U123>"); None for most tips.
    credit: Mapped[str | None] = mapped_column(String(200))
    # A tip queued to come next: never shown before this day, then before any other tip until it is shown.
    show_from: Mapped[date | None] = mapped_column(Date)


class DailyTip(Base):
    """The tip of one day (team time zone): /tip and the daily post show the same one."""

    __tablename__ = "daily_tips"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)


class TipSubscriber(Base):
    __tablename__ = "tip_subscribers"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subscribed_at: Mapped[datetime]


def add_builtin(session: Session, rows: list[dict], now: datetime) -> None:
    """Insert the shipped tips not in the table yet (by key); safe to run at any time, from any process."""
    known = set(session.scalars(select(Tip.key).where(Tip.key.is_not(None))))
    missing = [dict(row, created_at=now) for row in rows if row["key"] not in known]
    if missing:
        session.execute(dialect_insert(session)(Tip).on_conflict_do_nothing(index_elements=[Tip.key]), missing)


def tip_of(session: Session, day: date) -> Tip | None:
    return session.scalar(select(Tip).join(DailyTip, DailyTip.tip_id == Tip.id).where(DailyTip.day == day))


def next_tip(session: Session, day: date, *, queued_first: bool) -> Tip | None:
    """The tip for `day`: a queued tip due by then and not shown yet (the first queued first); else
    the active tip shown longest ago, never-shown tips first, in the order they were added. Not
    `queued_first`, the queued tips come last: they keep their place for a day with a daily post."""
    last_shown = (
        select(DailyTip.tip_id, func.max(DailyTip.day).label("day")).group_by(DailyTip.tip_id).subquery("last_shown")
    )
    queued_and_due = and_(Tip.show_from.is_not(None), last_shown.c.day.is_(None))
    queued_rank = 0 if queued_first else 2  # before the rotation's 1, or after it
    query = (
        select(Tip)
        .outerjoin(last_shown, last_shown.c.tip_id == Tip.id)
        .where(Tip.active, or_(Tip.show_from.is_(None), Tip.show_from <= day))
        .order_by(case((queued_and_due, queued_rank), else_=1), nulls_first(last_shown.c.day), Tip.id)
        .limit(1)
    )
    return session.scalar(query)


def last_queued_day(session: Session) -> date | None:
    """The day the last queued tip not shown yet is due, if any."""
    shown = select(DailyTip.tip_id)
    query = select(func.max(Tip.show_from)).where(Tip.active, Tip.show_from.is_not(None), Tip.id.not_in(shown))
    return session.scalar(query)


def set_tip_of(session: Session, day: date, tip: Tip) -> bool:
    """Make `tip` the tip of `day`; False if another request chose one first."""
    try:
        with session.begin_nested():
            session.add(DailyTip(day=day, tip_id=tip.id))
    except IntegrityError:
        return False
    return True


def count_active(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Tip).where(Tip.active)) or 0


def subscribe(session: Session, user_id: str, now: datetime) -> bool:
    """True if `user_id` was not subscribed before."""
    statement = (
        dialect_insert(session)(TipSubscriber)
        .values(user_id=user_id, subscribed_at=now)
        .on_conflict_do_nothing(index_elements=[TipSubscriber.user_id])
        .returning(TipSubscriber.user_id)
    )
    return session.scalar(statement) is not None


def unsubscribe(session: Session, user_id: str) -> bool:
    return session.execute(delete(TipSubscriber).where(TipSubscriber.user_id == user_id)).rowcount == 1


def is_subscribed(session: Session, user_id: str) -> bool:
    return session.get(TipSubscriber, user_id) is not None


def subscriber_ids(session: Session) -> list[str]:
    return list(session.scalars(select(TipSubscriber.user_id).order_by(TipSubscriber.user_id)))
