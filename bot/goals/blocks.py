"""Block Kit and texts for growth goals: replies, the three forms, the weekly check-in DM, the request
for help, and goals' parts of the Home tab, the weekly celebration and the lead digest.

Titles, milestones and notes are safe mrkdwn; they are never wrapped in formatting marks, so no
`*` or `_` someone typed can break a message."""

from __future__ import annotations

import calendar
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.settings import WeeklyAt
from bot.core.text import mention, names, plural, quote, to_plain, truncate
from storage.goals import (
    DONE,
    NO_MILESTONES,
    NO_PROGRESS,
    OPEN,
    Goal,
    GoalMilestone,
    Milestones,
    Progress,
    SharedGoal,
    WeekProgress,
)

GOAL_MODAL = "goal_modal"
PROGRESS_MODAL = "goal_progress_modal"
STUCK_MODAL = "goal_stuck_modal"
# The check-in DM's buttons; each button's value is the goal's ID.
PROGRESS_ACTION, STUCK_ACTION, DONE_ACTION = "goal_progress", "goal_stuck", "goal_done"
# The forms' inputs, by block and action ID.
TITLE, WHY, TARGET_DATE, MILESTONES, SHARE = "title", "why", "target_date", "milestones", "share"
SHARED_WITH = "shared_with"  # the form's line naming whom a shared goal is shown to
NOTE, REACHED, HELPER = "note", "reached", "helper"
PROGRESS_TITLE, STUCK_TITLE = "Made progress", "Stuck? Ask for help"  # modal titles: 24 characters at most

WHAT_GOAL = (
    "What would you like to get better at? For example: `/goal add Handle billing disputes on my own by 2026-12-31`."
)
NOBODY_TO_ASK = (
    "There's nobody I can ask for you yet: you have no lead (no team of yours has one, and KAIZEN_LEADS is "
    "empty) and nobody offers a skill with "
    "`/mentor offer`. Being stuck usually means you've reached the hard, useful part of learning something: "
    "a colleague you trust is worth a message."
)
SHARING = (
    "Leads see a shared goal and its progress in their weekly digest, and the weekly celebration names you "
    "when you reach one of its milestones (never the goal's words). Unshared, only you ever see it."
)
LIST_CLOSED = 5  # finished goals `/goal list` shows under the open ones
SHOWN_IN_DIGEST = 20


# --- small pieces -----------------------------------------------------------------------------------
def day(of: date) -> str:
    return f"{of:%a} {of.day} {of:%b} {of.year}"


def local_day(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b}"


def weekly(at: WeeklyAt) -> str:
    """`Wednesdays at 15:00`."""
    return f"{calendar.day_name[at.weekday]}s at {at.at:%H:%M}"


def short(text: str, limit: int = 150) -> str:
    """User text on one line, cut at `limit` characters (never inside an entity or a mention)."""
    return truncate(" ".join(text.split()), limit)


def name(goal: Goal | SharedGoal) -> str:
    """`goal 2: Handle billing disputes on my own` (cut when long)."""
    return f"goal {goal.number}: {short(goal.title, 200)}"


def milestone_count(milestones: Milestones) -> str:
    return f"{milestones.reached} of {milestones.total} milestones"


def _facts(goal: Goal, progress: Progress, milestones: Milestones) -> list[str]:
    facts = [f"by {day(goal.target_date)}"] if goal.target_date else []
    if milestones.total:
        facts.append(milestone_count(milestones))
    facts.append(plural(progress.count, "check-in with progress", "check-ins with progress"))
    facts.append("shared with your lead" if goal.shared else "private")
    return facts


def _last_progress(progress: Progress, tz: ZoneInfo) -> str:
    latest = progress.latest
    if latest is None:
        return "No progress logged yet."
    note = f": {short(latest.note)}" if latest.note else " (milestones ticked)"
    return f"Last progress {local_day(latest.created_at, tz)}{note}"


def _milestone_lines(goal: Goal) -> list[str]:
    return [f"{':white_check_mark:' if m.reached_at else ':white_square:'} {m.text}" for m in goal.milestones]


# --- replies to /goal ---------------------------------------------------------------------------------
def help_text(checkin: WeeklyAt, most_open: int, max_title: int) -> str:
    return "\n".join(
        [
            "*/goal — growth goals you set yourself, with a weekly check-in*",
            "`/goal` — a form: what you want to get better at, why, a target date, up to 5 milestones, "
            "and whether to share it with your lead",
            f"`/goal add Handle billing disputes on my own by 2026-12-31` — the quick way (up to {max_title} "
            "characters; the date is optional)",
            "`/goal list` — your goals, their milestones and your latest progress",
            "`/goal done 2` — you got there :tada:  ·  `/goal drop 2` — let a goal go that no longer fits",
            f"Every week ({weekly(checkin)}) I send you a check-in with *Made progress*, *Stuck* and *Done* "
            "for each goal — unless you already logged progress on all of them that week. A small step counts: "
            "a note about what you tried is progress too. *Stuck* can ask a mentor or your lead for you, "
            "only if you say so.",
            f"Up to {most_open} open goals at once, so each gets real attention. {SHARING}",
        ]
    )


def too_many_goals(open_goals: list[Goal], most: int) -> str:
    listed = "\n".join(f"• {name(goal)}" for goal in open_goals)
    return (
        f"You have {most} open goals already, the most at once, so each one gets real attention:\n{listed}\n"
        "Finish one (`/goal done N`) or let one go (`/goal drop N`) to make room."
    )


def closed_already(goal: Goal) -> str:
    if goal.status == DONE:
        return f"Goal {goal.number} is done already :tada: so it needs no more check-ins."
    return f"Goal {goal.number} was dropped, so it takes no more check-ins. `/goal` sets a new one."


def goal_set(goal: Goal, checkin: WeeklyAt) -> str:
    facts = [f"by {day(goal.target_date)}"] if goal.target_date else []
    if goal.milestones:
        facts.append(plural(len(goal.milestones), "milestone", "milestones"))
    facts.append("shared with your lead" if goal.shared else "private: only you see it")
    return (
        f":dart: Goal {goal.number} is set: {goal.title}\n({', '.join(facts)})\n"
        f"I'll check in with you on {weekly(checkin)}. Small steps count: every note about what you tried "
        "is progress."
    )


def goal_closed(goal: Goal, progress: Progress) -> str:
    effort = []
    if progress.count:
        effort.append(plural(progress.count, "check-in with progress", "check-ins with progress"))
    if goal.milestones:
        effort.append(milestone_count(Milestones.of(goal)) + " reached")
    along = f" {' and '.join(effort)} along the way." if effort else ""
    if goal.status == DONE:
        return (
            f":tada: Goal {goal.number} is done: {goal.title}.{along} The steady effort is what got you here. "
            "Ready for the next one? `/goal`"
        )
    return (
        f"Goal {goal.number} is dropped: {goal.title}.{along} Letting go of a goal that no longer fits is a good "
        "call too; what you learned on the way stays with you."
    )


def goal_list(goals: list[Goal], progress: dict[int, Progress], tz: ZoneInfo) -> str:
    open_goals = [goal for goal in goals if goal.status == OPEN]
    closed = sorted((g for g in goals if g.status != OPEN), key=lambda g: g.closed_at, reverse=True)
    if not goals:
        return "You have no goals yet. What would you like to get better at? `/goal` sets one."
    lines = ["*Your open goals*" if open_goals else "You have no open goals. `/goal` sets a new one."]
    for goal in open_goals:
        seen = progress.get(goal.id, NO_PROGRESS)
        lines.append(f"*{goal.number}.* {goal.title}")
        lines.append("      " + " · ".join(_facts(goal, seen, Milestones.of(goal))))
        if goal.why:
            lines.append(f"      Why: {short(goal.why, 300)}")
        lines += ["      " + line for line in _milestone_lines(goal)]
        lines.append("      " + _last_progress(seen, tz))
    if closed:
        lines.append("*Finished*")
        for goal in closed[:LIST_CLOSED]:
            how = ":tada: done" if goal.status == DONE else "dropped"
            lines.append(f"*{goal.number}.* {short(goal.title)} ({how} {local_day(goal.closed_at, tz)})")
        if len(closed) > LIST_CLOSED:
            lines.append(f"…and {len(closed) - LIST_CLOSED} earlier ones")
    return "\n".join(lines)


# --- the forms ----------------------------------------------------------------------------------------
def shared_with(team_leads: list[str], org_wide: list[str]) -> str:
    """Whom a goal its owner shares with their lead is shown to, by name."""
    if team_leads:
        lead = "lead" if len(team_leads) == 1 else "leads"
        who = f"{names(team_leads)} (your team's {lead})" + (f" and {names(org_wide)} (org-wide)" if org_wide else "")
    elif org_wide:
        who = f"the org-wide leads, {names(org_wide)} (you are in no team)"
    else:
        return "Nobody leads a team of yours yet, so a shared goal is seen by no lead for now."
    return f"Shared, it is seen by {who}."


def goal_modal(
    max_title: int, max_why: int, max_milestones: int, max_milestone: int, audience: tuple[list[str], list[str]]
) -> dict:
    """The form behind `/goal`; `audience` is whom sharing shows the goal to: the owner's team leads, and
    the org-wide leads."""
    share = Option(
        value="shared",
        text="Share with my lead",
        description="Progress in the lead digest; your name (not the goal) in the celebration",
    )
    return View(
        type="modal",
        callback_id=GOAL_MODAL,
        title=PlainTextObject(text="A growth goal"),
        submit=PlainTextObject(text="Set goal"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id=TITLE,
                label="What do I want to get better at?",
                hint="Ambitious, but within reach in a few weeks or months.",
                element=PlainTextInputElement(
                    action_id=TITLE, max_length=max_title, placeholder="Handle billing disputes on my own"
                ),
            ),
            InputBlock(
                block_id=WHY,
                label="Why does it matter to me?",
                optional=True,
                element=PlainTextInputElement(action_id=WHY, multiline=True, max_length=max_why),
            ),
            InputBlock(
                block_id=TARGET_DATE,
                label="Target date",
                optional=True,
                element=DatePickerElement(action_id=TARGET_DATE),
            ),
            InputBlock(
                block_id=MILESTONES,
                label="Milestones on the way",
                optional=True,
                hint=f"Up to {max_milestones}, one a line ({max_milestone} characters each): steps you'll see "
                "yourself take. Each one reached is celebrated.",
                element=PlainTextInputElement(
                    action_id=MILESTONES,
                    multiline=True,
                    max_length=max_milestones * (max_milestone + 1),
                    placeholder="Shadow a senior colleague on three disputes",
                ),
            ),
            InputBlock(
                block_id=SHARE,
                label="Who sees it",
                optional=True,
                hint=SHARING,
                element=CheckboxesElement(action_id=SHARE, options=[share]),
            ),
            ContextBlock(block_id=SHARED_WITH, elements=[MarkdownTextObject(text=shared_with(*audience))]),
        ],
    ).to_dict()


def goal_set_modal(goal: Goal, checkin: WeeklyAt) -> dict:
    return limits.notice_modal("A growth goal", goal_set(goal, checkin))


def _goal_heading(goal: Goal) -> dict:
    lines = [f"*Goal {goal.number}:* {goal.title}", *_milestone_lines(goal)]
    return limits.section("\n".join(lines))


def progress_modal(goal: Goal, max_note: int) -> dict:
    """*Made progress*: a short note, and the milestones not reached yet to tick."""
    hint = "Leads see notes on a goal you share." if goal.shared else "Only you see it."
    blocks = [
        _goal_heading(goal),
        InputBlock(
            block_id=NOTE,
            label="What did you do or try this week?",
            optional=True,
            hint=f"A sentence is plenty; trying counts as much as succeeding. {hint}",
            element=PlainTextInputElement(action_id=NOTE, multiline=True, max_length=max_note),
        ).to_dict(),
    ]
    open_milestones = [m for m in goal.milestones if m.reached_at is None]
    if open_milestones:
        options = [Option(value=str(m.id), text=truncate(to_plain(m.text), 75)) for m in open_milestones]
        blocks.append(
            InputBlock(
                block_id=REACHED,
                label="Milestones reached",
                optional=True,
                element=CheckboxesElement(action_id=REACHED, options=options),
            ).to_dict()
        )
    return _goal_form(PROGRESS_MODAL, goal, PROGRESS_TITLE, "Log it", "Cancel", blocks)


def progress_logged_modal(goal: Goal, progress: Progress, ticked: list[GoalMilestone]) -> dict:
    lines = [
        f":seedling: Logged: that's {plural(progress.count, 'check-in', 'check-ins')} with progress on goal "
        f"{goal.number}. Every step counts."
    ]
    lines += [f":white_check_mark: Milestone reached: {m.text}" for m in ticked]
    if goal.milestones and all(m.reached_at for m in goal.milestones):
        lines.append(
            f"Every milestone is reached :tada: When it feels done, press *Done* or `/goal done {goal.number}`."
        )
    return limits.notice_modal(PROGRESS_TITLE, "\n".join(lines))


def helper_option(helper_skill: str | None, helper_name: str) -> str:
    what = "My lead" if helper_skill is None else f"A mentor in #{helper_skill}"
    return truncate(f"{what}: {helper_name}", 75)


def stuck_modal(goal: Goal, helpers: list[tuple[str, str]], max_note: int) -> dict:
    """*Stuck*: whom to ask (`helpers`: each choice's value and label), and what is in the way.
    Nobody is told anything unless the form is submitted."""
    intro = (
        f"*Stuck on goal {goal.number}?* {goal.title}\n"
        "Being stuck usually means you've reached the hard, useful part. Someone who has been there can help "
        "you find the next small step. If you ask, I'll DM the person you pick, naming this goal"
        f"{'' if goal.shared else ' (it stays private from everyone else)'}. Close this, and nobody hears a thing."
    )
    options = [Option(value=value, text=label) for value, label in helpers]
    return _goal_form(
        STUCK_MODAL,
        goal,
        STUCK_TITLE,
        "Ask for help",
        "Not now",
        [
            limits.section(intro),
            InputBlock(
                block_id=HELPER,
                label="Who should I ask?",
                element=StaticSelectElement(action_id=HELPER, options=options, placeholder="Pick someone"),
            ).to_dict(),
            InputBlock(
                block_id=NOTE,
                label="What's in the way?",
                optional=True,
                hint="They'll see this with your goal.",
                element=PlainTextInputElement(action_id=NOTE, multiline=True, max_length=max_note),
            ).to_dict(),
        ],
    )


def _goal_form(callback_id: str, goal: Goal, title: str, submit: str, close: str, blocks: list[dict]) -> dict:
    """A form about one goal, whose ID it carries to its submission."""
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=str(goal.id),
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text=close),
        blocks=blocks,
    ).to_dict()


def asked_modal(helper_id: str) -> dict:
    return limits.notice_modal(
        STUCK_TITLE,
        f":raised_hands: I've asked {mention(helper_id)} by DM. They have your goal and your note; "
        "they may reach out, or message them yourself.",
    )


# --- DMs ----------------------------------------------------------------------------------------------
def help_request(goal: Goal, skill: str | None, note: str) -> Message:
    owner = mention(goal.owner_id)
    because = "as their lead" if skill is None else f"because you offer #{skill} as a mentor"
    target = f" (by {day(goal.target_date)})" if goal.target_date else ""
    text = f":raised_hand: {owner} is stuck on a growth goal and asked me to ask you for help"
    blocks = [limits.section(f"{text}, {because}.\n*Their goal{target}:* {goal.title}")]
    if note:
        blocks += limits.text_sections("*What's in the way:*\n" + quote(note))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="A short chat or a pointer to where to start often does it: reply to them directly. "
                    "Only you were asked."
                )
            ]
        ).to_dict()
    )
    return text, blocks


# A check-in's buttons, built (and checked against Slack's limits) once by slack_sdk, then copied for each
# goal: the same buttons validated again for every goal of every person were most of the job's time.
_BUTTONS = ActionsBlock(
    elements=[
        ButtonElement(text="Made progress", action_id=PROGRESS_ACTION, value="0", style="primary"),
        ButtonElement(text="Stuck", action_id=STUCK_ACTION, value="0"),
        ButtonElement(
            text="Done",
            action_id=DONE_ACTION,
            value="0",
            confirm=ConfirmObject(
                title="Mark this goal as done?",
                text="It leaves your check-ins; you'll find it under Finished in `/goal list`.",
                confirm="Done!",
                deny="Not yet",
            ),
        ),
    ],
).to_dict()


def _checkin_buttons(goal: Goal) -> dict:
    """_BUTTONS with this goal's values: copied only where they differ (a deep copy took longer than the rest)."""
    *others, done = [{**button, "value": str(goal.id)} for button in _BUTTONS["elements"]]
    title = {**done["confirm"]["title"], "text": f"Mark goal {goal.number} as done?"}
    done["confirm"] = {**done["confirm"], "title": title}
    return {**_BUTTONS, "block_id": f"goal:{goal.id}", "elements": [*others, done]}


def checkin(
    goals: list[Goal],
    progress: dict[int, Progress],
    milestones: dict[int, Milestones],
    this_week: set[int],
    tz: ZoneInfo,
) -> Message:
    """The weekly check-in: one section per open goal with its buttons. The fallback text (shown in
    notifications, and by dry runs to admins) names no goal."""
    goals_going = "is your growth goal" if len(goals) == 1 else f"are your {len(goals)} growth goals"
    text = f":seedling: Check-in time: how {goals_going} going?"
    blocks = [
        limits.section(
            f"{text}\nAny small step counts: a note about what you tried is progress too, and so is "
            "asking for help when you're stuck."
        )
    ]
    for goal in goals:
        seen = progress.get(goal.id, NO_PROGRESS)
        facts = _facts(goal, seen, milestones.get(goal.id, NO_MILESTONES))
        logged = "\n:white_check_mark: Progress logged this week." if goal.id in this_week else ""
        blocks.append(
            limits.section(
                f"*Goal {goal.number}:* {goal.title}\n{' · '.join(facts)}\n{_last_progress(seen, tz)}{logged}"
            )
        )
        blocks.append(_checkin_buttons(goal))
    blocks.append(
        ContextBlock(
            elements=[MarkdownTextObject(text="`/goal list` shows everything; `/goal drop N` lets a goal go.")]
        ).to_dict()
    )
    return text, blocks


# --- Home tab, weekly celebration, lead digest -----------------------------------------------------
def home_section(goals: list[Goal], progress: dict[int, Progress], checkin_at: WeeklyAt, tz: ZoneInfo) -> list[dict]:
    heading = limits.section("*:dart: Your growth goals*")
    if not goals:
        text = "What would you like to get better at? `/goal` sets a goal, and I check in with you weekly."
        return [heading, ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()]
    lines = []
    for goal in goals:
        seen = progress.get(goal.id, NO_PROGRESS)
        lines.append(
            f"*{goal.number}.* {short(goal.title, 300)}\n{' · '.join(_facts(goal, seen, Milestones.of(goal)))}\n"
            f"{_last_progress(seen, tz)}"
        )
    note = f"Check-ins come on {weekly(checkin_at)}. Only you see goals you don't share."
    return [heading, *limits.sections(lines, "\n\n"), ContextBlock(elements=[MarkdownTextObject(text=note)]).to_dict()]


def week_blocks(
    shared_milestones: Counter[str],
    shared_done: Counter[str],
    personal_milestone_people: int,
    personal_done_people: int,
    people_with_progress: int,
) -> list[dict]:
    """Steps on the way as much as arrivals: the owners of shared goals by name (with how many
    milestones and goals each reached), personal ones only counted. Never a goal's words: sharing a
    goal is with the lead, and a channel is everyone."""
    lines = [
        f"• {mention(owner)} reached " + ("a milestone on a goal" if n == 1 else f"{n} milestones on their goals")
        for owner, n in shared_milestones.items()
    ]
    lines += [
        f"• {mention(owner)} reached " + ("a goal" if n == 1 else f"{n} goals") + " :tada:"
        for owner, n in shared_done.items()
    ]
    if personal_milestone_people:
        lines.append(
            f"• {plural(personal_milestone_people, 'person', 'people')} reached a milestone on a personal goal"
        )
    if personal_done_people:
        lines.append(f"• {plural(personal_done_people, 'person', 'people')} reached a personal goal")
    blocks = [
        limits.section(":dart: *Growth goals* — every step on the way counts, not only the finish line:"),
        *limits.sections(lines),
    ]
    if people_with_progress:
        blocks.append(
            limits.section(
                f"{plural(people_with_progress, 'person', 'people')} logged progress on their goals this week: "
                "steady effort that rarely shows on a dashboard. Thank you for keeping at it."
            )
        )
    return blocks


def week_summary(milestones: int, done: int, people_with_progress: int) -> str:
    if milestones or done:
        parts = [plural(milestones, "milestone", "milestones")] if milestones else []
        if done:
            parts.append(plural(done, "goal", "goals"))
        return " and ".join(parts) + " reached"
    return f"{plural(people_with_progress, 'person', 'people')} worked on their goals"


def digest_comparison(this_week: tuple[int, int, int], last_week: tuple[int, int, int]) -> str:
    def counts(progress: int, milestones: int, done: int) -> str:
        return (
            f"{plural(progress, 'check-in with progress', 'check-ins with progress')}, "
            f"{plural(milestones, 'milestone', 'milestones')}, {done} done"
        )

    return f"• Shared growth goals: {counts(*this_week)} (before: {counts(*last_week)})"


def stalled_brief(stalled: int) -> str:
    return plural(stalled, "stalled shared goal", "stalled shared goals")


def digest_section(
    moving: list[tuple[SharedGoal, WeekProgress, list[GoalMilestone]]],
    moved: int,
    stalled: list[tuple[SharedGoal, datetime | None]],
    stalled_weeks: int,
    tz: ZoneInfo,
) -> list[dict]:
    """Shared goals only: what moved this week (`moving`: the first of the `moved`, with the milestones
    reached), and what has not moved for `stalled_weeks` weeks."""
    lines = ["*Shared growth goals* (only goals their owners chose to share)"]
    if moving:
        lines.append("Progress in the last 7 days:")
        for goal, progress, reached in moving[:SHOWN_IN_DIGEST]:
            checked_in = plural(progress.count, "check-in with progress", "check-ins with progress")
            facts = [checked_in] if progress.count else []
            facts += [f"milestone reached: {short(m.text, 100)}" for m in reached]
            if goal.status == DONE:
                facts.append("done :tada:")
            said = f" — “{short(progress.latest_note, 150)}”" if progress.latest_note else ""
            lines.append(f"• {mention(goal.owner_id)}, {name(goal)}: {', '.join(facts)}{said}")
        if moved > len(moving):
            lines.append(f"…and {moved - len(moving)} more")
    else:
        lines.append("No progress logged on shared goals in the last 7 days.")
    blocks = limits.sections(lines)
    if stalled:
        waiting = [f"*No progress for {stalled_weeks} weeks or more* — a kind word or a hand may help:"]
        for goal, last in stalled[:SHOWN_IN_DIGEST]:
            since = (
                f"last progress {local_day(last, tz)}"
                if last
                else f"set {local_day(goal.created_at, tz)}, nothing logged yet"
            )
            waiting.append(f"• {mention(goal.owner_id)}, {name(goal)} ({since})")
        if len(stalled) > SHOWN_IN_DIGEST:
            waiting.append(f"…and {len(stalled) - SHOWN_IN_DIGEST} more")
        blocks += limits.sections(waiting)
    return blocks
