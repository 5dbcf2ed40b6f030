"""Block Kit for ideas: one small pure function per message kind, and ideas' parts of the Home tab,
the weekly celebration and the lead digest."""

from __future__ import annotations

import json
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.clock import days_between
from bot.core.text import mention, truncate
from storage.ideas import Idea, IdeaStatusChange, IdeaWaiting

IDEA_MODAL = "idea_modal"
DECLINE_MODAL = "idea_decline_modal"
VOTE_ACTION = "idea_vote"
STATUS_ACTION = "idea_status"
STATUS_LABELS = {
    "new": "New",
    "under-review": "Under review",
    "planned": "Planned",
    "in-progress": "In progress",
    "implemented": "Implemented",
    "declined": "Declined",
}
STATUS_EMOJI = {
    "new": ":seedling:",
    "under-review": ":mag:",
    "planned": ":spiral_calendar_pad:",
    "in-progress": ":hammer_and_wrench:",
    "implemented": ":white_check_mark:",
    "declined": ":no_entry_sign:",
}


def _status(status: str) -> str:
    return f"{STATUS_EMOJI[status]} *{STATUS_LABELS[status]}*"


def _votes(n: int) -> str:
    return f"{n} vote" if n == 1 else f"{n} votes"


def _headline(idea: Idea) -> str:
    return f"Idea #{idea.id}: {idea.title}"


def idea_post(idea: Idea, votes: int, latest: IdeaStatusChange | None) -> Message:
    """The idea in the ideas channel: number, status, votes, the buttons to vote and move it on, and
    the admins' ⋯ menu to hide it."""
    body = f"*{_headline(idea)}*"
    if idea.description:
        body += "\n" + idea.description
    facts = [_status(idea.status), _votes(votes)]
    if idea.category:
        facts.append(f"`{idea.category}`")
    facts.append("anonymous" if idea.anonymous else f"from {mention(idea.author_id)}")
    more = [ContextBlock(elements=[MarkdownTextObject(text="  ·  ".join(facts))])]
    if latest and latest.note:
        update = f"{STATUS_LABELS[latest.to_status]} by {mention(latest.changed_by)}: {truncate(latest.note, 2000)}"
        more.append(ContextBlock(elements=[MarkdownTextObject(text=update)]))
    more.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=f":thumbsup: Upvote ({votes})", action_id=VOTE_ACTION, value=str(idea.id), style="primary"
                ),
                OverflowMenuElement(
                    action_id=STATUS_ACTION,
                    options=[
                        Option(text=f"Move to {label}", value=f"{idea.id}:{status}")
                        for status, label in STATUS_LABELS.items()
                        if status != idea.status
                    ],
                ),
            ]
        )
    )
    text = f"{_headline(idea)} — {STATUS_LABELS[idea.status]}, {_votes(votes)}"
    hide = limits.hide_menu("idea", idea.id, f"idea #{idea.id}")
    return text, limits.text_sections(body, accessory=hide) + [b.to_dict() for b in more]


def hidden_post(idea: Idea) -> Message:
    """What an idea's post becomes when an admin hides it: no title, no buttons."""
    text = f"_Idea #{idea.id} was hidden by an admin._"
    return text, [limits.section(text)]


def status_dm(idea: Idea, change: IdeaStatusChange) -> Message:
    headline = (
        f"{STATUS_EMOJI[change.to_status]} Your idea #{idea.id} *{idea.title}* is now "
        f"*{STATUS_LABELS[change.to_status]}* (was {STATUS_LABELS[change.from_status]}), "
        f"moved by {mention(change.changed_by)}."
    )
    blocks = [SectionBlock(text=MarkdownTextObject(text=headline))]
    if change.note:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="> " + truncate(change.note, 2500))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Thank you for helping the team get better.")]))
    text = f"Your idea #{idea.id} is now {STATUS_LABELS[change.to_status]}."
    return text + (f" {change.note}" if change.note else ""), [b.to_dict() for b in blocks]


def confirmation(idea: Idea, posted_in: str | None) -> str:
    where = (
        f"It is posted in <#{posted_in}> for votes." if posted_in else "No ideas channel is set, so it is not posted."
    )
    follow = "" if idea.anonymous else " I'll message you whenever its status changes."
    return f":bulb: Thanks! Your idea is number *#{idea.id}*. {where}{follow}"


def vote_reply(idea: Idea, voted: bool, votes: int) -> str:
    if voted:
        return f":thumbsup: You voted for idea #{idea.id} ({_votes(votes)} now). Press Upvote again to withdraw it."
    return f"Your vote for idea #{idea.id} is withdrawn ({_votes(votes)} now)."


def status_changed(idea: Idea) -> str:
    return f"Idea #{idea.id} is now {_status(idea.status)}."


def _summary(idea: Idea, votes: int) -> str:
    return f"*#{idea.id}* {truncate(idea.title, 100)} — {STATUS_LABELS[idea.status]} · {_votes(votes)}"


def idea_list(status: str | None, rows: list[tuple[Idea, int]], total: int) -> str:
    title = f"Ideas that are {STATUS_LABELS[status]}" if status else "Latest ideas"
    if not rows:
        return f"No ideas {'are ' + STATUS_LABELS[status] if status else 'yet'} — share one: `/idea <title>`."
    more = f"\n_Showing the newest {len(rows)} of {total}._" if total > len(rows) else ""
    return f"*{title}*\n" + "\n".join("• " + _summary(idea, votes) for idea, votes in rows) + more


def top(rows: list[tuple[Idea, int]]) -> str:
    if not rows:
        return "No open ideas right now — share one: `/idea <title>`."
    lines = [f"{rank}. {_summary(idea, votes)}" for rank, (idea, votes) in enumerate(rows, 1)]
    return "*Most voted open ideas*\n" + "\n".join(lines)


def help_text(categories: tuple[str, ...]) -> str:
    return "\n".join(
        [
            "*/idea — suggest an improvement and follow it to done*",
            "`/idea Pre-fill the refund form from the order page` — submit an idea; the first line is the title "
            "(up to 150 characters), the next lines the description",
            "`/idea` — open a form (with a category, and the choice to stay anonymous)",
            "`/idea list [status]` — the latest ideas, or those in one status",
            "`/idea top` — the most voted open ideas",
            "`/idea status 42 planned [note]` — leads: move idea 42 on; `declined` needs a reason",
            "Statuses: new → under-review → planned → in-progress → implemented, or declined.",
            f"Categories: {', '.join(categories)}",
            "Vote with the Upvote button on the idea in the ideas channel; press it again to withdraw your vote. "
            "To submit an idea whose title starts with list, top, help or status, use the form.",
        ]
    )


def idea_modal(categories: tuple[str, ...]) -> dict:
    return View(
        type="modal",
        callback_id=IDEA_MODAL,
        title=PlainTextObject(text="Share an idea"),
        submit=PlainTextObject(text="Submit"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id="title",
                label="Title",
                hint="One line: what would you change?",
                element=PlainTextInputElement(action_id="title", max_length=150),
            ),
            InputBlock(
                block_id="description",
                label="Description",
                optional=True,
                hint="Why it matters, and how it could work.",
                element=PlainTextInputElement(action_id="description", multiline=True, max_length=2000),
            ),
            InputBlock(
                block_id="category",
                label="Category",
                optional=True,
                element=StaticSelectElement(
                    action_id="category", options=[Option(text=c, value=c) for c in categories]
                ),
            ),
            InputBlock(
                block_id="anonymous",
                label="Anonymous",
                optional=True,
                element=CheckboxesElement(
                    action_id="anonymous",
                    options=[
                        Option(
                            value="anonymous",
                            text="Submit anonymously",
                            description="Your name is not stored; you won't get status updates.",
                        )
                    ],
                ),
            ),
        ],
    ).to_dict()


def submitted_modal(idea: Idea, posted_in: str | None) -> dict:
    return View(
        type="modal",
        title=PlainTextObject(text="Idea submitted"),
        close=PlainTextObject(text="Done"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=confirmation(idea, posted_in)))],
    ).to_dict()


def decline_modal(idea_id: int) -> dict:
    return View(
        type="modal",
        callback_id=DECLINE_MODAL,
        private_metadata=json.dumps({"idea": idea_id}),
        title=PlainTextObject(text=f"Decline idea #{idea_id}"),
        submit=PlainTextObject(text="Decline"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id="reason",
                label="Why is it declined?",
                hint="The author and the channel see this: help them learn from it.",
                element=PlainTextInputElement(action_id="reason", multiline=True, max_length=1000),
            )
        ],
    ).to_dict()


def home_section(ideas: list[tuple[Idea, int]], total: int) -> list[dict]:
    """A person's own ideas on their Home tab, newest first, with status and votes."""
    blocks = [limits.section("*:bulb: Your ideas*")]
    if not ideas:
        text = "No ideas yet. `/idea <what you'd change>`"
        return [*blocks, ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()]
    lines = [
        f"{STATUS_EMOJI[i.status]} #{i.id} {i.title} — {STATUS_LABELS[i.status]} · {votes} votes" for i, votes in ideas
    ]
    if total > len(ideas):
        lines.append(f"…and {total - len(ideas)} older ones: `/idea list`")
    return [*blocks, limits.section("\n".join(lines))]


def implemented_this_week(ideas: list[tuple[int, str]]) -> list[dict]:
    """(number, title) of the ideas implemented, for the weekly celebration."""
    return [
        limits.section(":hammer_and_wrench: *Ideas implemented this week* — improvements that are real now:"),
        *limits.sections([f"• #{number} {title}" for number, title in ideas]),
    ]


def _moved(counts: dict[str, int]) -> str:
    moved = [f"{counts[s]} {s}" for s in STATUS_LABELS if counts.get(s)]
    return ", ".join(moved) if moved else "none moved"


def digest_comparison(this_week: dict[str, int], last_week: dict[str, int]) -> str:
    """How many ideas reached each status this week against last week."""
    return f"• Ideas: {_moved(this_week)} (before: {_moved(last_week)})"


def awaiting_review(ideas: list[IdeaWaiting], now: datetime, shown: int = 10) -> dict:
    if not ideas:
        return limits.section("*Ideas waiting for review*\nNone: every idea has been looked at.")
    lines = [
        f"• #{idea.number} {truncate(idea.title, 120)} — {idea.status} for {days_between(idea.since, now)}"
        for idea in ideas[:shown]
    ]
    if len(ideas) > shown:
        lines.append(f"… and {len(ideas) - shown} more: `/idea list new`")
    return limits.section(f"*Ideas waiting for review* — {len(ideas)}, longest first:\n" + "\n".join(lines))
