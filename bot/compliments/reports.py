"""Customer compliments seen from further away: the weekly celebration and the lead digest. (Stats, the
Home tab and `kaizen export kudos` show them as kudos from a customer.)"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

import bot.compliments.blocks as blocks
from bot.core.parts import DigestPart, DigestWindow, Scope, WeekPart
from bot.core.settings import Settings
from storage import compliments as store
from storage import kudos as kudos_store
from storage.db import Range


def week_part(session: Session, _settings: Settings, week: Range, scope: Scope) -> WeekPart | None:
    thanked = kudos_store.recognised(session, week, from_customers=True, to=scope.people)
    if not thanked:
        return None
    return WeekPart(summary=blocks.week_summary(sum(n for _, n in thanked)), blocks=blocks.week_blocks(thanked))


def digest_part(
    session: Session, settings: Settings, window: DigestWindow, scopes: Sequence[Scope]
) -> list[DigestPart | None]:
    """Customer compliments this week against last, per person; for everyone, also those Kaizen could
    not match to anyone in Slack."""
    now = dict(kudos_store.recognised(session, window.this_week, from_customers=True))
    before = dict(kudos_store.recognised(session, window.last_week, from_customers=True))
    unmatched, agents = store.unmatched(session, window.this_week)
    switched_on = settings.zendesk_secret or settings.compliments_secret
    parts: list[DigestPart | None] = []
    for scope in scopes:
        people = [user for user in now.keys() | before.keys() if scope.covers(user)]
        this_week, last_week = sum(now.get(u, 0) for u in people), sum(before.get(u, 0) for u in people)
        missed = (unmatched, agents) if scope.everyone else (0, 0)
        if not (switched_on or this_week or last_week or missed[0]):
            parts.append(None)
            continue
        people.sort(key=lambda user: (-now.get(user, 0), -before.get(user, 0), user))
        parts.append(
            DigestPart(
                summary=blocks.week_summary(this_week) if this_week else "",
                comparison=[blocks.digest_comparison(this_week, last_week)],
                blocks=blocks.digest_blocks([(u, now.get(u, 0), before.get(u, 0)) for u in people], *missed),
            )
        )
    return parts
