"""Block Kit's size limits, applied before Slack would refuse a message: long lists and long texts
become several sections, and many sections several messages. And the admins' Hide option, which
every feature's public messages carry the same way."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.text import safe_prefix, truncate

Message = tuple[str, list[dict]]  # (fallback text, blocks): what every Block Kit builder returns
MAX_BLOCKS = 50  # per message
MAX_SECTION_TEXT = 3000  # characters in a section's text
# The admins' Hide option on a public message, and the Hide button on a report; value "KIND:N".
HIDE_ACTION = "kaizen_hide"


def pack(items: list[str], separator: str = "\n", limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Join items into as few texts of at most `limit` characters as they fit in, in order."""
    texts: list[str] = []
    for item in items:
        item = truncate(item, limit)
        if texts and len(texts[-1]) + len(separator) + len(item) <= limit:
            texts[-1] += separator + item
        else:
            texts.append(item)
    return texts


def section(text: str) -> dict:
    """What SectionBlock(text=MarkdownTextObject(…)).to_dict() gives, its one limit applied here: built
    for every line of a job's thousands of messages, slack_sdk's checks were most of their time."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}}


def sections(items: list[str], separator: str = "\n", limit: int = MAX_SECTION_TEXT) -> list[dict]:
    return [section(text) for text in pack(items, separator, limit)]


def text_sections(text: str, limit: int = MAX_SECTION_TEXT, *, accessory: dict | None = None) -> list[dict]:
    """A text of any length (a message someone wrote, once escaped) as the sections it needs, cut
    between lines where it can and never inside a mention, a link or an entity: nothing is lost.
    The first section carries the `accessory`, if any."""
    blocks = sections([piece for line in text.split("\n") for piece in _cut_line(line, limit)], limit=limit)
    if accessory:
        blocks[0]["accessory"] = accessory
    return blocks


def _cut_line(line: str, limit: int) -> list[str]:
    """A line longer than `limit` in pieces, cut at a space where there is one; the pieces of a
    quoted line ("> …") stay quoted."""
    marker = "> " if line.startswith("> ") else ""
    pieces = []
    while len(line) > limit:
        head = safe_prefix(line, limit)
        space = head.rfind(" ", len(marker) + 1)
        if space > limit // 2:
            head = safe_prefix(head, space)  # the space may be inside a link's label
        if len(head) <= len(marker):  # one token longer than the limit: cut it anyway
            head = line[:limit]
        pieces.append(head)
        line = marker + line[len(head) :].lstrip(" ")
    return [*pieces, line]


def split(blocks: list[dict], per_message: int = MAX_BLOCKS) -> list[list[dict]]:
    return [blocks[i : i + per_message] for i in range(0, len(blocks), per_message)]


def _confirm_hide(what: str) -> ConfirmObject:
    return ConfirmObject(
        title=f"Hide {what}?",
        text="Only Kaizen admins can. It leaves its messages, stats, exports and digests, "
        "and the hide is logged with your name.",
        confirm="Hide",
        deny="Cancel",
    )


def hide_menu(kind: str, number: int, what: str) -> dict:
    """The ⋯ menu on a public message: one option, for admins, to hide `what` ("kudos #12")."""
    option = Option(text=f"Hide {what} (admins only)", value=f"{kind}:{number}")
    return OverflowMenuElement(action_id=HIDE_ACTION, options=[option], confirm=_confirm_hide(what)).to_dict()


def hide_button(kind: str, number: int, what: str) -> dict:
    """The Hide button on a report to the admins."""
    return ButtonElement(
        text=f"Hide {what}",
        action_id=HIDE_ACTION,
        value=f"{kind}:{number}",
        style="danger",
        confirm=_confirm_hide(what),
    ).to_dict()


def notice_modal(title: str, text: str, close: str = "Done") -> dict:
    """A modal that only says something: a form once it is submitted, a wait, or a refusal."""
    return View(
        type="modal",
        title=PlainTextObject(text=title),
        close=PlainTextObject(text=close),
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT)))],
    ).to_dict()
