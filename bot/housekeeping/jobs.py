"""The daily clean-up of the outbox and of the keys that make a retried Slack request record once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from bot.core.context import Context, Job, Run
from bot.core.jobs import daily
from storage import outbox as store

MESSAGES_KEPT = timedelta(days=30)
# Slack retries an event within minutes and a signature is refused after 5 minutes: a day is ample.
REQUEST_KEYS_KEPT = timedelta(days=1)


def clean_up(ctx: Context, session: Session, run: Run) -> list[str]:
    now = run.now
    messages = store.delete_old_messages(session, now - MESSAGES_KEPT)
    keys = store.delete_handled_requests(session, now - REQUEST_KEYS_KEPT)
    return [
        f"deleted {messages} message(s) sent more than {MESSAGES_KEPT.days} days ago (channel posts are kept)",
        f"deleted {keys} request key(s) older than a day",
    ]


CLEAN_UP = Job("housekeeping", clean_up, daily, lambda _settings: {"hour": 4, "minute": 10})
