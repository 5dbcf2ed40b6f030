"""The feedback-reminders job: one reminder after REMIND_AFTER, expiry after EXPIRE_AFTER."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.context import Context, Job
from bot.core.jobs import daily
from bot.core.outbox import post_message
from bot.feedback import blocks as messages
from bot.feedback.rules import EXPIRE_AFTER, REMIND_AFTER, reminder_key
from bot.home.rules import home_changed
from storage import feedback as store


def send_reminders(_ctx: Context, session: Session, now: datetime) -> list[str]:
    """Expire requests older than EXPIRE_AFTER (telling the requester), then remind once after REMIND_AFTER.

    Each request's own reminded_at / status makes a second run (even a forced one) send nothing new.
    """
    store.forget_anonymous_counts(session, before=now.date())  # a day's counts are kept that day only
    lines = []
    for request in store.open_requests_created_before(session, now - EXPIRE_AFTER):
        request.status, request.expired_at = "expired", now
        home_changed(session, request.giver_id)
        post_message(
            session,
            f"feedback:{request.id}:expired",
            channel=request.about_id,
            text=messages.expired_dm(request, EXPIRE_AFTER.days),
            blocks=None,
            now=now,
        )
        lines.append(f"request {request.id} expired; told {request.about_id}")
    session.flush()
    for request in store.open_requests_created_before(session, now - REMIND_AFTER, unreminded=True):
        request.reminded_at = now
        text, blocks = messages.request_dm(request, EXPIRE_AFTER.days, reminder=True)
        post_message(session, reminder_key(request.id), channel=request.giver_id, text=text, blocks=blocks, now=now)
        lines.append(f"request {request.id}: reminded {request.giver_id}")
    return lines


REMINDERS_JOB = Job("feedback-reminders", send_reminders, daily, lambda _settings: {"hour": 10, "minute": 0})
