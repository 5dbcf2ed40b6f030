"""`kaizen export NAME`: CSV to stdout, one header row, `--since` inclusive in the team's zone.
Each feature defines its exports (bot.core.parts.Export); this writes any of them, safe to open
in a spreadsheet."""

from __future__ import annotations

import csv
from datetime import date, datetime, time
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.core.parts import Export

# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """How exports write a moment: ISO 8601 in the team's zone, to the second."""
    return moment.astimezone(tz).isoformat(timespec="seconds")


def write_export(session: Session, export: Export, out: TextIO, since: date | None, tz: ZoneInfo) -> int:
    """Write one export as CSV; returns the number of data rows."""
    start = datetime.combine(since, time(0), tzinfo=tz) if since else None
    writer = csv.writer(out)
    writer.writerow(export.header)
    count = 0
    for row in export.rows(session, start, tz):
        writer.writerow([as_text(cell) for cell in row])
        count += 1
    return count


def as_text(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading apostrophe keeps one that looks like a formula
    from running (the apostrophe is not shown)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
