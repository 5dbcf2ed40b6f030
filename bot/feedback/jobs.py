"""The feedback jobs: feedback-reminders (one reminder after REMIND_AFTER, expiry after EXPIRE_AFTER),
and forget-anonymous-counts at midnight."""

from __future__ import annotations

from sqlalchemy.orm import Session

import bot.feedback.blocks as messages
from bot.core.context import Context, Job, Run
from bot.core.jobs import daily
from bot.core.outbox import post_message
from bot.core.text import plural
from bot.feedback.rules import EXPIRE_AFTER, REMIND_AFTER, reminder_key
from bot.home.rules import home_changed
from storage import feedback as store


def send_reminders(_ctx: Context, session: Session, run: Run) -> list[str]:
    """Expire requests older than EXPIRE_AFTER (telling the requester), then remind once after REMIND_AFTER.

    Each request's own reminded_at / status makes a second run (even a forced one) send nothing new.
    Its report counts and never names: who is left in a batch someone answered anonymously is secret.
    """
    now = run.now
    lines = []
    expiring = store.open_requests_created_before(session, now - EXPIRE_AFTER)
    for request in expiring:
        request.status, request.expired_at = "expired", now
        home_changed(session, request.giver_id)
    # A batch's requests were made together, so they expire together: one note to the requester.
    told = store.asked_together(session, expiring)
    for batch in told:
        first = batch.requests[0]
        text = messages.expired_dm(batch, EXPIRE_AFTER.days)
        post_message(session, f"feedback:{first.id}:expired", channel=first.about_id, text=text, blocks=None, now=now)
    if expiring:
        requests, notes = plural(len(expiring), "request", "requests"), plural(len(told), "message", "messages")
        lines.append(f"{requests} expired; their requesters were told ({notes})")
    session.flush()
    reminded = store.open_requests_created_before(session, now - REMIND_AFTER, unreminded=True)
    for request in reminded:
        request.reminded_at = now
        text, blocks = messages.request_dm(request, EXPIRE_AFTER.days, reminder=True)
        post_message(session, reminder_key(request.id), channel=request.giver_id, text=text, blocks=blocks, now=now)
    if reminded:
        lines.append(f"{plural(len(reminded), 'reminder', 'reminders')} sent")
    return lines


def forget_anonymous_counts(_ctx: Context, session: Session, run: Run) -> list[str]:
    """As a day ends, forget its counts behind the anonymous-feedback limit: they are needed that day
    only, and while they are kept, whoever holds both the database and the bot token can test who gave
    that day's anonymous feedback (bot.feedback.rules.anonymous_giver_key). How many there were is not
    said: that would count the givers."""
    store.forget_anonymous_counts(session, before=run.now.date())
    return ["forgot the anonymous-feedback counts of earlier days"]


REMINDERS_JOB = Job("feedback-reminders", send_reminders, daily, lambda _settings: {"hour": 10, "minute": 0})
FORGET_COUNTS_JOB = Job(
    "forget-anonymous-counts", forget_anonymous_counts, daily, lambda _settings: {"hour": 0, "minute": 0}
)
