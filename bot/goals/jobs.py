"""goal-checkins: once a week (KAIZEN_CHECKIN_AT), one DM to each person with open goals, with
*Made progress*, *Stuck* and *Done* for each; nobody who already logged progress on every open goal
that week (Monday 00:00 on, team zone) gets one."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from itertools import groupby

from sqlalchemy.orm import Session

import bot.goals.blocks as messages
from bot.core.context import Context, Job, Run
from bot.core.jobs import weekly, weekly_schedule
from bot.core.outbox import enqueue_all, message_to
from bot.core.text import plural
from storage import goals as store
from storage.goals import OPEN, Goal


def week_start(now: datetime) -> datetime:
    """Monday 00:00 of `now`'s ISO week, in `now`'s zone."""
    monday = now.date() - timedelta(days=now.weekday())
    return datetime.combine(monday, time(0), tzinfo=now.tzinfo)


def send_checkins(ctx: Context, session: Session, run: Run) -> list[str]:
    tz = ctx.settings.timezone
    goals = store.open_goals(session)
    this_week = store.progressed_since(session, week_start(run.now.astimezone(tz)))
    progress = store.progress_of(session, Goal.status == OPEN)
    milestones = store.milestone_counts(session, Goal.status == OPEN)
    lines, checkins, skipped = [], [], 0
    for owner, owned in groupby(goals, key=lambda goal: goal.owner_id):
        theirs = list(owned)
        if all(goal.id in this_week for goal in theirs):
            skipped += 1
            continue
        text, blocks = messages.checkin(theirs, progress, milestones, this_week, tz)
        checkins.append(message_to(owner, f"goal-checkin:{run.key}:{owner}", text=text, blocks=blocks))
        # Which goals is the owner's business: the report (also shown to admins) only counts them.
        lines.append(f"check-in to {owner} ({plural(len(theirs), 'open goal', 'open goals')})")
    enqueue_all(session, checkins, run.now)  # one statement for thousands of DMs
    lines.append(
        f"{plural(len(lines), 'check-in', 'check-ins')} sent; {plural(skipped, 'person', 'people')} skipped "
        "(progress already logged on every goal this week)"
    )
    return lines


GOAL_CHECKINS = Job(
    name="goal-checkins",
    work=send_checkins,
    period=weekly,
    schedule=lambda s: weekly_schedule(s.checkin_at),
)
