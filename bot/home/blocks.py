"""The App Home tab: one person's kudos, feedback waiting on them, their ideas and today's tip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.text import mention, truncate
from bot.feedback.blocks import ANSWER_BUTTON
from bot.ideas.blocks import STATUS_EMOJI, STATUS_LABELS
from storage.feedback import Feedback
from storage.ideas import Idea
from storage.kudos import KudosStats

TIP_TOGGLE = "home_tip_toggle"
SHOWN_REQUESTS = 5
SHOWN_IDEAS = 10


@dataclass(frozen=True)
class HomeContent:
    user_id: str
    kudos: KudosStats
    waiting: list[Feedback]  # the first SHOWN_REQUESTS
    waiting_total: int
    ideas: list[tuple[Idea, int]]  # the newest SHOWN_IDEAS, with votes
    ideas_total: int
    tip_text: str | None
    subscribed: bool


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))


def _age(since: datetime, now: datetime) -> str:
    days = (now - since).days
    return "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"


def home_view(content: HomeContent, now: datetime) -> dict:
    """At most ~30 blocks whatever the history: lists are capped and say how many more there are."""
    kudos = content.kudos
    blocks: list = [
        HeaderBlock(text="Your Kaizen"),
        _section(
            f"*:sparkles: Kudos* — {kudos.received_week} this week · {kudos.received_all} in all"
            + ("" if kudos.received_all else "\nNone yet. Notice someone's effort today: `/kudos @teammate …`")
        ),
    ]
    for given in kudos.latest:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=truncate(f"from {mention(given.giver_id)}: {given.message.splitlines()[0]}", 300)
                    )
                ]
            )
        )

    blocks += [DividerBlock(), _section("*:speech_balloon: Feedback waiting on you*")]
    for request in content.waiting:
        topic = f" about {request.topic}" if request.topic else ""
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=truncate(f"{mention(request.about_id)} asked{topic} · {_age(request.created_at, now)}", 3000)
                ),
                accessory=ButtonElement(text="Give feedback", action_id=ANSWER_BUTTON, value=str(request.id)),
            )
        )
    if not content.waiting:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Nothing waiting on you.")]))
    elif content.waiting_total > len(content.waiting):
        more = content.waiting_total - len(content.waiting)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {more} more: `/feedback list`")]))

    blocks += [DividerBlock(), _section("*:bulb: Your ideas*")]
    if content.ideas:
        lines = [
            f"{STATUS_EMOJI[i.status]} #{i.id} {i.title} — {STATUS_LABELS[i.status]} · {votes} votes"
            for i, votes in content.ideas
        ]
        if content.ideas_total > len(content.ideas):
            lines.append(f"…and {content.ideas_total - len(content.ideas)} older ones: `/idea list`")
        blocks.append(_section("\n".join(lines)))
    else:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="No ideas yet. `/idea <what you'd change>`")]))

    blocks += [DividerBlock(), _section("*:seedling: Today's tip*\n" + (content.tip_text or "No tips yet."))]
    toggle = (
        ButtonElement(text="Stop the daily tip DM", action_id=TIP_TOGGLE, value="unsubscribe")
        if content.subscribed
        else ButtonElement(
            text="Get the tip by DM every weekday", action_id=TIP_TOGGLE, value="subscribe", style="primary"
        )
    )
    blocks.append(ActionsBlock(block_id="tip", elements=[toggle]))
    return View(type="home", blocks=blocks).to_dict()
