"""`kaizen export audit`: the admins' audit log, oldest first: every hide and every team change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.core.exports import local_time
from bot.core.parts import Export
from bot.core.text import to_plain
from storage import admin as store


def export_rows(session: Session, since: datetime | None, tz: ZoneInfo) -> Iterable[list[str]]:
    for entry in store.entries_since(session, since):
        yield [
            local_time(entry.at, tz),
            entry.admin_id,
            entry.action,
            entry.kind,
            str(entry.number),
            to_plain(entry.detail),
        ]


EXPORT = Export("audit", ["date", "admin", "action", "kind", "number", "detail"], export_rows)
