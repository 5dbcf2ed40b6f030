"""Tips on a person's Home tab: today's tip and their subscription."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

import bot.tips.blocks as blocks
from bot.core.settings import Settings
from bot.tips.rules import todays_tip
from storage.tips import is_subscribed


def home_section(session: Session, settings: Settings, user_id: str, now: datetime) -> list[dict]:
    return blocks.home_section(todays_tip(session, settings, now), is_subscribed(session, user_id))
