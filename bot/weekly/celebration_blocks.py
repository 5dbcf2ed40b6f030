"""Block Kit for the weekly celebration: one or more (fallback text, blocks), each within Slack's limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject

from bot.core import blocks as limits
from bot.core.text import mention

if TYPE_CHECKING:
    from bot.weekly.celebration import WeekInReview

Message = tuple[str, list[dict]]

QUIET_WEEK = (
    ":seedling: *A quiet week on the kudos wall.*\n"
    "Quiet weeks are often full of steady, unseen work: the tickets closed without drama, the patient "
    "second reply, the notes tidied for the next shift. Thank you for all of it.\n"
    "If someone's effort made your week easier, `/kudos @them` takes ten seconds — it's not too late."
)


def celebration(review: WeekInReview) -> list[Message]:
    if review.quiet:
        return [(QUIET_WEEK, [limits.section(QUIET_WEEK)])]
    headline = ":tada: This week, together"
    blocks = [HeaderBlock(text=headline).to_dict()]
    if review.kudos:
        people = _count(len(review.recognised), "teammate", "teammates")
        headline += f": {_count(review.kudos, 'kudos', 'kudos')} for {people}"
        blocks.append(
            limits.section(
                f"{_count(review.givers, 'person', 'people')} took a moment to notice the effort of {people}, "
                f"{_count(review.kudos, 'time', 'times')} this week. Every one of these is progress someone saw."
            )
        )
    if review.values:
        shown = " · ".join(f"`#{value}` ×{n}" for value, n in review.values)
        blocks.append(limits.section(f"*Values shown most:* {shown}"))
    if review.first_timers:
        newcomers = _count(len(review.first_timers), "person", "people")
        blocks.append(limits.section(f"*First kudos ever* :wave: welcome to the wall, {newcomers}:"))
        blocks += limits.sections([mention(user) for user in review.first_timers], separator=" · ")
    if review.implemented:
        blocks.append(
            limits.section(":hammer_and_wrench: *Ideas implemented this week* — improvements that are real now:")
        )
        blocks += limits.sections([f"• #{number} {title}" for number, title in review.implemented])
    if review.recognised:
        blocks.append(limits.section("*Everyone recognised this week* — thank you, all of you:"))
        blocks += limits.sections([f"{mention(user)} ({n})" for user, n in review.recognised], separator=" · ")
    parts = limits.split(blocks, limits.MAX_BLOCKS - 1)  # room for the "continued" line
    messages = [(headline, parts[0])]
    for number, part in enumerate(parts[1:], 2):
        note = f"This week's celebration, continued ({number}/{len(parts)})"
        messages.append((note, [ContextBlock(elements=[MarkdownTextObject(text=note)]).to_dict(), *part]))
    return messages


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
