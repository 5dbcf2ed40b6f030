"""Kudos seen from further away: on a person's Home tab, in the weekly celebration, in the lead
digest and in `kaizen export kudos`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import bot.kudos.blocks as blocks
from bot.core.clock import month_start, week_start
from bot.core.exports import local_time
from bot.core.parts import DigestPart, DigestWindow, Export, Scope, WeekPart
from bot.core.settings import Settings
from bot.core.text import to_plain
from storage import kudos as store
from storage import members
from storage.db import Range

GAP_DAYS = 30  # no kudos received for this long is a recognition gap


def home_section(session: Session, settings: Settings, user_id: str, now: datetime) -> list[dict]:
    tz = settings.timezone
    return blocks.home_section(store.stats_for(session, user_id, week_start(now, tz), month_start(now, tz)))


def week_part(session: Session, settings: Settings, week: Range, scope: Scope) -> WeekPart | None:
    """The week's kudos: to everyone, or to a team's people (for its channel, which names its people only,
    so its givers from other teams are thanked in the workspace's celebration)."""
    to = scope.people
    [kudos] = store.kudos_counts(session, [week], to=to)
    if not kudos:
        return None
    recognised = store.recognised(session, week, to=to)
    return WeekPart(
        summary=blocks.week_summary(kudos, len(recognised)),
        blocks=blocks.week_blocks(
            kudos,
            [giver for giver in store.givers(session, week, to=to) if scope.covers(giver)],
            recognised,
            store.value_counts(session, settings.values, week, to=to),
            store.first_time_recipients(session, week, to=to),
        ),
    )


def digest_part(
    session: Session, settings: Settings, window: DigestWindow, scopes: Sequence[Scope]
) -> list[DigestPart]:
    """Kudos this week against last, and the recognition gaps: of everyone, and of each team's people
    (the kudos they received and gave), from one pass over the two weeks."""
    weeks = [window.this_week, window.last_week]
    gaps = store.members_without_kudos_since(
        session, window.now - timedelta(days=GAP_DAYS), include_guests=settings.include_guests
    )
    if any(not scope.everyone for scope in scopes):
        received, given = store.received_counts(session, weeks), store.given_counts(session, weeks)
        directory = members.active_people(session, include_guests=settings.include_guests)
    parts = []
    for scope in scopes:
        if scope.everyone:
            this_week, last_week = store.kudos_counts(session, weeks)
            parts.append(
                DigestPart(
                    summary=blocks.digest_summary(this_week, last_week),
                    comparison=[blocks.digest_comparison(this_week, last_week)],
                    blocks=blocks.recognition_gaps(gaps, GAP_DAYS, window.now),
                )
            )
            continue
        (this_week, last_week), given_now = scope.total(received, 2), scope.total(given, 2)
        team_gaps = [(user, last) for user, last in gaps if scope.covers(user)]
        counted = len(directory & scope.people)  # the team's people the directory counts as members
        parts.append(
            DigestPart(
                summary=blocks.team_digest_summary(this_week, last_week),
                comparison=[blocks.team_digest_comparison(this_week, last_week, *given_now)],
                blocks=blocks.recognition_gaps(team_gaps, GAP_DAYS, window.now),
                brief=blocks.team_brief(this_week, counted - len(team_gaps), counted, GAP_DAYS),
            )
        )
    return parts


def export_rows(session: Session, since: datetime | None, tz: ZoneInfo) -> Iterable[list[str]]:
    for kudos in store.kudos_since(session, since):
        yield [
            local_time(kudos.created_at, tz),
            kudos.giver_id or "",  # a customer's kudos has no giver
            kudos.recipient_id,
            to_plain(kudos.message),
            " ".join(kudos.value_list),
            kudos.source,
            kudos.ticket_id or "",
        ]


EXPORT = Export("kudos", ["date", "giver", "recipient", "message", "values", "source", "ticket"], export_rows)
