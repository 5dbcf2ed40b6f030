"""Block Kit for kudos: one small pure function per message kind, returning (fallback text, blocks)."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.core.text import mention, names, quote
from storage.kudos import KudosStats

Message = tuple[str, list[dict]]
KUDOS_MODAL = "kudos_modal"


def _values_line(values: list[str]) -> str:
    return "  ".join(f"`#{v}`" for v in values)


def celebration(giver_id: str, recipient_ids: list[str], message: str, values: list[str]) -> Message:
    headline = f":tada: {names(recipient_ids)} — kudos from {mention(giver_id)}!"
    blocks = [SectionBlock(text=MarkdownTextObject(text=f"{headline}\n{quote(message)}"))]
    if values:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_values_line(values))]))
    return f"{headline} {message}", [b.to_dict() for b in blocks]


def recipient_dm(giver_id: str, message: str, values: list[str]) -> Message:
    headline = f":sparkles: {mention(giver_id)} gave you kudos:"
    blocks = [SectionBlock(text=MarkdownTextObject(text=f"{headline}\n{quote(message)}"))]
    footer = "Effort and progress noticed — keep going."
    if values:
        footer = f"{_values_line(values)}  ·  {footer}"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return f"{headline} {message}", [b.to_dict() for b in blocks]


def withdrawn(emoji: str) -> Message:
    """What a celebration becomes when its reaction is removed the same day."""
    text = f"_This kudos was withdrawn: its :{emoji}: reaction was removed._"
    return text, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


def reaction_refused(emoji: str, reason: str) -> str:
    return f"Your :{emoji}: on that message didn't give a kudos. {reason}"


def confirmation(recipient_ids: list[str], left_today: int, posted_in: str | None) -> str:
    where = f" and celebrated in <#{posted_in}>" if posted_in else ""
    return f":white_check_mark: Kudos sent to {names(recipient_ids)}{where}. You have {left_today} left today."


def leaderboard(period: str, rows: list[tuple[str, int]]) -> str:
    title = {"week": "this week", "month": "this month", "all": "of all time"}[period]
    if not rows:
        return f"No kudos {title} yet — be the first: `/kudos @teammate thanks for …`"
    lines = [f"{rank}. {mention(user)} — {n} kudos" for rank, (user, n) in enumerate(rows, 1)]
    return f"*Most recognised {title}*\n" + "\n".join(lines) + "\n_Everyone's effort counts, not only the top ten._"


def stats(user_id: str, numbers: KudosStats) -> str:
    lines = [
        f"*Kudos for {mention(user_id)}*",
        f"Received: {numbers.received_week} this week · {numbers.received_month} this month · "
        f"{numbers.received_all} in all",
        f"Given: {numbers.given_all}",
    ]
    if numbers.top_values:
        lines.append("Values shown most: " + ", ".join(f"#{v} ({n})" for v, n in numbers.top_values))
    for kudos in numbers.latest:
        lines.append(f"• from {mention(kudos.giver_id)}: {kudos.message.splitlines()[0]}")
    return "\n".join(lines)


def help_text(values: tuple[str, ...], daily_limit: int, emoji: str) -> str:
    return "\n".join(
        [
            "*/kudos — recognise effort and progress*",
            "`/kudos @ana @ben thanks for staying late to clear the queue #teamwork` — kudos to one or more people",
            "`/kudos` — open a form",
            "`/kudos leaderboard [week|month|all]` — who has been recognised most",
            "`/kudos stats [@someone]` — kudos received and given",
            f"Values you can tag: {', '.join('#' + v for v in values)}",
            f"You can give {daily_limit} kudos a day. A :{emoji}: reaction on a message also gives its author kudos.",
            "*Give kudos* in a message's ⋯ menu opens the form for its author.",
        ]
    )


def kudos_modal(
    values: tuple[str, ...], *, recipients: list[str] | None = None, source: str = "modal", link: str | None = None
) -> dict:
    """The form behind `/kudos` with no text and the "Give kudos" message shortcut."""
    view = View(
        type="modal",
        callback_id=KUDOS_MODAL,
        private_metadata=json.dumps({"source": source, "link": link}),
        title=PlainTextObject(text="Give kudos"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id="recipients",
                label="Who is it for?",
                element=UserMultiSelectElement(action_id="recipients", initial_users=recipients or None),
            ),
            InputBlock(
                block_id="message",
                label="What did they do?",
                hint="Name the effort or the progress, so they know what to keep doing.",
                element=PlainTextInputElement(action_id="message", multiline=True, max_length=1000),
            ),
            InputBlock(
                block_id="values",
                label="Values it shows",
                optional=True,
                element=StaticMultiSelectElement(
                    action_id="values",
                    options=[Option(text=f"#{v}", value=v) for v in values],
                ),
            ),
        ],
    )
    if link:
        view.blocks.insert(0, SectionBlock(text=MarkdownTextObject(text=f"For <{link}|this message>.")))
    return view.to_dict()


def sent_modal(recipient_ids: list[str], left_today: int) -> dict:
    return View(
        type="modal",
        title=PlainTextObject(text="Kudos sent"),
        close=PlainTextObject(text="Done"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=confirmation(recipient_ids, left_today, None)))],
    ).to_dict()
