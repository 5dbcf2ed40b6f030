"""Feedback seen from further away: requests waiting on someone (their Home tab), counts for the
lead digest, and `kaizen export feedback`. Never the text: it is not stored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import bot.feedback.blocks as blocks
from bot.core.exports import local_time
from bot.core.parts import DigestPart, DigestWindow, Export, Scope
from bot.core.settings import Settings
from storage import feedback as store
from storage.feedback import Feedback, FeedbackCounts, OverdueRequest

OVERDUE_AFTER = timedelta(days=2)  # a feedback request unanswered this long is overdue


def home_section(session: Session, _settings: Settings, user_id: str, now: datetime) -> list[dict]:
    return blocks.home_section(list(store.waiting_on(session, user_id)), now)


def digest_part(
    session: Session, _settings: Settings, window: DigestWindow, scopes: Sequence[Scope]
) -> list[DigestPart]:
    """Feedback asked, answered and given unasked this week against last, and the requests overdue: of
    everyone, and of each team's people (feedback for them; requests overdue to or from them)."""
    weeks = (window.this_week, window.last_week)
    overdue = store.overdue_feedback_requests(session, window.now - OVERDUE_AFTER)
    if any(not scope.everyone for scope in scopes):
        per_person = [store.feedback_counts_by_person(session, week) for week in weeks]
        anonymous = store.anonymous_batches(session)
    parts = []
    for scope in scopes:
        if scope.everyone:
            counts = [store.feedback_counts(session, week) for week in weeks]
            late = [request.asked_at for request in overdue]
        else:
            counts = [
                sum((n for about, n in week.items() if scope.covers(about)), FeedbackCounts()) for week in per_person
            ]
            late = [request.asked_at for request in overdue if _concerns(request, scope, anonymous)]
        parts.append(
            DigestPart(
                comparison=blocks.digest_comparison(*counts),
                blocks=[blocks.overdue_requests(late, OVERDUE_AFTER.days, window.now)],
                brief=[] if scope.everyone else [blocks.overdue_brief(len(late))],
            )
        )
    return parts


def _concerns(request: OverdueRequest, scope: Scope, anonymous_batches: set[str]) -> bool:
    """A request is its asker's, and the asked person's too, unless someone it asked answered
    anonymously: who is still to answer would then say who did."""
    return scope.covers(request.about_id) or (
        scope.covers(request.giver_id) and request.batch_key not in anonymous_batches
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
