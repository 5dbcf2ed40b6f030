"""Queries on the outbox table; the rules for sending live in bot.core.outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import HandledRequest, OutboxMessage


class DuplicateRequest(Exception):
    """This Slack request (or click) was already acted on."""


def claim_request(session: Session, key: str, now: datetime) -> None:
    """Record that `key` is being handled in this transaction; raise DuplicateRequest if it was before."""
    session.add(HandledRequest(key=key, handled_at=now))
    try:
        session.flush()
    except IntegrityError:
        raise DuplicateRequest(key) from None


def add_message(
    session: Session,
    key: str,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    updates_key: str | None = None,
    not_before: datetime | None = None,
    private: bool = False,
) -> OutboxMessage:
    message = OutboxMessage(
        key=key,
        method=method,
        payload=payload,
        updates_key=updates_key,
        created_at=now,
        next_attempt_at=not_before or now,
        private=private,
    )
    session.add(message)
    return message


def drop_pending(session: Session, updates_key: str) -> None:
    """Forget unsent updates of one message: a newer update replaces them."""
    session.execute(
        delete(OutboxMessage).where(OutboxMessage.updates_key == updates_key, OutboxMessage.status == "pending")
    )


def delete_messages(session: Session, keys: list[str]) -> None:
    """Forget messages, sent or not: for records that must not outlive what they were about."""
    session.execute(delete(OutboxMessage).where(OutboxMessage.key.in_(keys)))


def forget_keyed(session: Session, prefix: str, sent_before: datetime) -> datetime | None:
    """Drop the unsent and the older sent messages whose key starts with `prefix` (a newer one replaces
    them); return when the latest one left was sent, if any."""
    keyed = OutboxMessage.key.startswith(prefix, autoescape=True)
    session.execute(
        delete(OutboxMessage).where(
            keyed, or_(OutboxMessage.status != "sent", OutboxMessage.sent_at < sent_before)
        )
    )
    return session.scalar(select(func.max(OutboxMessage.sent_at)).where(keyed))


def _claimable(now: datetime):
    return (
        OutboxMessage.status == "pending",
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    query = select(OutboxMessage.id).where(*_claimable(now)).order_by(OutboxMessage.id).limit(limit)
    return list(session.scalars(query))


def ids_for_keys(session: Session, keys: list[str]) -> list[int]:
    query = select(OutboxMessage.id).where(OutboxMessage.key.in_(keys)).order_by(OutboxMessage.id)
    return list(session.scalars(query))


def claim(session: Session, message_id: int, now: datetime, hold: timedelta) -> OutboxMessage | None:
    """Take one message for sending; None if another sender has it or it is not due."""
    claimed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, *_claimable(now))
        .values(claimed_until=now + hold, attempts=OutboxMessage.attempts + 1)
    )
    if claimed.rowcount != 1:
        return None
    return session.get(OutboxMessage, message_id, populate_existing=True)


def by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))


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
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(next_attempt_at=at, claimed_until=None, last_error=error)
    )


def mark_failed(session: Session, message_id: int, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="failed", claimed_until=None, last_error=error)
    )
    _forget_private_payload(session, message_id, {})


def undelivered(session: Session, keys: list[str]) -> list[tuple[str, str | None]]:
    """(status, last error) of each message among `keys` that is not sent."""
    query = select(OutboxMessage.status, OutboxMessage.last_error).where(
        OutboxMessage.key.in_(keys), OutboxMessage.status != "sent"
    )
    return [(status, error) for status, error in session.execute(query.order_by(OutboxMessage.id))]
