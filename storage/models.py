"""The declarative base and the tables every feature shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.db import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class OutboxMessage(Base):
    """A Web API call the bot owes Slack, written in the same transaction as what it is about."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    method: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]]
    # chat.update of a message posted earlier: the key of that post, whose ts is filled in at send time.
    updates_key: Mapped[str | None] = mapped_column(String(200))
    # Messages in one lane (a channel, a person's DM, a Home tab) are sent one at a time, in the order
    # written, a moment apart; NULL: no order to keep.
    lane: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    # A job's fan-out, which the process that wrote it is sending: other processes' sweepers leave it
    # until then (were they to join in, they would only crowd the machine: Slack's pace is shared).
    reserved_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # What Slack answered that later messages need (channel and ts of a post).
    result: Mapped[dict[str, Any] | None]
    # Its text is for its recipient only (a piece of feedback): once sent, or given up on, the
    # payload keeps only what Slack answered (channel and ts).
    private: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_lane", "lane", "status", "sent_at"),
        Index("ix_outbox_messages_sent", "sent_at"),  # what passed in the last second, when Slack answers 429
    )


class SlackPace(Base):
    """How fast the bot may call one Web API method, as the outbox learned it from Slack's 429s: kept
    here so every process (HTTP workers, the scheduler, the next `kaizen jobs run`) starts from it."""

    __tablename__ = "slack_paces"

    method: Mapped[str] = mapped_column(String(50), primary_key=True)
    per_second: Mapped[float | None] = mapped_column(
        Float
    )  # None: no 429 taught it yet, so calls go as fast as they come
    paused_until: Mapped[datetime | None]  # a 429's Retry-After holds the whole method back until then
    # The start of the method's next call, in seconds since the epoch: every process takes its turns
    # here, so together they call at the pace, not each at it.
    next_turn: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime]


class HandledRequest(Base):
    """One row per Slack request acted on, so a retried delivery or a double click records once."""

    __tablename__ = "handled_requests"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    handled_at: Mapped[datetime]


class Member(Base):
    """A member of the workspace, as Slack last described them: the member directory (users.list,
    refreshed daily) and anyone Kaizen meets in between (users.info)."""

    __tablename__ = "members"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    is_bot: Mapped[bool] = mapped_column(default=False)
    deleted: Mapped[bool] = mapped_column(default=False)
    is_guest: Mapped[bool] = mapped_column(default=False)  # a single- or multi-channel guest
    first_seen_at: Mapped[datetime]


class JobRun(Base):
    """A scheduled job's claim on one period (a day, a week): whoever inserts it first runs it."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    started_at: Mapped[datetime]  # of the latest run for the period
    runs: Mapped[int] = mapped_column(default=1)  # the first run, then one more for each forced run
    summary: Mapped[str | None] = mapped_column(Text)
