"""Keeping each person's App Home tab current, through the outbox, whichever process made the change.

A transaction (a request's, a job's) only notes whose Home tab it changed: one outbox row each, with
no view in it. The outbox builds the view when it sends the row, from what is committed then, so a
job touching thousands of people stays light, a burst of changes publishes the latest view once, and
a crash after the commit loses nothing (the row waits for any process's sweeper).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.outbox import BUILT_WHEN_SENT, Outgoing, enqueue_all
from bot.home.blocks import home_view
from storage import outbox as outbox_store

# Slack rate-limits views.publish per user; a burst of changes publishes the latest view once.
REFRESH_GAP = timedelta(seconds=5)
STALE_HOMES = "stale_homes"  # session.info entry: people whose Home tab this transaction changed
HOME_BUILDER = "home"  # the outbox's builder of a Home tab's view (OutboxSender.builders)


def home_changed(session: Session, *user_ids: str) -> None:
    """Note that what these people's Home tabs show has changed; they are republished after commit."""
    session.info.setdefault(STALE_HOMES, set()).update(user_ids)


def forget_home(session: Session, user_id: str) -> None:
    """Drop every Home tab message kept for this person (an anonymous answer must leave no trace of them)."""
    session.info.get(STALE_HOMES, set()).discard(user_id)
    outbox_store.delete_lane(session, _lane(user_id))


def republish_homes(ctx: Context) -> None:
    """Installed on every context (requests, the scheduler, the CLI): whatever a transaction changed
    on someone's Home tab is owed to Slack by that same transaction, and built when it is sent."""
    event.listen(ctx.session_factory, "before_commit", lambda session: owe_stale_homes(session, ctx))
    ctx.outbox.builders[HOME_BUILDER] = lambda session, payload: _with_view(session, ctx, payload)


def owe_stale_homes(session: Session, ctx: Context) -> None:
    """One outbox row per person whose Home tab changed, replacing their unsent one; each waits
    REFRESH_GAP after the last view sent."""
    user_ids = sorted(session.info.pop(STALE_HOMES, ()))
    if not user_ids:
        return
    now = ctx.now()
    lanes = [_lane(user_id) for user_id in user_ids]
    last_sent = outbox_store.forget_lanes(session, lanes, sent_before=now - REFRESH_GAP, now=now)
    owed = []
    for user_id, lane in zip(user_ids, lanes, strict=True):
        sent = last_sent.get(lane)
        payload = {"user_id": user_id, BUILT_WHEN_SENT: HOME_BUILDER}
        not_before = max(now, sent + REFRESH_GAP) if sent else now
        owed.append(Outgoing(f"{lane}:{uuid.uuid4().hex}", "views.publish", payload, lane=lane, not_before=not_before))
    enqueue_all(session, owed, now)


def _with_view(session: Session, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    user_id, now = payload["user_id"], ctx.now()
    parts = [feature.home(session, ctx.settings, user_id, now) for feature in ctx.features if feature.home]
    return {**payload, "view": home_view(parts)}


def _lane(user_id: str) -> str:
    """The outbox lane of one person's Home tab: its views go out in order, and are found by it."""
    return f"home:{user_id}"
