"""Claims of scheduled job periods, and when jobs ran."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import JobRun


def claim_period(session: Session, job: str, period: str, now: datetime, *, again: bool = False) -> int | None:
    """The number of this run for (job, period): 1 for the first; None if it already ran, unless
    `again`, which runs it once more. The claim commits with the job's work."""
    try:
        with session.begin_nested():
            session.add(JobRun(job=job, period=period, started_at=now, runs=1))
    except IntegrityError:
        if not again:
            return None
        claimed = session.scalars(
            select(JobRun).where(JobRun.job == job, JobRun.period == period).with_for_update()
        ).one()
        claimed.runs += 1
        claimed.started_at = now
        return claimed.runs
    return 1


def has_run(session: Session, job: str, period: str) -> bool:
    return session.get(JobRun, (job, period)) is not None


def last_started(session: Session, job: str) -> datetime | None:
    """When the job last started, for whichever period."""
    return session.scalar(select(func.max(JobRun.started_at)).where(JobRun.job == job))


def previous_run(session: Session, job: str, period: str, now: datetime) -> datetime | None:
    """When the job last ran before `now` for another period than `period`, if ever."""
    query = select(func.max(JobRun.started_at)).where(
        JobRun.job == job, JobRun.period != period, JobRun.started_at < now
    )
    return session.scalar(query)
