"""Customer compliments: one row per ticket a help desk reported praised, matched to a Slack member or not.

A matched compliment is also a kudos (storage.kudos, source `customer`, with the comment); this table
keeps what makes a redelivery record once (the help desk and its ticket id) and the agents Slack did
not know, by a pseudonym of their e-mail. No customer's name or e-mail is ever stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Range
from storage.models import Base
from storage.outbox import DuplicateRequest


class Compliment(Base):
    __tablename__ = "compliments"

    id: Mapped[int] = mapped_column(primary_key=True)
    desk: Mapped[str] = mapped_column(String(20))  # zendesk | other: the endpoint it came through
    ticket_id: Mapped[str] = mapped_column(String(100))
    rating: Mapped[str] = mapped_column(String(20))  # good | great | 4 | 5
    # Set only when no Slack member has the agent's e-mail: a pseudonym of it (an HMAC, see
    # bot.core.pseudonym), so the digest can count the agents it could not find without keeping, or
    # letting a staff directory reverse, their addresses.
    agent_email_hash: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("desk", "ticket_id", name="uq_compliments_desk_ticket"),
        Index("ix_compliments_received_at", "received_at"),
    )


def add(session: Session, compliment: Compliment) -> None:
    """Keep a compliment; DuplicateRequest if its ticket was recorded before (a redelivery)."""
    session.add(compliment)
    try:
        session.flush()
    except IntegrityError:
        raise DuplicateRequest(f"{compliment.desk}:{compliment.ticket_id}") from None


def unmatched(session: Session, range_: Range) -> tuple[int, int]:
    """Compliments in the range for agents not found in Slack, and how many different agents."""
    in_range = and_(Compliment.received_at >= range_[0], Compliment.received_at < range_[1])
    query = select(func.count(), func.count(Compliment.agent_email_hash.distinct())).where(
        in_range, Compliment.agent_email_hash.is_not(None)
    )
    count, agents = session.execute(query).one()
    return count, agents
