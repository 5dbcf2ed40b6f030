"""Block Kit for tips: (fallback text, blocks) for each place a tip is shown, the Home tab's included."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.text import truncate
from storage.tips import Tip

TIP_TOGGLE = "home_tip_toggle"  # the Home tab's subscribe / unsubscribe button


def _credited(tip: Tip) -> str:
    """The tip's text, and whom to thank for it when it came from the team."""
    return f"{tip.text}\n— {tip.credit}" if tip.credit else tip.text


def _tip(tip: Tip, headline: str, footer: str, *, for_admin: bool = False) -> Message:
    """A tip as everyone sees it; an admin also sees its number, which `/tip retire` takes."""
    about = f"#{tip.theme} · " if tip.theme else ""
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=f"{headline}\n{_credited(tip)}")),
        ContextBlock(elements=[MarkdownTextObject(text=f"{about}{footer}")]),
    ]
    if for_admin:
        note = f"Admins: this is tip {tip.id}. `/tip retire {tip.id}` stops showing it."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return f"{headline} {_credited(tip)}", [b.to_dict() for b in blocks]


def channel_tip(tip: Tip, *, for_admin: bool = False) -> Message:
    return _tip(tip, ":bulb: *Today's tip*", "`/tip subscribe` to get it by DM every weekday", for_admin=for_admin)


def subscriber_tip(tip: Tip) -> Message:
    return _tip(tip, ":bulb: *Your tip for today*", "`/tip unsubscribe` to stop these DMs")


def asked_for(tip: Tip, subscribed: bool, *, for_admin: bool) -> Message:
    """`/tip`: today's tip, and its number for an admin."""
    if subscribed:
        footer = "you get it by DM every weekday (`/tip unsubscribe` to stop)"
        return _tip(tip, ":bulb: *Today's tip*", footer, for_admin=for_admin)
    return channel_tip(tip, for_admin=for_admin)


def added(tip: Tip) -> str:
    return f":white_check_mark: Added tip {tip.id}. It comes round before any tip repeats."


def retired(tip: Tip) -> str:
    return f"Retired tip {tip.id} (“{truncate(' '.join(tip.text.split()), 80)}”): it won't be shown again."


def subscribed(changed: bool) -> str:
    if changed:
        return ":white_check_mark: Subscribed: you'll get a short tip by DM every weekday morning."
    return "You're already subscribed — the next tip arrives on the next weekday morning."


def unsubscribed(changed: bool) -> str:
    if changed:
        return "Unsubscribed: no more tip DMs. `/tip` still shows today's tip whenever you want it."
    return "You weren't subscribed. `/tip subscribe` gets you a tip by DM every weekday."


def help_text(themes: tuple[str, ...], is_admin: bool) -> str:
    lines = [
        "*/tip — a short learning nudge every working day*",
        "`/tip` — today's tip",
        "`/tip subscribe` / `/tip unsubscribe` — get it by DM every weekday, or stop",
    ]
    if is_admin:
        lines += [
            f"`/tip add <text> [#theme]` — add a tip (themes: {', '.join('#' + t for t in themes)})",
            "`/tip retire N` — stop showing tip N (`/tip` shows you today's tip with its number)",
        ]
    return "\n".join(lines)


def home_section(tip: Tip | None, subscribed: bool) -> list[dict]:
    """Today's tip on the Home tab, and a button that says what it will do."""
    toggle = (
        ButtonElement(text="Stop the daily tip DM", action_id=TIP_TOGGLE, value="unsubscribe")
        if subscribed
        else ButtonElement(
            text="Get the tip by DM every weekday", action_id=TIP_TOGGLE, value="subscribe", style="primary"
        )
    )
    return [
        limits.section("*:seedling: Today's tip*\n" + (_credited(tip) if tip else "No tips yet.")),
        ActionsBlock(block_id="tip", elements=[toggle]).to_dict(),
    ]
