"""The admins' audit log (hides, team changes), and what `/kaizen status`, `kaizen doctor` and `/metrics`
read from the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, OutboxMessage


class ModerationLog(Base):
    """The admins' audit log: who hid what, who changed which team and how, and when. A hidden row
    itself stays where it was, with its hidden_at."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(20))  # hide | create | change | remove
    kind: Mapped[str] = mapped_column(String(20))  # kudos | idea | feedback (what admins type) | team
    number: Mapped[int]  # the item's number (its id)
    admin_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    # What changed (safe mrkdwn): a team's leads, members and channel, before and after.
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")


def log_hide(session: Session, kind: str, number: int, admin_id: str, now: datetime) -> None:
    session.add(ModerationLog(action="hide", kind=kind, number=number, admin_id=admin_id, at=now))


def log_change(
    session: Session, action: str, kind: str, number: int, admin_id: str, detail: str, now: datetime
) -> None:
    session.add(ModerationLog(action=action, kind=kind, number=number, admin_id=admin_id, at=now, detail=detail))


def latest(session: Session, kind: str, limit: int) -> list[ModerationLog]:
    """The newest entries about one kind of thing (teams), newest first."""
    query = select(ModerationLog).where(ModerationLog.kind == kind).order_by(ModerationLog.id.desc()).limit(limit)
    return list(session.scalars(query))


def entries_since(session: Session, since: datetime | None) -> Iterator[ModerationLog]:
    query = select(ModerationLog).order_by(ModerationLog.at, ModerationLog.id)
    if since is not None:
        query = query.where(ModerationLog.at >= since)
    return session.scalars(query)


@dataclass(frozen=True)
class OutboxStatus:
    waiting: list[tuple[str, int, datetime]]  # by Web API method: how many, and since when the oldest is due
    waiting_errors: list[tuple[str, int]]  # what the waiting ones last met, and how often
    refused: list[OutboxMessage]  # given up on, newest first
    first_waiting: OutboxMessage | None  # the one due first
    oldest_written: datetime | None  # when the message waiting longest was written


def outbox_status(session: Session, refused_since: datetime) -> OutboxStatus:
    return OutboxStatus(
        waiting_by_method(session),
        _waiting_errors(session),
        _refused_since(session, refused_since),
        _first_waiting(session),
        oldest_waiting_written(session),
    )


def waiting_by_method(session: Session) -> list[tuple[str, int, datetime]]:
    """Messages not sent yet, by Web API method: how many, and since when the oldest is due."""
    query = (
        select(OutboxMessage.method, func.count(), func.min(OutboxMessage.next_attempt_at))
        .where(OutboxMessage.status == "pending")
        .group_by(OutboxMessage.method)
        .order_by(func.count().desc(), OutboxMessage.method)
    )
    return [(method, n, oldest) for method, n, oldest in session.execute(query)]


def _first_waiting(session: Session) -> OutboxMessage | None:
    query = select(OutboxMessage).where(OutboxMessage.status == "pending")
    return session.scalars(query.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1)).first()


def oldest_waiting_written(session: Session) -> datetime | None:
    """When the message that has waited longest to be sent was written; None when none waits."""
    return session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending"))


def _waiting_errors(session: Session) -> list[tuple[str, int]]:
    """What the messages not sent yet last met (they are tried again), most frequent first."""
    query = (
        select(OutboxMessage.last_error, func.count())
        .where(OutboxMessage.status == "pending", OutboxMessage.last_error.is_not(None))
        .group_by(OutboxMessage.last_error)
        .order_by(func.count().desc(), OutboxMessage.last_error)
    )
    return [(error, n) for error, n in session.execute(query)]


def _refused_since(session: Session, since: datetime, limit: int = 1000) -> list[OutboxMessage]:
    """Messages given up on whose last attempt was due since `since`, newest first."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "failed", OutboxMessage.next_attempt_at >= since)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
