"""`kaizen export …`: CSV to stdout, one header row, `--since` inclusive in the team's zone."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.core.text import to_plain
from storage.feedback import feedback_since
from storage.ideas import ideas_since
from storage.kudos import kudos_since

Rows = Callable[[Session, datetime | None, ZoneInfo], Iterable[list[str]]]


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds")


def kudos_rows(session: Session, since: datetime | None, tz: ZoneInfo) -> Iterable[list[str]]:
    for kudos in kudos_since(session, since):
        values = " ".join(kudos.value_list)
        yield [
            _local(kudos.created_at, tz),
            kudos.giver_id,
            kudos.recipient_id,
            to_plain(kudos.message),
            values,
            kudos.source,
        ]


def idea_rows(session: Session, since: datetime | None, tz: ZoneInfo) -> Iterable[list[str]]:
    for idea, votes in ideas_since(session, since):
        yield [
            str(idea.id),
            _local(idea.created_at, tz),
            to_plain(idea.title),
            idea.category or "",
            idea.status,
            str(votes),
            idea.author_id or "",  # blank for an anonymous idea
        ]


def feedback_rows(session: Session, since: datetime | None, tz: ZoneInfo) -> Iterable[list[str]]:
    """Who asked whom and what became of it; never the text (not stored) nor an anonymous giver (not kept)."""
    for feedback in feedback_since(session, since):
        yield [
            _local(feedback.created_at, tz),
            feedback.about_id,
            feedback.giver_id or "",
            "request" if feedback.requested else "unrequested",
            feedback.status,
            _local(feedback.answered_at, tz) if feedback.answered_at else "",
        ]


EXPORTS: dict[str, tuple[list[str], Rows]] = {
    "kudos": (["date", "giver", "recipient", "message", "values", "source"], kudos_rows),
    "ideas": (["number", "date", "title", "category", "status", "votes", "author"], idea_rows),
    "feedback": (["date", "for", "giver", "kind", "status", "answered"], feedback_rows),
}


def write_export(session: Session, what: str, out: TextIO, since: date | None, tz: ZoneInfo) -> int:
    """Write one export as CSV; returns the number of data rows."""
    header, rows = EXPORTS[what]
    start = datetime.combine(since, time(0), tzinfo=tz) if since else None
    writer = csv.writer(out)
    writer.writerow(header)
    count = 0
    for row in rows(session, start, tz):
        writer.writerow(row)
        count += 1
    return count
