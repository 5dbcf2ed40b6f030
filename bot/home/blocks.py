"""The App Home tab: a header, then each feature's part of it, in the order of bot/features.py."""

from __future__ import annotations

from slack_sdk.models.blocks import DividerBlock, HeaderBlock
from slack_sdk.models.views import View


def home_view(parts: list[list[dict]]) -> dict:
    """Each part keeps itself short (lists are capped and say how many more there are), so the
    view stays far under Slack's 100 blocks whatever the history."""
    blocks = [HeaderBlock(text="Your Kaizen").to_dict()]
    for number, part in enumerate(parts):
        if number:
            blocks.append(DividerBlock().to_dict())
        blocks += part
    return View(type="home", blocks=blocks).to_dict()
