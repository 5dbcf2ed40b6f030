"""Block Kit and replies for lessons: one small pure function per message kind, and lessons' parts
of the Home tab, the weekly celebration and the lead digest."""

from __future__ import annotations

from datetime import date

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
from bot.core.text import mention, plural, truncate
from storage.lessons import Lesson
from storage.tips import Tip

LESSON_MODAL = "lesson_modal"
USEFUL_ACTION = "lesson_useful"
ANONYMOUS_CREDIT = "a lesson from the team"


def credit(lesson: Lesson) -> str:
    """How the tip a lesson becomes thanks its author; an anonymous lesson names no one."""
    return ANONYMOUS_CREDIT if lesson.anonymous else f"shared by {mention(lesson.author_id)}"


def _useful(votes: int) -> str:
    return plural(votes, "Useful vote", "Useful votes")


def _one_line(lesson: Lesson, limit: int) -> str:
    return truncate(" ".join(lesson.text.split()), limit)


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _became_tip(tip: Tip) -> str:
    return f"tip {tip.id}, the daily tip on {_day(tip.show_from)}, then part of the rotation"


def lesson_post(lesson: Lesson, votes: int, promote_votes: int) -> Message:
    """The lesson in the lessons channel: its number, author, theme, and the Useful button with its count."""
    facts = [f"#{lesson.theme}"] if lesson.theme else []
    facts.append("shared anonymously" if lesson.anonymous else f"shared by {mention(lesson.author_id)}")
    if lesson.tip_id:
        facts.append(f":star: became tip {lesson.tip_id}: the whole team gets it")
    else:
        facts.append(f"{_useful(promote_votes)} make it a daily tip")
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=f":mortar_board: *Lesson #{lesson.id}*\n{lesson.text}")),
        ContextBlock(elements=[MarkdownTextObject(text="  ·  ".join(facts))]),
        ActionsBlock(
            elements=[ButtonElement(text=f":bulb: Useful ({votes})", action_id=USEFUL_ACTION, value=str(lesson.id))]
        ),
    ]
    text = f"Lesson #{lesson.id}: {truncate(lesson.text, 150)} — {_useful(votes)}"
    return text, [b.to_dict() for b in blocks]


def confirmation(lesson: Lesson, posted_in: str | None, promote_votes: int) -> str:
    if not posted_in:
        return (
            f":mortar_board: Thanks! Your lesson is number *#{lesson.id}*. "
            "No lessons channel is set, so it is not posted."
        )
    return (
        f":mortar_board: Thanks for sharing! Your lesson is number *#{lesson.id}*, posted in <#{posted_in}>. "
        f"With {_useful(promote_votes)} it becomes a daily tip for the whole team."
    )


def vote_reply(lesson: Lesson, voted: bool, votes: int, tip: Tip | None) -> str:
    if not voted:
        return f"Your Useful vote for lesson #{lesson.id} is withdrawn ({_useful(votes)} now)."
    reply = f":bulb: You found lesson #{lesson.id} useful ({_useful(votes)} now). Press Useful again to take it back."
    if tip:
        reply += f"\n:star: That made it a tip: {_became_tip(tip)}."
    return reply


def promoted_reply(lesson: Lesson, tip: Tip) -> str:
    return f":star: Lesson #{lesson.id} is a tip now: {_became_tip(tip)}."


def promoted_dm(lesson: Lesson, tip: Tip) -> Message:
    headline = (
        f":star: Your lesson #{lesson.id} helped your teammates, so it is a tip now: {_became_tip(tip)}. "
        "Thank you for teaching the team what a customer taught you."
    )
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=headline)),
        SectionBlock(text=MarkdownTextObject(text="> " + truncate(lesson.text, 2500).replace("\n", "\n> "))),
    ]
    return f"Your lesson #{lesson.id} is a tip now: the daily tip on {_day(tip.show_from)}.", [
        b.to_dict() for b in blocks
    ]


def _summary(lesson: Lesson, votes: int) -> str:
    facts = [_useful(votes)]
    if lesson.theme:
        facts.append(f"#{lesson.theme}")
    if lesson.tip_id:
        facts.append(f":star: tip {lesson.tip_id}")
    return f"*#{lesson.id}* {_one_line(lesson, 120)} — {' · '.join(facts)}"


def lesson_list(rows: list[tuple[Lesson, int]], total: int) -> str:
    if not rows:
        return "No lessons yet — share one: `/lesson <what a customer taught you> [#theme]`."
    lines = [f"• {_summary(lesson, votes)} · {credit(lesson)}" for lesson, votes in rows]
    more = f"\n_Showing the newest {len(rows)} of {total}._" if total > len(rows) else ""
    return "*Latest lessons*\n" + "\n".join(lines) + more


def help_text(themes: tuple[str, ...], promote_votes: int, max_length: int) -> str:
    return "\n".join(
        [
            "*/lesson — share what a customer taught you; the most useful become daily tips*",
            "`/lesson Repeat the order number back before you refund #active-listening` — share a lesson "
            f"(up to {max_length} characters, a theme at the end if you like)",
            "`/lesson` — open a form (with a theme, and the choice to share anonymously)",
            "`/lesson list` — the latest lessons and their votes",
            "`/lesson promote N` — admins: make lesson N a tip at once",
            f"Themes: {', '.join('#' + t for t in themes)}",
            f"Press *Useful* on a lesson in the channel (again to take it back). With {_useful(promote_votes)} "
            "it becomes the next working day's tip, credited to its author unless anonymous. "
            "A lesson that reads like one of the commands above (`/lesson list`, `/lesson promote 3`) is taken as "
            "that command: share it with the form.",
        ]
    )


def lesson_modal(themes: tuple[str, ...], max_length: int) -> dict:
    return View(
        type="modal",
        callback_id=LESSON_MODAL,
        title=PlainTextObject(text="Share a lesson"),
        submit=PlainTextObject(text="Share"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id="text",
                label="What did a customer teach you?",
                hint="What happened, and what you'd do again (or differently). The most useful become tips.",
                element=PlainTextInputElement(action_id="text", multiline=True, max_length=max_length),
            ),
            InputBlock(
                block_id="theme",
                label="Theme",
                optional=True,
                element=StaticSelectElement(
                    action_id="theme", options=[Option(text=t.replace("-", " "), value=t) for t in themes]
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
                            text="Share anonymously",
                            description="Your name is not stored; if it becomes a tip, no one is credited.",
                        )
                    ],
                ),
            ),
        ],
    ).to_dict()


def shared_modal(lesson: Lesson, posted_in: str | None, promote_votes: int) -> dict:
    return View(
        type="modal",
        title=PlainTextObject(text="Lesson shared"),
        close=PlainTextObject(text="Done"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=confirmation(lesson, posted_in, promote_votes)))],
    ).to_dict()


def home_section(lessons: list[tuple[Lesson, int]], total: int) -> list[dict]:
    """A person's own lessons on their Home tab, newest first, with their votes."""
    blocks = [limits.section("*:mortar_board: Your lessons*")]
    if not lessons:
        text = "No lessons yet. `/lesson <what a customer taught you>` — the most useful become daily tips."
        return [*blocks, ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()]
    lines = [_summary(lesson, votes) for lesson, votes in lessons]
    if total > len(lessons):
        lines.append(f"…and {total - len(lessons)} older ones")
    return [*blocks, *limits.sections(lines)]


def week_summary(promoted: list[Lesson]) -> str:
    return plural(len(promoted), "lesson became a tip", "lessons became tips")


def promoted_this_week(promoted: list[Lesson]) -> list[dict]:
    """Thanks to the people whose lessons became tips this week (anonymous ones stay unnamed)."""
    lines = [
        f"• {'Someone who shared anonymously' if lesson.anonymous else mention(lesson.author_id)}: "
        f"{_one_line(lesson, 200)}"
        for lesson in promoted
    ]
    return [
        limits.section(":mortar_board: *Lessons that became tips this week* — thank you for teaching the team:"),
        *limits.sections(lines),
    ]


def digest_comparison(this_week: tuple[int, int], last_week: tuple[int, int]) -> str:
    def counts(shared: int, promoted: int) -> str:
        return f"{shared} shared, {promoted} became {'a tip' if promoted == 1 else 'tips'}"

    return f"• Lessons: {counts(*this_week)} (before: {counts(*last_week)})"
