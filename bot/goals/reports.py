"""Goals seen from further away: a person's open goals on their own Home tab; milestones reached and
goals done in the weekly celebration (naming the owners of shared goals, only counted for personal
ones); shared goals in the lead digest; and `kaizen export goals` (shared goals only).

An unshared goal's title is shown to nobody but its owner, and a shared one's to the leads: nothing
of a goal's words goes to a channel."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import bot.goals.blocks as blocks
from bot.core.exports import local_time
from bot.core.parts import DigestPart, DigestWindow, Export, WeekPart
from bot.core.settings import Settings
from bot.core.text import to_plain
from storage import goals as store
from storage.db import Range
from storage.goals import OPEN, Goal, GoalMilestone, GoalProgress

STALLED_AFTER = timedelta(weeks=3)


def home_section(session: Session, settings: Settings, user_id: str, _now: datetime) -> list[dict]:
    goals = store.goals_of(session, user_id, OPEN)
    progress = store.progress_of(session, Goal.owner_id == user_id, Goal.status == OPEN)
    return blocks.home_section(goals, progress, settings.checkin_at, settings.timezone)


def week_part(session: Session, _settings: Settings, week: Range) -> WeekPart | None:
    milestones = store.milestones_reached_in(session, week)
    done = store.goals_done_in(session, week)
    people_with_progress = store.people_with_progress_in(session, week)
    if not (milestones or done or people_with_progress):
        return None
    return WeekPart(
        blocks=blocks.week_blocks(
            Counter(goal.owner_id for _, goal in milestones if goal.shared),
            Counter(goal.owner_id for goal in done if goal.shared),
            personal_milestone_people=len({goal.owner_id for _, goal in milestones if not goal.shared}),
            personal_done_people=len({goal.owner_id for goal in done if not goal.shared}),
            people_with_progress=people_with_progress,
        ),
        summary=blocks.week_summary(len(milestones), len(done), people_with_progress),
    )


def digest_part(session: Session, settings: Settings, window: DigestWindow) -> DigestPart | None:
    if not store.anything_shared(session):
        return None  # nobody shares a goal: no line about goals
    progress: dict[int, list[GoalProgress]] = defaultdict(list)
    for logged in store.shared_progress_in(session, window.this_week):
        progress[logged.goal_id].append(logged)
    reached: dict[int, list[GoalMilestone]] = defaultdict(list)
    for milestone, goal in store.milestones_reached_in(session, window.this_week):
        if goal.shared:
            reached[goal.id].append(milestone)
    done = {goal.id for goal in store.goals_done_in(session, window.this_week) if goal.shared}
    moving = [
        (goal, progress[goal.id], reached[goal.id])
        for goal in store.shared_goals(session, set(progress) | set(reached) | done)
    ]
    stalled = store.stalled_shared_goals(session, window.now - STALLED_AFTER)
    return DigestPart(
        comparison=[
            blocks.digest_comparison(
                store.shared_counts(session, window.this_week), store.shared_counts(session, window.last_week)
            )
        ],
        blocks=blocks.digest_section(moving, stalled, STALLED_AFTER.days // 7, settings.timezone),
    )


def export_rows(session: Session, since: datetime | None, tz: ZoneInfo) -> Iterable[list[str]]:
    """Shared goals only: a goal nobody shared is its owner's alone."""
    for goal, progress_dates in store.shared_goals_since(session, since):
        yield [
            goal.owner_id,
            str(goal.number),
            to_plain(goal.title),
            to_plain(goal.why),
            goal.target_date.isoformat() if goal.target_date else "",
            goal.status,
            local_time(goal.created_at, tz),
            local_time(goal.closed_at, tz) if goal.closed_at else "",
            "; ".join(
                to_plain(m.text) + (f" (reached {local_time(m.reached_at, tz)})" if m.reached_at else "")
                for m in goal.milestones
            ),
            "; ".join(local_time(at, tz) for at in progress_dates),
        ]


EXPORT = Export(
    "goals",
    ["owner", "goal", "title", "why", "target", "status", "set", "closed", "milestones", "progress"],
    export_rows,
)
