"""Queries on the outbox table; the rules for sending live in bot.core.outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from storage.db import dialect_insert
from storage.models import HandledRequest, OutboxMessage, SlackPace

LANES_AT_ONCE = 5000  # lanes named in one statement: far under SQLite's and PostgreSQL's limits on parameters


class DuplicateRequest(Exception):
    """This Slack request (or click) was already acted on."""


def claim_request(session: Session, key: str, now: datetime) -> None:
    """Record that `key` is being handled in this transaction; raise DuplicateRequest if it was before."""
    session.add(HandledRequest(key=key, handled_at=now))
    try:
        session.flush()
    except IntegrityError:
        raise DuplicateRequest(key) from None


def add_messages(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write outbox rows (OutboxMessage's columns) in one statement, without an ORM object each."""
    if rows:
        session.execute(OutboxMessage.__table__.insert(), rows)


def drop_pending(session: Session, updates_key: str, now: datetime) -> None:
    """Forget unsent updates of one message: a newer update replaces them. One being sent right now
    stays, so the newer one follows it instead of racing it."""
    session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.updates_key == updates_key, OutboxMessage.status == "pending", _unclaimed(now)
        )
    )


def rewrite_unsent(session: Session, key: str, changes: dict[str, Any], now: datetime) -> bool:
    """Change what a message will say while it waits to be sent; False if it is sent, being sent right
    now, refused or gone. Locked, so a sender claims it either before (this then says False) or after
    (and sends what it says now)."""
    query = select(OutboxMessage).where(OutboxMessage.key == key, OutboxMessage.status == "pending", _unclaimed(now))
    message = session.scalar(query.with_for_update())
    if message is None:
        return False
    message.payload = {name: value for name, value in {**message.payload, **changes}.items() if value is not None}
    return True


def delete_messages(session: Session, keys: list[str]) -> None:
    """Forget messages, sent or not: for records that must not outlive what they were about."""
    session.execute(delete(OutboxMessage).where(OutboxMessage.key.in_(keys)))


def forget_lanes(session: Session, lanes: list[str], *, sent_before: datetime, now: datetime) -> dict[str, datetime]:
    """Drop the unsent and the older sent messages of these lanes (a newer one replaces them); return
    when the latest one left in each was sent (lanes with none left are not in it). One being sent right
    now stays, so the newer one follows it. A few statements for any number of lanes (a job's thousands)."""
    unsent = (OutboxMessage.status != "sent") & _unclaimed(now)
    last_sent = {}
    for start in range(0, len(lanes), LANES_AT_ONCE):
        in_lanes = OutboxMessage.lane.in_(lanes[start : start + LANES_AT_ONCE])
        session.execute(delete(OutboxMessage).where(in_lanes, or_(unsent, OutboxMessage.sent_at < sent_before)))
        query = select(OutboxMessage.lane, func.max(OutboxMessage.sent_at)).where(in_lanes).group_by(OutboxMessage.lane)
        last_sent |= {lane: sent_at for lane, sent_at in session.execute(query) if sent_at is not None}
    return last_sent


def delete_lane(session: Session, lane: str) -> None:
    """Forget every message of a lane, sent, unsent or being sent."""
    session.execute(delete(OutboxMessage).where(OutboxMessage.lane == lane))


def delete_old_messages(session: Session, before: datetime) -> int:
    """Drop the messages sent (or refused) before `before`, except posts to channels: later edits find
    them by key for their channel and ts (an idea's message, voted on months later), and they are few."""
    person = OutboxMessage.lane.startswith("U") | OutboxMessage.lane.startswith("W")
    done = or_(
        (OutboxMessage.status == "sent") & (OutboxMessage.sent_at < before),
        (OutboxMessage.status == "failed") & (OutboxMessage.created_at < before),
    )
    edited_later = (OutboxMessage.method == "chat.postMessage") & ~person
    return session.execute(delete(OutboxMessage).where(done, ~edited_later)).rowcount


def delete_handled_requests(session: Session, before: datetime) -> int:
    return session.execute(delete(HandledRequest).where(HandledRequest.handled_at < before)).rowcount


def _unreserved(now: datetime):
    return or_(OutboxMessage.reserved_until.is_(None), OutboxMessage.reserved_until < now)


def _unclaimed(now: datetime):
    return or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)


def _ahead_in_lane():
    """An unsent message written before this one in its lane (a NULL lane has none)."""
    ahead = aliased(OutboxMessage)
    return exists().where(ahead.lane == OutboxMessage.lane, ahead.id < OutboxMessage.id, ahead.status == "pending")


def _lane_in_flight(now: datetime):
    """Another message of this one's lane being sent right now: written later, it committed first (two
    requests at once) and was claimed; this one follows it, a lane's spacing after, never beside it."""
    other = aliased(OutboxMessage)
    being_sent = (other.status == "pending") & (other.claimed_until > now)
    return exists().where(other.lane == OutboxMessage.lane, other.id != OutboxMessage.id, being_sent)


def _lane_just_sent(now: datetime, spacing: timedelta):
    other = aliased(OutboxMessage)
    return exists().where(other.lane == OutboxMessage.lane, other.status == "sent", other.sent_at > now - spacing)


def _due(now: datetime):
    return OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now, _unclaimed(now)


def due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    """Messages due now that are first in their lane, oldest first; not those another process is
    sending (reserved)."""
    query = select(OutboxMessage.id).where(*_due(now), _unreserved(now), ~_ahead_in_lane())
    return list(session.scalars(query.order_by(OutboxMessage.id).limit(limit)))


def reserve(session: Session, ids: list[int], until: datetime | None) -> None:
    """Leave these unsent messages to the process sending them until `until` (None: to any sender)."""
    query = update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == "pending")
    session.execute(query.values(reserved_until=until))


def ids_for_keys(session: Session, keys: list[str]) -> list[int]:
    query = select(OutboxMessage.id).where(OutboxMessage.key.in_(keys)).order_by(OutboxMessage.id)
    return list(session.scalars(query))


def claim(
    session: Session, message_id: int, now: datetime, hold: timedelta, spacing: timedelta
) -> OutboxMessage | None:
    """Take one message for sending; None if it is not due, another sender has it, or its lane is busy
    (a message before it is unsent, another is being sent, or the last one went out less than `spacing` ago)."""
    claimed = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            *_due(now),
            ~_ahead_in_lane(),
            ~_lane_in_flight(now),
            ~_lane_just_sent(now, spacing),
        )
        .values(claimed_until=now + hold, attempts=OutboxMessage.attempts + 1)
    )
    if claimed.rowcount != 1:
        return None
    return session.get(OutboxMessage, message_id, populate_existing=True)


def claimable_at(session: Session, message_id: int, now: datetime, spacing: timedelta) -> datetime | None:
    """About when a message that `claim` refused may be claimed; None if it is not waiting to be sent
    (sent, refused, dropped, or another sender has it)."""
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    if message is None or message.status != "pending" or (message.claimed_until or now) > now:
        return None
    until = message.next_attempt_at
    if message.lane is not None:
        in_lane = OutboxMessage.lane == message.lane
        ahead, ahead_due = session.execute(
            select(func.count(), func.min(OutboxMessage.next_attempt_at)).where(
                in_lane, OutboxMessage.id < message.id, OutboxMessage.status == "pending"
            )
        ).one()
        last_sent = session.scalar(
            select(func.max(OutboxMessage.sent_at)).where(in_lane, OutboxMessage.status == "sent")
        )
        if last_sent is not None:
            until = max(until, last_sent + spacing)
        if ahead:  # each of them goes first, a lane's spacing apart
            until = max(until, ahead_due, now) + spacing * ahead
    return until


def next_due(session: Session, now: datetime) -> datetime | None:
    """The earliest time a message first in its lane is due (`now` if one is being sent: the next in
    its lane follows soon); None when nothing waits."""
    pending = (OutboxMessage.status == "pending") & _unreserved(now)
    soonest = session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(pending, ~_ahead_in_lane()))
    if soonest is None:
        return None
    in_flight = session.scalar(select(exists().where(pending, OutboxMessage.claimed_until >= now)))
    return now if in_flight else soonest


def waiting(session: Session, ids: list[int] | None = None) -> list[OutboxMessage]:
    """Unsent messages (of `ids`, or all), oldest first."""
    query = select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    return list(session.scalars(query))


def count_waiting(session: Session) -> int:
    return session.scalar(select(func.count()).where(OutboxMessage.status == "pending"))


def by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))


def by_keys(session: Session, keys: list[str]) -> list[OutboxMessage]:
    """These messages, in the order they were written."""
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.key.in_(keys)).order_by(OutboxMessage.id)))


def mark_sent(session: Session, message_id: int, now: datetime, result: dict[str, Any]) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="sent", sent_at=now, result=result, claimed_until=None, last_error=None)
    )
    _forget_private_payload(session, message_id, result)


def _forget_private_payload(session: Session, message_id: int, keep: dict[str, Any]) -> None:
    """A private message's text is not kept once Slack has it (or never will)."""
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.private).values(payload=keep)
    )


def mark_retry(session: Session, message_id: int, at: datetime, error: str) -> None:
    """After a failed attempt: try again at `at`."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(next_attempt_at=at, claimed_until=None, last_error=error)
    )


def release(session: Session, message_id: int, at: datetime, error: str | None = None) -> None:
    """Give a claimed message back unsent, the attempt not counted (Slack was not asked): try at `at`."""
    values: dict[str, Any] = {"next_attempt_at": at, "claimed_until": None, "attempts": OutboxMessage.attempts - 1}
    if error:
        values["last_error"] = error
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))


def mark_failed(session: Session, message_id: int, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="failed", claimed_until=None, last_error=error)
    )
    _forget_private_payload(session, message_id, {})


def refused(session: Session, ids: list[int]) -> list[OutboxMessage]:
    """The messages among `ids` that Slack refused for good (or that were given up on)."""
    query = select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == "failed")
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def paces(session: Session) -> list[SlackPace]:
    """The pace of every Web API method a 429 taught (a handful of rows)."""
    return list(session.scalars(select(SlackPace)))


def take_turn(session: Session, method: str, start: float, spacing: float, latest: float) -> float | None:
    """Take the method's next turn, shared by every process, at `start` or after the last turn taken,
    `spacing` apart (seconds since the epoch); when that turn would begin after `latest` it is not
    taken, and when it begins is said all the same. None: no pace is kept for the method."""
    turn = case((SlackPace.next_turn > start, SlackPace.next_turn), else_=start)
    taken = session.execute(
        update(SlackPace)
        .where(SlackPace.method == method, turn <= latest)
        .values(next_turn=turn + spacing)
        .returning(SlackPace.next_turn)
    ).scalar()
    if taken is not None:
        return taken - spacing
    return session.scalar(select(turn).where(SlackPace.method == method))


def sent_since(session: Session, method: str, since: datetime) -> int:
    """How many calls of this method passed since then, whichever process made them."""
    return session.scalar(select(func.count()).where(OutboxMessage.sent_at > since, OutboxMessage.method == method))


def save_pace(
    session: Session, method: str, per_second: float | None, paused_until: datetime | None, now: datetime
) -> None:
    """Keep a method's pace for every process; a pause already kept that ends later stays."""
    insert = dialect_insert(session)(SlackPace).values(
        method=method, per_second=per_second, paused_until=paused_until, updated_at=now
    )
    kept, given = SlackPace.__table__.c.paused_until, insert.excluded.paused_until
    later = case((or_(given.is_(None), kept > given), kept), else_=given)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[SlackPace.method],
            set_={"per_second": insert.excluded.per_second, "paused_until": later, "updated_at": now},
        )
    )
