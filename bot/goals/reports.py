"""Goals seen from further away: a person's open goals on their own Home tab; milestones reached and
goals done in the weekly celebration (naming the owners of shared goals, only counted for personal
ones); shared goals in the lead digest; and `kaizen export goals` (shared goals only).

An unshared goal's title is shown to nobody but its owner, and a shared one's to the leads: nothing
of a goal's words goes to a channel."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import bot.goals.blocks as blocks
from bot.core.exports import local_time
from bot.core.parts import DigestPart, DigestWindow, Export, Scope, WeekPart
from bot.core.settings import Settings
from bot.core.text import to_plain
from storage import goals as store
from storage.db import Range
from storage.goals import OPEN, Goal, GoalMilestone, WeekProgress

STALLED_AFTER = timedelta(weeks=3)
NO_WEEK_PROGRESS = WeekProgress(0, "")


def home_section(session: Session, settings: Settings, user_id: str, _now: datetime) -> list[dict]:
    goals = store.goals_of(session, user_id, OPEN)
    progress = store.progress_of(session, Goal.owner_id == user_id, Goal.status == OPEN)
    return blocks.home_section(goals, progress, settings.checkin_at, settings.timezone)


def week_part(session: Session, _settings: Settings, week: Range, scope: Scope) -> WeekPart | None:
    milestones = [(m, goal) for m, goal in store.milestones_reached_in(session, week) if scope.covers(goal.owner_id)]
    done = [goal for goal in store.goals_done_in(session, week) if scope.covers(goal.owner_id)]
    people_with_progress = sum(1 for owner in store.people_with_progress_in(session, week) if scope.covers(owner))
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


def digest_part(
    session: Session, settings: Settings, window: DigestWindow, scopes: Sequence[Scope]
) -> list[DigestPart | None]:
    """Shared goals (only): progress, milestones and goals done this week against last, the goals that
    moved and those stalled; of everyone, and of each team's people (the goals they own)."""
    if not store.anything_shared(session):
        return [None] * len(scopes)  # nobody shares a goal: no line about goals
    counts = store.shared_counts_by_owner(session, [window.this_week, window.last_week])
    reached: dict[int, list[GoalMilestone]] = defaultdict(list)
    for milestone, goal in store.milestones_reached_in(session, window.this_week):
        reached[goal.id].append(milestone)
    moved = store.shared_goals_moved_in(session, window.this_week)
    stalled = store.stalled_shared_goals(session, window.now - STALLED_AFTER)
    mine = [[goal_id for goal_id, owner in moved if scope.covers(owner)] for scope in scopes]
    # Only the goals a digest names (a few per scope, not every goal that moved) are read in full.
    shown = {goal_id for goal_ids in mine for goal_id in goal_ids[: blocks.SHOWN_IN_DIGEST]}
    goals = store.shared_goals(session, shown)
    progress = store.progress_in(session, shown, window.this_week)
    parts: list[DigestPart | None] = []
    for scope, goal_ids in zip(scopes, mine, strict=True):
        totals = scope.total(counts, 6)
        theirs = [(goal, at) for goal, at in stalled if scope.covers(goal.owner_id)]
        parts.append(
            DigestPart(
                comparison=[blocks.digest_comparison(tuple(totals[:3]), tuple(totals[3:]))],
                blocks=blocks.digest_section(
                    [
                        (goals[goal_id], progress.get(goal_id, NO_WEEK_PROGRESS), reached[goal_id])
                        for goal_id in goal_ids[: blocks.SHOWN_IN_DIGEST]
                    ],
                    len(goal_ids),
                    theirs,
                    STALLED_AFTER.days // 7,
                    settings.timezone,
                ),
                brief=[] if scope.everyone else [blocks.stalled_brief(len(theirs))],
            )
        )
    return parts


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
