"""How many ideas and lessons each person posted today, for the daily post limit (bot.core.daily_posts).

Kept under a pseudonym of who and which day, never a user ID: anonymous posts are counted too, and
their authors are stored nowhere. Only today's counts are kept.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import count_one_more
from storage.models import Base


class DailyPostCount(Base):
    __tablename__ = "daily_post_counts"

    day: Mapped[date] = mapped_column(primary_key=True)
    poster_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    posted: Mapped[int]


def count_post(session: Session, day: date, poster_key: str) -> int:
    """Count one more post under this key on this day, and return the day's count so far (this one
    included). Earlier days are forgotten."""
    session.execute(delete(DailyPostCount).where(DailyPostCount.day < day))
    return count_one_more(session, DailyPostCount.posted, day=day, poster_key=poster_key)
