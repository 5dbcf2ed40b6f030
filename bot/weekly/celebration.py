"""The weekly celebration: everyone recognised this week, the values shown, ideas implemented,
first-time recognitions — effort and progress, said out loud once a week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.clock import week_start
from bot.core.context import Context
from bot.core.jobs import Job, weekly, weekly_schedule
from bot.core.outbox import post_message
from bot.core.settings import Settings
from bot.weekly import celebration_blocks as messages
from storage import digest_queries as queries


@dataclass(frozen=True)
class WeekInReview:
    start: datetime
    kudos: int
    givers: int
    recognised: list[tuple[str, int]]  # (user, kudos received), most first
    values: list[tuple[str, int]]
    first_timers: list[str]
    implemented: list[tuple[int, str]]  # (idea number, title)

    @property
    def quiet(self) -> bool:
        return not self.kudos and not self.implemented


def week_in_review(session: Session, settings: Settings, now: datetime) -> WeekInReview:
    """The calendar week (Monday 00:00, team time zone) up to `now`."""
    week = (week_start(now, settings.timezone), now)
    [kudos] = queries.kudos_counts(session, [week])
    return WeekInReview(
        start=week[0],
        kudos=kudos,
        givers=queries.giver_count(session, week),
        recognised=queries.recognised(session, week),
        values=queries.value_counts(session, settings.values, week),
        first_timers=queries.first_time_recipients(session, week),
        implemented=queries.ideas_implemented(session, week),
    )


def post_weekly_celebration(ctx: Context, session: Session, now: datetime) -> list[str]:
    channel = ctx.settings.celebration_channel
    if not channel:
        return ["nothing: set KAIZEN_CELEBRATION_CHANNEL (or KAIZEN_KUDOS_CHANNEL) to celebrate the week"]
    review = week_in_review(session, ctx.settings, now)
    posts = messages.celebration(review)
    for number, (text, blocks) in enumerate(posts, 1):
        post_message(session, f"celebration:{weekly(now)}:{number}", channel=channel, text=text, blocks=blocks, now=now)
    return [
        f"weekly celebration to <#{channel}> in {len(posts)} message(s): {review.kudos} kudos, "
        f"{len(review.recognised)} people recognised, {len(review.implemented)} ideas implemented"
    ]


WEEKLY_CELEBRATION = Job(
    name="weekly-celebration",
    work=post_weekly_celebration,
    period=weekly,
    schedule=lambda s: weekly_schedule(s.celebration_at),
)
