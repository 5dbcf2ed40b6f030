"""The weekly lead digest: where recognition, feedback and ideas are flowing, and where they are not.

A DM to each lead and admin, with a chart of kudos per day. Counts only: never feedback text.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.jobs import Job, weekly, weekly_schedule
from bot.core.outbox import enqueue, post_message
from bot.core.settings import Settings
from bot.weekly import digest_blocks as messages
from bot.weekly.chart import kudos_per_day_png
from storage import digest_queries as queries
from storage.digest_queries import IdeaWaiting

GAP_DAYS = 30  # no kudos received for this long is a recognition gap
OVERDUE_AFTER = timedelta(days=2)  # a feedback request unanswered this long is overdue
CHART_DAYS = 28


@dataclass(frozen=True)
class WeekCounts:
    kudos: int
    feedback_asked: int
    feedback_answered: int
    ideas: dict[str, int]  # ideas that reached each status


@dataclass(frozen=True)
class Digest:
    now: datetime
    this_week: WeekCounts  # the 7 days up to now
    last_week: WeekCounts  # the 7 days before those
    gaps: list[tuple[str, datetime | None]]  # (member, last kudos received)
    overdue_feedback: list[datetime]  # when each overdue request was asked
    awaiting_review: list[IdeaWaiting]
    days: list[date]  # the 28 days before today
    kudos_per_day: list[int]


def _week(session: Session, range_: queries.Range, kudos: int) -> WeekCounts:
    asked, answered = queries.feedback_counts(session, range_)
    return WeekCounts(kudos, asked, answered, queries.idea_status_counts(session, range_))


def build_digest(session: Session, settings: Settings, now: datetime) -> Digest:
    tz = settings.timezone
    now = now.astimezone(tz)
    # Wall-clock arithmetic in the team's zone: a week across a DST change is still Monday 09:00 to Monday 09:00.
    this_week, last_week = (now - timedelta(days=7), now), (now - timedelta(days=14), now - timedelta(days=7))
    today = now.date()
    days = [today - timedelta(days=n) for n in range(CHART_DAYS, 0, -1)]
    day_ranges = [
        (datetime.combine(d, time(0), tzinfo=tz), datetime.combine(d + timedelta(1), time(0), tzinfo=tz)) for d in days
    ]
    this_kudos, last_kudos, *per_day = queries.kudos_counts(session, [this_week, last_week, *day_ranges])
    return Digest(
        now=now,
        this_week=_week(session, this_week, this_kudos),
        last_week=_week(session, last_week, last_kudos),
        gaps=queries.members_without_kudos_since(session, now - timedelta(days=GAP_DAYS)),
        overdue_feedback=queries.overdue_feedback_requests(session, now - OVERDUE_AFTER),
        awaiting_review=queries.ideas_awaiting_review(session),
        days=days,
        kudos_per_day=per_day,
    )


def send_lead_digest(ctx: Context, session: Session, now: datetime) -> list[str]:
    settings = ctx.settings
    leads = sorted(settings.leads | settings.admins)
    if not leads:
        return ["nothing: set KAIZEN_LEADS or KAIZEN_ADMINS to send the lead digest"]
    digest = build_digest(session, settings, now)
    text, blocks = messages.lead_digest(digest)
    chart = {
        "filename": "kudos-per-day.png",
        "title": "Kudos per day, last 4 weeks",
        "alt_txt": messages.chart_description(digest),
        "content_base64": base64.b64encode(kudos_per_day_png(digest.days, digest.kudos_per_day)).decode(),
    }
    period = weekly(now)
    for lead in leads:
        post_message(session, f"digest:{period}:{lead}", channel=lead, text=text, blocks=blocks, now=now)
        enqueue(session, f"digest:{period}:{lead}:chart", "files.uploadV2", {"channel": lead, **chart}, now)
    return [f"lead digest and its chart by DM to {len(leads)} lead(s): {', '.join(leads)}"]


LEAD_DIGEST = Job(
    name="lead-digest",
    work=send_lead_digest,
    period=weekly,
    schedule=lambda s: weekly_schedule(s.digest_at),
)
