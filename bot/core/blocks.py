"""Block Kit's size limits, applied before Slack would refuse a message: long lists become
several sections, and many sections several messages."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, PlainTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.core.text import truncate

Message = tuple[str, list[dict]]  # (fallback text, blocks): what every Block Kit builder returns
MAX_BLOCKS = 50  # per message
MAX_SECTION_TEXT = 3000  # characters in a section's text


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
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT))).to_dict()


def sections(items: list[str], separator: str = "\n") -> list[dict]:
    return [section(text) for text in pack(items, separator)]


def split(blocks: list[dict], per_message: int = MAX_BLOCKS) -> list[list[dict]]:
    return [blocks[i : i + per_message] for i in range(0, len(blocks), per_message)]


def notice_modal(title: str, text: str, close: str = "Done") -> dict:
    """A modal that only says something: what a form becomes once it is submitted."""
    return View(
        type="modal",
        title=PlainTextObject(text=title),
        close=PlainTextObject(text=close),
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT)))],
    ).to_dict()
