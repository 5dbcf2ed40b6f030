"""The daily post limit: ideas and lessons together, per person and day (team zone), admins exempt.

Each post takes a turn in a channel's lane, so one person must not be able to flood it. Anonymous
posts count too, so the count is kept under a pseudonym of who and which day (storage.daily_posts).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.clock import at_next_midnight
from bot.core.pseudonym import pseudonym
from bot.core.refusal import Refused
from bot.core.settings import Settings
from storage import daily_posts as store


def count_post(session: Session, settings: Settings, poster_id: str, now: datetime, refusal: type[Refused]) -> None:
    """Count one more post by `poster_id` today, or raise `refusal` (the feature's own) saying the
    limit and when it resets: the transaction then rolls back, count included, so nothing is kept.
    The count is one upserted row, whose lock makes two posts at once count one after the other."""
    if settings.is_admin(poster_id):
        return
    tz = settings.timezone
    day = now.astimezone(tz).date()
    posted = store.count_post(session, day, pseudonym(settings, "daily post limit", f"{poster_id}\0{day.isoformat()}"))
    if posted > settings.daily_post_limit:
        raise refusal(
            f"You've posted {settings.daily_post_limit} ideas and lessons today, the most one person can in a "
            f"day, so the channels stay easy to follow. You can post more {at_next_midnight(now, tz)}."
        )
