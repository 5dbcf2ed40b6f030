"""Keeping each person's App Home tab current, through the outbox, whichever process made the change."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.outbox import enqueue
from bot.home.blocks import home_view
from storage import outbox as outbox_store

# Slack rate-limits views.publish per user; a burst of changes publishes the latest view once.
REFRESH_GAP = timedelta(seconds=5)
STALE_HOMES = "stale_homes"  # session.info entry: people whose Home tab this transaction changed


def home_changed(session: Session, *user_ids: str) -> None:
    """Note that what these people's Home tabs show has changed; they are republished before commit."""
    session.info.setdefault(STALE_HOMES, set()).update(user_ids)


def forget_home(session: Session, user_id: str) -> None:
    """Drop every Home tab message kept for this person (an anonymous answer must leave no trace of them)."""
    session.info.get(STALE_HOMES, set()).discard(user_id)
    outbox_store.delete_lane(session, _lane(user_id))


def republish_before_commit(ctx: Context) -> None:
    """Installed on every context (requests, the scheduler, the CLI): whatever a transaction changed
    on someone's Home tab is republished in that same transaction."""
    event.listen(ctx.session_factory, "before_commit", lambda session: publish_stale_homes(session, ctx))


def publish_stale_homes(session: Session, ctx: Context) -> None:
    now = ctx.now()
    for user_id in sorted(session.info.pop(STALE_HOMES, ())):
        publish_home(session, ctx, user_id, now)


def publish_home(session: Session, ctx: Context, user_id: str, now: datetime) -> None:
    """Owe Slack this person's Home tab as it is now; an unsent older view of it is replaced."""
    lane = _lane(user_id)
    last_sent = outbox_store.forget_lane(session, lane, sent_before=now - REFRESH_GAP, now=now)
    session.flush()  # the view must show this transaction's own changes
    view = home_view([feature.home(session, ctx.settings, user_id, now) for feature in ctx.features if feature.home])
    enqueue(
        session,
        f"{lane}:{uuid.uuid4().hex}",
        "views.publish",
        {"user_id": user_id, "view": view},
        now,
        lane=lane,
        not_before=max(now, last_sent + REFRESH_GAP) if last_sent else now,
    )


def _lane(user_id: str) -> str:
    """The outbox lane of one person's Home tab: its views go out in order, and are found by it."""
    return f"home:{user_id}"
