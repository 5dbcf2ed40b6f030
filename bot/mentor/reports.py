"""Mentoring seen from further away: a person's lists and current pair on their Home tab, and
pairs made and met, and skills nobody offers, in the lead digest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

import bot.mentor.blocks as blocks
from bot.core.parts import DigestPart, DigestWindow, Scope
from bot.core.settings import Settings
from bot.mentor.rules import overview
from storage import mentor as store
from storage.db import Range
from storage.mentor import MentorPair


def home_section(session: Session, settings: Settings, user_id: str, now: datetime) -> list[dict]:
    mine = overview(session, settings, user_id, now)
    return blocks.home_section(mine.offers, mine.wants, mine.this_round, mine.pairs, user_id, mine.next_matching)


def digest_part(
    session: Session, _settings: Settings, window: DigestWindow, scopes: Sequence[Scope]
) -> list[DigestPart | None]:
    """Pairs made and met this week against last, the latest round's answers, and the skills wanted that
    nobody offers: everyone's, and those of each team's people (a pair with one of them in it)."""
    latest = store.latest_round(session)
    if latest is None and not store.anyone_taking_part(session):
        return [None] * len(scopes)  # nobody uses mentoring yet: no line about it
    pairs = store.pairs_in(session, (window.last_week[0], window.this_week[1]))
    round_pairs = store.pairs_of_round(session, latest) if latest else []
    wants = store.wants_not_offered(session)
    parts: list[DigestPart | None] = []
    for scope in scopes:
        mine = [pair for pair in pairs if _involves(pair, scope)]
        answers = Counter(pair.answer for pair in round_pairs if _involves(pair, scope))
        wanted = Counter(skill for user, skill in wants if scope.covers(user))
        parts.append(
            DigestPart(
                comparison=[
                    blocks.digest_comparison(
                        *(_pair_counts(mine, week) for week in (window.this_week, window.last_week))
                    )
                ],
                blocks=[blocks.digest_section(latest, answers, sorted(wanted.items(), key=lambda w: (-w[1], w[0])))],
            )
        )
    return parts


def _involves(pair: MentorPair, scope: Scope) -> bool:
    return scope.covers(pair.mentor_id) or scope.covers(pair.learner_id)


def _pair_counts(pairs: list[MentorPair], week: Range) -> tuple[int, int]:
    """(pairs made, pairs that said they met) in the week."""

    def within(moment: datetime | None) -> bool:
        return moment is not None and week[0] <= moment < week[1]

    return (
        sum(1 for pair in pairs if within(pair.created_at)),
        sum(1 for pair in pairs if pair.answer == "met" and within(pair.answered_at)),
    )
