"""Feedback seen from further away: requests waiting on someone (their Home tab), counts for the
lead digest, and `kaizen export feedback`. Never the text: it is not stored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import bot.feedback.blocks as blocks
from bot.core.exports import local_time
from bot.core.parts import DigestPart, DigestWindow, Export
from bot.core.settings import Settings
from storage import feedback as store
from storage.feedback import Feedback

OVERDUE_AFTER = timedelta(days=2)  # a feedback request unanswered this long is overdue


def home_section(session: Session, _settings: Settings, user_id: str, now: datetime) -> list[dict]:
    return blocks.home_section(list(store.waiting_on(session, user_id)), now)


def digest_part(session: Session, _settings: Settings, window: DigestWindow) -> DigestPart:
    overdue = store.overdue_feedback_requests(session, window.now - OVERDUE_AFTER)
    return DigestPart(
        comparison=blocks.digest_comparison(
            store.feedback_counts(session, window.this_week), store.feedback_counts(session, window.last_week)
        ),
        blocks=[blocks.overdue_requests(overdue, OVERDUE_AFTER.days, window.now)],
    )


def export_rows(session: Session, since: datetime | None, tz: ZoneInfo) -> Iterable[list[str]]:
    """Who asked whom and what became of it; never the text (not stored) nor an anonymous giver (not
    kept). A batch someone answered anonymously keeps a row per request, but with nobody named, no
    answer time and its rows sorted by status: whoever knows whom the requester asked first, or who
    was at work when, could otherwise tell who answered (its rows say no more than its counts)."""
    anonymous_batches = store.anonymous_batches(session)
    for batch_key, batch in groupby(store.feedback_since(session, since), key=lambda feedback: feedback.batch_key):
        if batch_key in anonymous_batches:
            yield from sorted(_row(feedback, tz, named=False) for feedback in batch)
        else:
            yield from (_row(feedback, tz, named=True) for feedback in batch)


def _row(feedback: Feedback, tz: ZoneInfo, *, named: bool) -> list[str]:
    return [
        local_time(feedback.created_at, tz),
        feedback.about_id,
        (feedback.giver_id or "") if named else "",
        "request" if feedback.requested else "unrequested",
        feedback.status,
        local_time(feedback.answered_at, tz) if feedback.answered_at and named else "",
    ]


EXPORT = Export("feedback", ["date", "for", "giver", "kind", "status", "answered"], export_rows)
