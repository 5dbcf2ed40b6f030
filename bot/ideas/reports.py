"""Ideas seen from further away: a person's ideas on their Home tab, ideas implemented (and what
they changed) in the weekly celebration, ideas moving, waiting and implemented this quarter in the
lead digest, and `kaizen export ideas`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import astuple
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import bot.ideas.blocks as blocks
from bot.core.exports import local_time
from bot.core.parts import DigestPart, DigestWindow, Export, Scope, WeekPart
from bot.core.settings import Settings
from bot.core.text import to_plain
from storage import ideas as store
from storage.db import Range

SHOWN_ON_HOME = 10


def home_section(session: Session, _settings: Settings, user_id: str, _now: datetime) -> list[dict]:
    return blocks.home_section(*store.ideas_by_author(session, user_id, SHOWN_ON_HOME))


def week_part(session: Session, _settings: Settings, week: Range, scope: Scope) -> WeekPart | None:
    implemented = [idea for idea in store.ideas_implemented(session, week) if scope.covers(idea.author_id)]
    if not implemented:
        return None
    return WeekPart(blocks=blocks.implemented_this_week(implemented), summary=blocks.week_summary(implemented))


def digest_part(
    session: Session, _settings: Settings, window: DigestWindow, scopes: Sequence[Scope]
) -> list[DigestPart]:
    """Ideas moving this week against last and implemented this quarter: everyone's, and each team's
    people's. The ideas waiting for review are everyone's: every lead sees them all, their own people's marked."""
    quarter = quarter_start(window.now)
    by_author = [store.idea_status_counts_by_author(session, week) for week in (window.this_week, window.last_week)]
    implemented = store.ideas_implemented(session, (quarter, window.now))
    waiting = store.ideas_awaiting_review(session)

    def awaiting(reader: Scope) -> list[dict]:
        return [blocks.awaiting_review(waiting, window.now, reader)]

    return [
        DigestPart(
            comparison=[blocks.digest_comparison(*(_statuses(week, scope) for week in by_author))],
            blocks=[
                blocks.implemented_this_quarter(
                    [idea for idea in implemented if scope.covers(idea.author_id)],
                    f"Q{quarter.month // 3 + 1} {quarter.year}",
                )
            ],
            workspace=awaiting if scope.everyone else None,
        )
        for scope in scopes
    ]


def _statuses(by_author: dict[str | None, dict[str, int]], scope: Scope) -> dict[str, int]:
    """How many of the scope's people's ideas reached each status."""
    counts: Counter[str] = Counter()
    for author, statuses in by_author.items():
        if scope.covers(author):
            counts.update(statuses)
    return {status: n for status, n in counts.items() if n}


def quarter_start(now: datetime) -> datetime:
    """00:00 on the first day of `now`'s calendar quarter, in `now`'s zone."""
    return datetime.combine(now.date().replace(month=now.month - (now.month - 1) % 3, day=1), time(), now.tzinfo)


# The statuses an idea can reach after `new`, each with the column of when it last did.
DATED_STATUSES = ("under-review", "planned", "in-progress", "implemented", "declined", "merged")


def export_rows(session: Session, since: datetime | None, tz: ZoneInfo) -> Iterable[list[str]]:
    history = store.status_changes_since(session, since)
    for idea, votes in store.ideas_since(session, since):
        changes = history[idea.id]
        reached = {change.to_status: local_time(change.changed_at, tz) for change in changes}  # the last time wins
        yield [
            str(idea.id),
            local_time(idea.created_at, tz),
            to_plain(idea.title),
            to_plain(idea.description),
            idea.category or "",
            idea.status,
            str(votes),
            idea.author_id or "",  # blank for an anonymous idea
            str(idea.merged_into_id or ""),
            to_plain(idea.impact or ""),
            *([to_plain(value) for value in astuple(idea.measure)] if idea.measure else [""] * 4),
            *(reached.get(status, "") for status in DATED_STATUSES),
            "; ".join(f"{change.to_status} {local_time(change.changed_at, tz)}" for change in changes),
        ]


EXPORT = Export(
    "ideas",
    [
        "number",
        "date",
        "title",
        "description",
        "category",
        "status",
        "votes",
        "author",
        "merged_into",
        "impact",
        "measure",
        "measure_before",
        "measure_after",
        "measure_unit",
        *(f"{status.replace('-', '_')}_at" for status in DATED_STATUSES),
        "status_changes",
    ],
    export_rows,
)
