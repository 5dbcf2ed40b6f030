"""Keeping each person's App Home tab current, through the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.core.clock import month_start, week_start
from bot.core.outbox import enqueue
from bot.core.settings import Settings
from bot.home.blocks import SHOWN_IDEAS, SHOWN_REQUESTS, HomeContent, home_view
from bot.tips import rules as tips
from storage import outbox as outbox_store
from storage.feedback import waiting_on
from storage.ideas import ideas_by_author
from storage.kudos import stats_for
from storage.tips import is_subscribed

# Slack rate-limits views.publish per user; a burst of changes publishes the latest view once.
REFRESH_GAP = timedelta(seconds=5)
STALE_HOMES = "stale_homes"  # session.info entry: people whose Home tab this transaction changed


def home_changed(session: Session, *user_ids: str) -> None:
    """Note that what these people's Home tabs show has changed; they are republished before commit."""
    session.info.setdefault(STALE_HOMES, set()).update(user_ids)


def publish_stale_homes(session: Session, settings: Settings, now: datetime) -> None:
    for user_id in sorted(session.info.pop(STALE_HOMES, ())):
        publish_home(session, settings, user_id, now)


def forget_home(session: Session, user_id: str) -> None:
    """Drop every Home tab message kept for this person (an anonymous answer must leave no trace of them)."""
    session.info.get(STALE_HOMES, set()).discard(user_id)
    outbox_store.forget_keyed(session, _key_prefix(user_id), sent_before=datetime.max.replace(tzinfo=UTC))


def _key_prefix(user_id: str) -> str:
    return f"home:{user_id}:"


def home_content(session: Session, settings: Settings, user_id: str, now: datetime) -> HomeContent:
    tz = settings.timezone
    waiting = waiting_on(session, user_id)
    ideas, ideas_total = ideas_by_author(session, user_id, SHOWN_IDEAS)
    tip = tips.todays_tip(session, settings, now)
    return HomeContent(
        user_id=user_id,
        kudos=stats_for(session, user_id, week_start(now, tz), month_start(now, tz)),
        waiting=list(waiting[:SHOWN_REQUESTS]),
        waiting_total=len(waiting),
        ideas=ideas,
        ideas_total=ideas_total,
        tip_text=tip.text if tip else None,
        subscribed=is_subscribed(session, user_id),
    )


def publish_home(session: Session, settings: Settings, user_id: str, now: datetime) -> None:
    """Owe Slack this person's Home tab as it is now; an unsent older view of it is replaced."""
    prefix = _key_prefix(user_id)
    last_sent = outbox_store.forget_keyed(session, prefix, sent_before=now - REFRESH_GAP)
    session.flush()  # the view must show this transaction's own changes
    view = home_view(home_content(session, settings, user_id, now), now)
    enqueue(
        session,
        prefix + uuid.uuid4().hex,
        "views.publish",
        {"user_id": user_id, "view": view},
        now,
        not_before=max(now, last_sent + REFRESH_GAP) if last_sent else now,
    )
