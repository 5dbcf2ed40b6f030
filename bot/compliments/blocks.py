"""Block Kit for customer compliments: the agent's DM, the kudos channel's post, and their lines in
the weekly celebration and the lead digest. The comment comes in as safe mrkdwn."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.text import mention, plural, quote
from bot.kudos.blocks import change

SHOWN_PEOPLE = 30  # in the digest; the rest are counted


def _ticket_link(ticket_id: str, ticket_url: str) -> str:
    return f"<{ticket_url}|Ticket {ticket_id}>"


def _said(comment: str, rating_label: str) -> str:
    return quote(comment) if comment else f"_They rated it {rating_label}, without a comment._"


def kudos_message(comment: str, rating_label: str, ticket_id: str, ticket_url: str) -> str:
    """The kudos' message, as stats, the Home tab and the export show it."""
    first = comment or f"Rated the ticket {rating_label}"
    return f"{first}\n{_ticket_link(ticket_id, ticket_url)}"


def agent_dm(comment: str, rating_label: str, ticket_id: str, ticket_url: str) -> Message:
    headline = ":speech_balloon: A customer thanked you!"
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=f"{headline}\n{_said(comment, rating_label)}")),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{_ticket_link(ticket_id, ticket_url)} · rated {rating_label} · "
                    "This is what all the patient work is for."
                )
            ]
        ),
    ]
    return f"{headline} {comment}".strip(), [block.to_dict() for block in blocks]


def celebration(agent_id: str, comment: str, ticket_id: str, ticket_url: str) -> Message:
    headline = f":speech_balloon: A customer thanked {mention(agent_id)}!"
    text = f"{headline}\n{quote(comment)}" if comment else headline
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ContextBlock(elements=[MarkdownTextObject(text=_ticket_link(ticket_id, ticket_url))]),
    ]
    return f"{headline} {comment}".strip(), [block.to_dict() for block in blocks]


def _thanked(user_id: str, times: int) -> str:
    if times == 1:
        return f"a customer thanked {mention(user_id)} this week"
    return f"customers thanked {mention(user_id)} {times} times this week"


def week_blocks(thanked: list[tuple[str, int]]) -> list[dict]:
    """Everyone customers thanked this week, most first."""
    return [
        limits.section("*:speech_balloon: Thanked by customers* — the people we help noticed too:"),
        *limits.sections([_thanked(user, n) for user, n in thanked], separator="\n"),
    ]


def week_summary(compliments: int) -> str:
    return plural(compliments, "customer compliment", "customer compliments")


def digest_comparison(this_week: int, last_week: int) -> str:
    return f"• Customer compliments: *{this_week}* (before: {last_week}, {change(this_week, last_week)})"


def digest_blocks(per_person: list[tuple[str, int, int]], unmatched: int, unmatched_agents: int) -> list[dict]:
    """Compliments per person (this week, the week before), and those no Slack member matched."""
    lines = [f"{mention(user)} {now} (before: {before})" for user, now, before in per_person[:SHOWN_PEOPLE]]
    if len(per_person) > SHOWN_PEOPLE:
        lines.append(f"and {len(per_person) - SHOWN_PEOPLE} more")
    blocks = []
    if lines:
        blocks.append(limits.section("*Customer compliments per person*, the last 7 days (before: the 7 before):"))
        blocks += limits.sections(lines, separator=" · ")
    if unmatched:
        blocks.append(
            limits.section(
                f":mag: {plural(unmatched, 'compliment', 'compliments')} in the last 7 days went to "
                f"{plural(unmatched_agents, 'agent', 'agents')} Kaizen could not find in Slack by e-mail. "
                "Their help-desk e-mail is probably not the one on their Slack account."
            )
        )
    return blocks
