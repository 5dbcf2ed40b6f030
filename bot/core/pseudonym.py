"""Pseudonyms: what Kaizen keeps where it must count or group people without naming them (who gave
today's anonymous feedback, who posted today, an agent Slack does not know)."""

from __future__ import annotations

import hashlib
import hmac

from bot.core.settings import Settings


def pseudonym(settings: Settings, purpose: str, value: str) -> str:
    """An HMAC-SHA256 of `value` under a key derived from the bot token for `purpose` (so one purpose's
    pseudonyms never match another's). The key is in no table: the database alone names nobody, while
    whoever also holds the token can test a guess. A new token makes new pseudonyms."""
    key = hashlib.sha256(f"kaizen {purpose}\0".encode() + (settings.slack_bot_token or "").encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
