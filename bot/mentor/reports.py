"""Mentoring seen from further away: a person's lists and current pair on their Home tab, and
pairs made and met, and skills nobody offers, in the lead digest."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.orm import Session

import bot.mentor.blocks as blocks
from bot.core.parts import DigestPart, DigestWindow
from bot.core.settings import Settings
from bot.mentor.rules import overview
from storage import mentor as store


def home_section(session: Session, settings: Settings, user_id: str, now: datetime) -> list[dict]:
    mine = overview(session, settings, user_id, now)
    return blocks.home_section(mine.offers, mine.wants, mine.this_round, mine.pairs, user_id, mine.next_matching)


def digest_part(session: Session, _settings: Settings, window: DigestWindow) -> DigestPart | None:
    latest = store.latest_round(session)
    if latest is None and not store.anyone_taking_part(session):
        return None  # nobody uses mentoring yet: no line about it
    answers = store.answers_in_round(session, latest) if latest else Counter()
    return DigestPart(
        comparison=[
            blocks.digest_comparison(
                store.pair_counts(session, window.this_week), store.pair_counts(session, window.last_week)
            )
        ],
        blocks=[blocks.digest_section(latest, answers, store.wanted_not_offered(session))],
    )
