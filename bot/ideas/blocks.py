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
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.clock import days_between
from bot.core.parts import Scope
from bot.core.text import mention, plural, to_plain, truncate
from storage.ideas import MEASURE_LENGTHS, Idea, IdeaStatusChange, IdeaWaiting, Measure

IDEA_MODAL = "idea_modal"
DECLINE_MODAL = "idea_decline_modal"
IMPACT_MODAL = "idea_impact_modal"
MERGE_MODAL = "idea_merge_modal"
LEAD_MODAL = "idea_lead_modal"
VOTE_ACTION = "idea_vote"
LEAD_ACTIONS = "idea_lead_actions"  # the post's *Lead actions* button: opens the lead's panel
MOVE_ACTION = "idea_move"  # the panel's buttons: action "idea_move:STATUS", value "N:STATUS" (or "N:merge")
STATUS_ACTION = "idea_status"  # the ⋯ status menu of posts made before *Lead actions*: opens the panel too
MERGE_OPTION = "merge"
YOUR_PEOPLE = " — _from your people_"  # an idea waiting for review, in the digest of its author's team lead
STATUS_LABELS = {
    "new": "New",
    "under-review": "Under review",
    "planned": "Planned",
    "in-progress": "In progress",
    "implemented": "Implemented",
    "declined": "Declined",
    "merged": "Merged",
}
STATUS_EMOJI = {
    "new": ":seedling:",
    "under-review": ":mag:",
    "planned": ":spiral_calendar_pad:",
    "in-progress": ":hammer_and_wrench:",
    "implemented": ":white_check_mark:",
    "declined": ":no_entry_sign:",
    "merged": ":twisted_rightwards_arrows:",
}
ASK_FIRST = ("implemented", "declined")  # moves whose form asks what changed, or why


def _status(status: str) -> str:
    return f"{STATUS_EMOJI[status]} *{STATUS_LABELS[status]}*"


def _votes(n: int) -> str:
    return f"{n} vote" if n == 1 else f"{n} votes"


def _headline(idea: Idea) -> str:
    return f"Idea #{idea.id}: {idea.title}"


def idea_post(
    idea: Idea,
    votes: int,
    latest: IdeaStatusChange | None,
    *,
    merged_here: list[int] = (),
    target: Idea | None = None,
    target_link: str | None = None,
) -> Message:
    """The idea in the ideas channel, the same for everyone: number, status, what it changed once
    implemented, the ideas merged into it, the Upvote button with the vote count, *Lead actions* (a
    panel for leads, a kind word for others), and the admins' ⋯ menu to hide it. A merged idea says
    where it went instead, and has no buttons: its votes count there."""
    body = f"*{_headline(idea)}*"
    if idea.description:
        body += "\n" + idea.description
    facts = [_status(idea.status)]
    if idea.category:
        facts.append(f"`{idea.category}`")
    facts.append(_author(idea))
    more = [_context("  ·  ".join(facts))]
    if latest and latest.note:
        more.append(
            _context(f"{STATUS_LABELS[latest.to_status]} by {_who(latest.changed_by)}: {truncate(latest.note, 2000)}")
        )
    if idea.status == "implemented" and (idea.impact or idea.measure):
        more.append(_context(impact_text(idea)))
    if merged_here:
        more.append(_context(truncate("Merged into this one: " + ", ".join(f"#{n}" for n in merged_here), 3000)))
    if idea.status == "merged":
        more.append(_context(_merged_into(idea, target, target_link) + " Its votes count there now."))
    else:
        lead = ButtonElement(text="Lead actions", action_id=LEAD_ACTIONS, value=str(idea.id))
        more.append(ActionsBlock(elements=[_upvote(idea, votes), lead]))
    text = f"{_headline(idea)} — {_status_text(idea)}, {_votes(votes)}"
    hide = limits.hide_menu("idea", idea.id, f"idea #{idea.id}")
    return text, limits.text_sections(body, accessory=hide) + [b.to_dict() for b in more]


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _author(idea: Idea) -> str:
    return "anonymous" if idea.anonymous else f"from {mention(idea.author_id)}"


def _upvote(idea: Idea, votes: int) -> ButtonElement:
    return ButtonElement(
        text=f":thumbsup: Upvote ({votes})", action_id=VOTE_ACTION, value=str(idea.id), style="primary"
    )


def lead_modal(idea: Idea, votes: int) -> dict:
    """A lead's panel for one idea, behind its post's *Lead actions*: every status it can move to (a
    decline asks for the reason, implemented for what changed), and *Merge into…*. Each button acts
    at once, or shows its form in the panel's place."""

    def button(choice: str, label: str) -> ButtonElement:
        return ButtonElement(text=label, action_id=f"{MOVE_ACTION}:{choice}", value=f"{idea.id}:{choice}")

    moves = [
        button(status, f"{STATUS_EMOJI[status]} {label}" + ("…" if status in ASK_FIRST else ""))
        for status, label in STATUS_LABELS.items()
        if status not in (idea.status, "merged")
    ]
    about = f"*{_headline(idea)}*\nNow {_status(idea.status)}  ·  {_votes(votes)}  ·  {_author(idea)}"
    told = "the post updates" + ("" if idea.anonymous else ", and its author is told")
    return View(
        type="modal",
        callback_id=LEAD_MODAL,
        title=PlainTextObject(text="Lead actions"),
        close=PlainTextObject(text="Close"),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=truncate(about, limits.MAX_SECTION_TEXT))),
            SectionBlock(text=MarkdownTextObject(text=f"*Move it to* — {told}:")),
            ActionsBlock(block_id="moves", elements=moves),
            _context("*Declined…* asks for the reason and *Implemented…* for what changed, before anything moves."),
            SectionBlock(text=MarkdownTextObject(text="*A duplicate?* Merge it into the idea it repeats:")),
            ActionsBlock(block_id="merge", elements=[button(MERGE_OPTION, "Merge into…")]),
            _context(f"From anywhere: `/idea status {idea.id} <status> [note]`, `/idea merge {idea.id} into N`."),
        ],
    ).to_dict()


def _who(user_id: str | None) -> str:
    return mention(user_id) if user_id else "Kaizen"


def _merged_into(idea: Idea, target: Idea | None, link: str | None) -> str:
    """Where a merged idea went: ":twisted_rightwards_arrows: Merged into idea #7 *title*"."""
    number = f"<{link}|idea #{idea.merged_into_id}>" if link else f"idea #{idea.merged_into_id}"
    return f"{STATUS_EMOJI['merged']} Merged into {number}{_title_of(target)}."


def _title_of(target: Idea | None) -> str:
    """ " *title*" of the idea another was merged into; nothing once an admin hid it (its words are
    what was hidden), or when it is gone."""
    return f" *{target.title}*" if target and not target.hidden_at else ""


def measure_text(measure: Measure) -> str:
    """The measure as people say it: "refund handle time: 9 min → 6 min", "abandoned calls: 14% → 9%"."""
    unit = measure.unit if measure.unit in ("", "%") else f" {measure.unit}"
    return f"{measure.name}: {measure.before}{unit} → {measure.after}{unit}"


def impact_text(idea: Idea, limit: int = 1000) -> str:
    """What an implemented idea changed, and its measure."""
    parts = [f"*What changed:* {truncate(idea.impact, limit)}"] if idea.impact else []
    if idea.measure:
        parts.append(f":chart_with_upwards_trend: {measure_text(idea.measure)}")
    return "  ·  ".join(parts)


def hidden_post(idea: Idea) -> Message:
    """What an idea's post becomes when an admin hides it: no title, no buttons."""
    text = f"_Idea #{idea.id} was hidden by an admin._"
    return text, [limits.section(text)]


def status_dm(idea: Idea, change: IdeaStatusChange) -> Message:
    headline = (
        f"{STATUS_EMOJI[change.to_status]} Your idea #{idea.id} *{idea.title}* is now "
        f"*{STATUS_LABELS[change.to_status]}* (was {STATUS_LABELS[change.from_status]}), "
        f"moved by {_who(change.changed_by)}."
    )
    blocks = [SectionBlock(text=MarkdownTextObject(text=headline))]
    if change.note:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="> " + truncate(change.note, 2500))))
    if change.to_status == "implemented" and (idea.impact or idea.measure):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=impact_text(idea, 2500))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Thank you for helping the team get better.")]))
    text = f"Your idea #{idea.id} is now {STATUS_LABELS[change.to_status]}."
    return text + (f" {change.note}" if change.note else ""), [b.to_dict() for b in blocks]


def merged_dm(idea: Idea, target: Idea, change: IdeaStatusChange, link: str | None) -> Message:
    """To the author of an idea merged into another."""
    text = (
        f"{STATUS_EMOJI['merged']} Your idea #{idea.id} *{idea.title}* was merged into idea #{target.id}"
        f"{_title_of(target)} by {_who(change.changed_by)}: the same improvement, asked for twice, so the votes "
        f"for yours now count for #{target.id}."
    )
    follow = f"<{link}|See idea #{target.id}> and vote for it there." if link else f"Follow idea #{target.id}."
    thanks = _context(follow + " Thank you for speaking up: it showed the idea matters to more than one of us.")
    return f"Your idea #{idea.id} was merged into idea #{target.id}.", [limits.section(text), thanks.to_dict()]


def review_dm(idea: Idea, votes: int, link: str | None, channel: str | None) -> Message:
    """To each lead when an idea gets enough votes to go to review."""
    text = (
        f"{STATUS_EMOJI['under-review']} Idea #{idea.id} *{idea.title}* has {_votes(votes)}, so it is now "
        f"*Under review*. Please look at it and move it on."
    )
    where = f"<{link}|Open idea #{idea.id}>" if link else (f"It is in <#{channel}>" if channel else "")
    how = (
        f"`/idea status {idea.id} planned [note]`, `/idea status {idea.id} declined <reason>`, "
        "or *Lead actions* on its post."
    )
    return (
        f"Idea #{idea.id} reached {_votes(votes)} and is waiting for review.",
        [limits.section(text), _context(f"{where}: {how}" if where else how).to_dict()],
    )


def implemented_dm(idea: Idea) -> Message:
    """To everyone who voted for an idea, when it is implemented."""
    text = f"{STATUS_EMOJI['implemented']} An idea you voted for is implemented: #{idea.id} *{idea.title}*."
    blocks = [limits.section(text)]
    if idea.impact or idea.measure:
        blocks.append(limits.section(impact_text(idea, 2500)))
    blocks.append(_context("Your vote helped it happen. Thank you!").to_dict())
    return f"An idea you voted for is implemented: #{idea.id}.", blocks


def confirmation(idea: Idea, posted_in: str | None) -> str:
    where = (
        f"It is posted in <#{posted_in}> for votes." if posted_in else "No ideas channel is set, so it is not posted."
    )
    follow = "" if idea.anonymous else " I'll message you whenever its status changes."
    return f":bulb: Thanks! Your idea is number *#{idea.id}*. {where}{follow}"


def votes_closed(idea: Idea) -> str:
    """To someone pressing Upvote on an idea already implemented: what it changed, instead of a vote."""
    text = f"{STATUS_EMOJI['implemented']} Idea #{idea.id} is implemented already, so its votes are closed."
    if idea.impact or idea.measure:
        text += "\n" + impact_text(idea)
    return text


def vote_reply(idea: Idea, voted: bool, votes: int) -> str:
    if voted:
        return f":thumbsup: You voted for idea #{idea.id} ({_votes(votes)} now). Press Upvote again to withdraw it."
    return f"Your vote for idea #{idea.id} is withdrawn ({_votes(votes)} now)."


def status_changed(idea: Idea) -> str:
    return f"Idea #{idea.id} is now {_status(idea.status)}."


def merged(source: Idea, target: Idea) -> str:
    return f"{STATUS_EMOJI['merged']} Idea #{source.id} is merged into #{target.id}, which has its votes now."


def _status_text(idea: Idea) -> str:
    """The status in words, saying where a merged idea went: "Planned", "Merged into #7"."""
    return f"Merged into #{idea.merged_into_id}" if idea.status == "merged" else STATUS_LABELS[idea.status]


def _summary(idea: Idea, votes: int) -> str:
    return f"*#{idea.id}* {truncate(idea.title, 100)} — {_status_text(idea)} · {_votes(votes)}"


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
            "`/idea status 42 implemented <what changed>` — leads: done, and what it changed "
            "(the form behind *Lead actions* on the post also takes a measure, before and after)",
            "`/idea merge 12 into 7` — leads: 12 repeats 7; its votes move to 7",
            "*Lead actions* on an idea's post — leads: the same moves and merge, from a panel",
            "Statuses: new → under-review → planned → in-progress → implemented, or declined, or merged. "
            "An idea with enough votes goes to review by itself.",
            f"Categories: {', '.join(categories)}",
            "Vote with the Upvote button on the idea in the ideas channel; press it again to withdraw your vote. "
            "A title that reads like one of the commands above (`/idea top`, `/idea status 4 …`) is taken as that "
            "command: submit it with the form.",
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
    return limits.notice_modal("Idea submitted", confirmation(idea, posted_in))


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


def impact_modal(idea_id: int) -> dict:
    """What a lead fills in when moving an idea to implemented from its *Lead actions* panel."""

    def short_input(block_id: str, label: str, placeholder: str) -> InputBlock:
        limit = MEASURE_LENGTHS[block_id]
        element = PlainTextInputElement(action_id=block_id, placeholder=placeholder, max_length=limit)
        return InputBlock(block_id=block_id, label=label, optional=True, element=element)

    return View(
        type="modal",
        callback_id=IMPACT_MODAL,
        private_metadata=json.dumps({"idea": idea_id}),
        title=PlainTextObject(text=f"Implemented #{idea_id}"[:24]),
        submit=PlainTextObject(text="Implemented"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id="impact",
                label="What changed?",
                hint="Its author, everyone who voted for it and the weekly celebration see this.",
                element=PlainTextInputElement(
                    action_id="impact",
                    multiline=True,
                    max_length=1000,
                    placeholder="The refund form now fills itself from the order page.",
                ),
            ),
            SectionBlock(text=MarkdownTextObject(text="*A measure* (optional): a number before and after.")),
            short_input("measure_name", "What you measured", "refund handle time"),
            short_input("measure_before", "Before", "9"),
            short_input("measure_after", "After", "6"),
            short_input("measure_unit", "Unit", "min"),
        ],
    ).to_dict()


def merge_modal(source: Idea, targets: list[Idea]) -> dict:
    """*Merge into…*: which idea does this one repeat?"""
    explain = (
        f"Idea #{source.id} *{source.title}* will be *merged*, for good: its votes move to the idea you pick "
        "(someone who voted for both counts once), both posts say so, and its author (unless anonymous) is told."
    )
    return View(
        type="modal",
        callback_id=MERGE_MODAL,
        private_metadata=json.dumps({"idea": source.id}),
        title=PlainTextObject(text=f"Merge idea #{source.id}"[:24]),
        submit=PlainTextObject(text="Merge"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=truncate(explain, limits.MAX_SECTION_TEXT))),
            InputBlock(
                block_id="target",
                label="Merge it into",
                hint=f"The newest {len(targets)} ideas that can take it. Another one: /idea merge {source.id} into N",
                element=StaticSelectElement(
                    action_id="target",
                    placeholder="Pick the idea it repeats",
                    options=[
                        Option(text=truncate(f"#{t.id} {to_plain(t.title)}", 75), value=str(t.id)) for t in targets
                    ],
                ),
            ),
        ],
    ).to_dict()


def home_section(ideas: list[tuple[Idea, int]], total: int) -> list[dict]:
    """A person's own ideas on their Home tab, newest first, with status and votes."""
    blocks = [limits.section("*:bulb: Your ideas*")]
    if not ideas:
        text = "No ideas yet. `/idea <what you'd change>`"
        return [*blocks, ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()]
    lines = [f"{STATUS_EMOJI[i.status]} #{i.id} {i.title} — {_status_text(i)} · {_votes(votes)}" for i, votes in ideas]
    if total > len(ideas):
        lines.append(f"…and {total - len(ideas)} older ones: `/idea list`")
    return [*blocks, limits.section("\n".join(lines))]


def week_summary(implemented: list[Idea]) -> str:
    return plural(len(implemented), "idea implemented", "ideas implemented")


def implemented_this_week(ideas: list[Idea]) -> list[dict]:
    """The ideas implemented, for the weekly celebration: thanks to each author, and what changed."""
    lines = []
    for idea in ideas:
        thanks = "thank you to whoever suggested it" if idea.anonymous else f"thank you {mention(idea.author_id)}"
        line = f"• #{idea.id} *{idea.title}* — {thanks}!"
        if idea.impact or idea.measure:
            line += "\n      " + impact_text(idea, 500)
        lines.append(line)
    return [
        limits.section(":hammer_and_wrench: *Ideas implemented this week* — improvements that are real now:"),
        *limits.sections(lines),
    ]


def implemented_this_quarter(ideas: list[Idea], quarter: str, shown: int = 15) -> dict:
    """For the lead digest: the ideas implemented this quarter, each with its measure (or what changed)."""
    if not ideas:
        return limits.section(f"*Ideas implemented in {quarter}*\nNone yet.")
    lines = []
    for idea in ideas[:shown]:
        impact = measure_text(idea.measure) if idea.measure else truncate(idea.impact or "no impact recorded", 100)
        lines.append(f"• #{idea.id} {truncate(idea.title, 100)} — {impact}")
    if len(ideas) > shown:
        lines.append(f"… and {len(ideas) - shown} more: `kaizen export ideas`")
    with_measure = sum(1 for idea in ideas if idea.measure)
    headline = f"*Ideas implemented in {quarter}* — {len(ideas)}, {with_measure} with a measure:"
    return limits.section(headline + "\n" + "\n".join(lines))


def _moved(counts: dict[str, int]) -> str:
    """Ideas submitted (or back to new) and moves to each status: "2 new, 1 under review, 1 implemented"."""
    return ", ".join(f"{counts[s]} {STATUS_LABELS[s].lower()}" for s in STATUS_LABELS if counts.get(s))


def digest_comparison(this_week: dict[str, int], last_week: dict[str, int]) -> str:
    """How many ideas reached each status this week against last week, or plainly that none did."""
    if not this_week:
        before = f"before: {_moved(last_week)}" if last_week else "nor the week before"
        return f"• Ideas: no new ideas and no status changes ({before})"
    return f"• Ideas: {_moved(this_week)} (before: {_moved(last_week) or 'none'})"


def _marked(idea: IdeaWaiting, reader: Scope) -> bool:
    return not reader.everyone and reader.covers(idea.author_id)


def awaiting_review(ideas: list[IdeaWaiting], now: datetime, reader: Scope, shown: int = 10) -> dict:
    """Every idea waiting for review, longest first; those of the reader's people marked (a team lead's)."""
    if not ideas:
        return limits.section("*Ideas waiting for review*\nNone: every idea has been looked at.")
    lines = [
        f"• #{idea.number} {truncate(idea.title, 120)} — {STATUS_LABELS[idea.status].lower()} "
        f"for {days_between(idea.since, now)}" + (YOUR_PEOPLE if _marked(idea, reader) else "")
        for idea in ideas[:shown]
    ]
    if len(ideas) > shown:
        lines.append(f"… and {len(ideas) - shown} more: `/idea list new`")
    return limits.section(f"*Ideas waiting for review* — {len(ideas)}, longest first:\n" + "\n".join(lines))
