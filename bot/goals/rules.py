"""The rules of growth goals: setting one, logging progress, asking for help, finishing or dropping it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

import bot.goals.blocks as messages
from bot.core.outbox import post_message
from bot.core.refusal import Refused
from bot.core.settings import Settings
from bot.core.text import from_slack_formatted, to_plain
from bot.home.rules import home_changed
from bot.mentor.rules import mentors_offering
from bot.teams.people import leads_of
from storage import goals as store
from storage.db import lock_until_commit
from storage.goals import OPEN, Goal, GoalMilestone, GoalProgress, Progress
from storage.outbox import claim_request

MAX_OPEN_GOALS = 5  # a few goals get real attention; many get none
MAX_TITLE_LENGTH = 300  # characters as typed
MAX_WHY_LENGTH = 500
MAX_MILESTONES = 5
MAX_MILESTONE_LENGTH = 75  # a milestone is ticked on a checkbox, whose text Slack cuts at 75
MAX_NOTE_LENGTH = 500
# `/goal add … by 2026-12-31`: the last words, when they look like a date (a malformed one is refused).
_BY_DATE = re.compile(r"(?:^|\s+)by\s+([0-9][0-9./-]*)\s*$", re.IGNORECASE)


class GoalRefused(Refused):
    """A goal, check-in or request for help that cannot be done; nothing was stored."""

    default_field = messages.TITLE


@dataclass(frozen=True)
class GoalDraft:
    title: str  # safe mrkdwn
    why: str = ""
    target_date: date | None = None
    milestones: tuple[str, ...] = ()  # safe mrkdwn
    shared: bool = False


@dataclass(frozen=True)
class Helper:
    """Someone a stuck person may ask: one of the leads, or a mentor who offers `skill`."""

    user_id: str
    skill: str | None = None  # None: a lead

    @property
    def value(self) -> str:
        """How the Stuck form's menu names this choice."""
        return f"lead:{self.user_id}" if self.skill is None else f"mentor:{self.skill}:{self.user_id}"


def parse_add(text: str) -> GoalDraft:
    """`Handle billing disputes on my own by 2026-12-31` → the goal and its target date."""
    target = None
    by = _BY_DATE.search(text)
    if by:
        target = _iso_date(by[1])
        if target is None:
            raise GoalRefused(
                f"I can't read `{by[1]}` as a date: write it as YYYY-MM-DD, e.g. `/goal add Handle billing "
                "disputes on my own by 2026-12-31`.",
                messages.TARGET_DATE,
            )
        text = text[: by.start()]
    return GoalDraft(title=from_slack_formatted(text.strip()), target_date=target)


def _iso_date(text: str) -> date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None


def parse_milestones(text: str) -> tuple[str, ...]:
    """The form's milestones, one a line (list markers and blank lines left out); safe mrkdwn in."""
    lines = (re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip() for line in text.splitlines())
    return tuple(line for line in lines if line)


def set_goal(session: Session, *, owner_id: str, draft: GoalDraft, request_key: str, now: datetime) -> Goal:
    """Record a new goal with the owner's next number. Raises GoalRefused (nothing written) or
    DuplicateRequest (a retry of a recorded request)."""
    _check_length(draft.title, MAX_TITLE_LENGTH, "goal", messages.TITLE, required=True)
    _check_length(draft.why, MAX_WHY_LENGTH, "reason", messages.WHY)
    if draft.target_date is not None and draft.target_date < now.date():
        raise GoalRefused(
            f"{messages.day(draft.target_date)} has passed: pick today or a day ahead for your target.",
            messages.TARGET_DATE,
        )
    if len(draft.milestones) > MAX_MILESTONES:
        raise GoalRefused(
            f"That's {len(draft.milestones)} milestones: please keep it to {MAX_MILESTONES}, one a line. "
            "A few clear steps are easier to see yourself take.",
            messages.MILESTONES,
        )
    for milestone in draft.milestones:
        _check_length(milestone, MAX_MILESTONE_LENGTH, "milestone", messages.MILESTONES)
    # One person's goals are numbered and counted one transaction at a time.
    lock_until_commit(session, f"goals:{owner_id}")
    open_goals = store.goals_of(session, owner_id, OPEN)
    if len(open_goals) >= MAX_OPEN_GOALS:
        raise GoalRefused(messages.too_many_goals(open_goals, MAX_OPEN_GOALS))
    claim_request(session, request_key, now)
    goal = Goal(
        owner_id=owner_id,
        number=store.next_number(session, owner_id),
        title=draft.title.strip(),
        why=draft.why.strip(),
        target_date=draft.target_date,
        shared=draft.shared,
        status=OPEN,
        created_at=now,
        milestones=[GoalMilestone(position=n, text=text) for n, text in enumerate(draft.milestones, 1)],
    )
    session.add(goal)
    session.flush()
    home_changed(session, owner_id)
    return goal


def numbered_goal(session: Session, owner_id: str, argument: str, verb: str) -> Goal:
    """`/goal done 2`: the owner's goal 2, whatever its status."""
    number = argument.strip().lstrip("#")
    if not number.isdigit():
        raise GoalRefused(f"Which goal? Say its number, e.g. `/goal {verb} 2` (`/goal list` shows them).")
    # A number past the integer column's range is no goal (PostgreSQL would refuse the query).
    goal = store.by_number(session, owner_id, int(number)) if int(number) < 2**31 else None
    if goal is None:
        raise GoalRefused(f"You have no goal {int(number)}. `/goal list` shows yours and their numbers.")
    return goal


def own_open_goal(session: Session, goal_id: int, user_id: str) -> Goal:
    """The goal a check-in button or form is about, if it is `user_id`'s and still open; locked until
    commit. A refusal shows on the forms' note."""
    goal = store.lock_goal(session, goal_id) if goal_id < 2**31 else None
    if goal is None:
        raise GoalRefused("I can't find that goal any more.", messages.NOTE)
    if goal.owner_id != user_id:
        raise GoalRefused("That's someone else's goal: only the person who set it can check in on it.", messages.NOTE)
    if goal.status != OPEN:
        raise GoalRefused(messages.closed_already(goal), messages.NOTE)
    return goal


def close_goal(session: Session, goal: Goal, status: str, *, request_key: str, now: datetime) -> Progress:
    """Mark an open goal done or dropped; returns the progress it saw, for the reply."""
    if goal.status != OPEN:
        raise GoalRefused(messages.closed_already(goal))
    claim_request(session, request_key, now)
    goal.status, goal.closed_at = status, now
    home_changed(session, goal.owner_id)
    return store.progress_of(session, Goal.id == goal.id).get(goal.id, store.NO_PROGRESS)


def log_progress(
    session: Session, *, goal_id: int, user_id: str, note: str, reached: list[int], request_key: str, now: datetime
) -> tuple[Goal, Progress]:
    """*Made progress*: a short note (safe mrkdwn) and the milestones ticked with it."""
    goal = own_open_goal(session, goal_id, user_id)
    _check_length(note, MAX_NOTE_LENGTH, "note", messages.NOTE)
    ticked = [m for m in goal.milestones if m.id in reached and m.reached_at is None]
    if not note.strip() and not ticked:
        raise GoalRefused("Write a line about what you did or tried, or tick a milestone.", messages.NOTE)
    claim_request(session, request_key, now)
    session.add(GoalProgress(goal_id=goal.id, note=note.strip(), created_at=now))
    for milestone in ticked:
        milestone.reached_at = now
    session.flush()
    home_changed(session, goal.owner_id)
    return goal, store.progress_of(session, Goal.id == goal.id)[goal.id]


def helpers_for(session: Session, settings: Settings, goal: Goal) -> list[Helper]:
    """Whom a stuck owner may ask: the leads of their teams first, then the org-wide leads (KAIZEN_LEADS),
    and for each of KAIZEN_SKILLS someone offers, one mentor (chosen by the goal's ID among those who
    offer it, so asking again reaches the same person and different goals spread over the mentors).
    Never the owner."""
    team_leads = sorted(leads_of(session, goal.owner_id))
    others = sorted(settings.leads - {goal.owner_id, *team_leads})
    helpers = [Helper(lead) for lead in team_leads + others]
    for skill in settings.skills:
        mentors = [mentor for mentor in mentors_offering(session, skill) if mentor != goal.owner_id]
        if mentors:
            helpers.append(Helper(mentors[goal.id % len(mentors)], skill))
    if not helpers:
        raise GoalRefused(messages.NOBODY_TO_ASK, messages.HELPER)
    return helpers


def ask_for_help(
    session: Session,
    settings: Settings,
    *,
    goal_id: int,
    user_id: str,
    choice: str,
    note: str,
    request_key: str,
    now: datetime,
) -> Helper:
    """*Stuck*, and the owner said yes: DM the helper they chose, naming the goal (even a personal
    one: its owner chose to show it to them)."""
    goal = own_open_goal(session, goal_id, user_id)
    helper = next((h for h in helpers_for(session, settings, goal) if h.value == choice), None)
    if helper is None:
        raise GoalRefused("That person can't be asked any more: please pick someone else.", messages.HELPER)
    _check_length(note, MAX_NOTE_LENGTH, "note", messages.NOTE)
    claim_request(session, request_key, now)
    text, blocks = messages.help_request(goal, helper.skill, note.strip())
    post_message(
        session, f"goal:{goal.id}:help:{request_key}", channel=helper.user_id, text=text, blocks=blocks, now=now
    )
    return helper


def _check_length(safe: str, most: int, what: str, field: str, *, required: bool = False) -> None:
    """Limits count the characters as typed, not Slack's escaping of them (`&` is one, not `&amp;`)."""
    typed = to_plain(safe).strip()
    if required and not typed:
        raise GoalRefused(messages.WHAT_GOAL, field)
    if len(typed) > most:
        raise GoalRefused(f"That {what} has {len(typed)} characters: please keep it to {most}.", field)
