"""Lessons seen from further away: a person's lessons on their Home tab, the lessons that became
tips in the weekly celebration, lessons shared and promoted in the lead digest, and
`kaizen export lessons`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import bot.lessons.blocks as blocks
from bot.core.exports import local_time
from bot.core.parts import DigestPart, DigestWindow, Export, Scope, WeekPart
from bot.core.settings import Settings
from bot.core.text import to_plain
from storage import lessons as store
from storage.db import Range

SHOWN_ON_HOME = 10


def home_section(session: Session, _settings: Settings, user_id: str, _now: datetime) -> list[dict]:
    return blocks.home_section(*store.newest(session, SHOWN_ON_HOME, author_id=user_id))


def week_part(session: Session, _settings: Settings, week: Range, scope: Scope) -> WeekPart | None:
    promoted = [lesson for lesson in store.promoted_in(session, week) if scope.covers(lesson.author_id)]
    if not promoted:
        return None
    return WeekPart(blocks=blocks.promoted_this_week(promoted), summary=blocks.week_summary(promoted))


def digest_part(
    session: Session, _settings: Settings, window: DigestWindow, scopes: Sequence[Scope]
) -> list[DigestPart]:
    """Lessons shared and promoted to tips this week against last: everyone's, and each team's people's."""
    by_author = [store.lesson_counts_by_author(session, week) for week in (window.this_week, window.last_week)]

    def counts(week: dict[str | None, tuple[int, int]], scope: Scope) -> tuple[int, int]:
        mine = [numbers for author, numbers in week.items() if scope.covers(author)]
        return sum(shared for shared, _ in mine), sum(promoted for _, promoted in mine)

    return [
        DigestPart(comparison=[blocks.digest_comparison(*(counts(week, scope) for week in by_author))])
        for scope in scopes
    ]


def export_rows(session: Session, since: datetime | None, tz: ZoneInfo) -> Iterable[list[str]]:
    for lesson, votes in store.lessons_since(session, since):
        yield [
            str(lesson.id),
            local_time(lesson.created_at, tz),
            to_plain(lesson.text),
            lesson.theme or "",
            str(votes),
            str(lesson.tip_id or ""),
            local_time(lesson.promoted_at, tz) if lesson.promoted_at else "",
            lesson.author_id or "",  # blank for an anonymous lesson
        ]


EXPORT = Export("lessons", ["number", "date", "lesson", "theme", "votes", "tip", "promoted", "author"], export_rows)
