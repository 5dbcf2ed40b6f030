"""Calendar arithmetic in the team's time zone. Callers pass `now`; nothing here reads the clock."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo


def day_start(now: datetime, tz: tzinfo) -> datetime:
    return datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)


def next_day_start(now: datetime, tz: tzinfo) -> datetime:
    return datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(0), tzinfo=tz)


def week_start(now: datetime, tz: tzinfo) -> datetime:
    """Monday 00:00 of the week `now` falls in."""
    local = now.astimezone(tz).date()
    return datetime.combine(local - timedelta(days=local.weekday()), time(0), tzinfo=tz)


def month_start(now: datetime, tz: tzinfo) -> datetime:
    return datetime.combine(now.astimezone(tz).date().replace(day=1), time(0), tzinfo=tz)


def at_next_midnight(now: datetime, tz: ZoneInfo) -> str:
    """'at midnight (Europe/Paris), in 13 h 50 min': when a daily limit resets."""
    return f"at midnight ({tz.key}), in {describe_wait(next_day_start(now, tz) - now)}"


def describe_wait(delta: timedelta) -> str:
    """'3 h 12 min', '45 min', 'under a minute'."""
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else "under a minute"


def ago(since: datetime, now: datetime) -> str:
    """'today', 'yesterday', '3 days ago'."""
    days = (now - since).days
    return {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")


def days_between(since: datetime, now: datetime) -> str:
    """'less than a day', '1 day', '40 days': how long something has been so."""
    days = (now - since).days
    return "less than a day" if days == 0 else f"{days} day{'s' if days != 1 else ''}"
