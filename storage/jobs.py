"""Claims of scheduled job periods."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import JobRun


def claim_period(session: Session, job: str, period: str, now: datetime) -> bool:
    """True if this run is the first for (job, period); the claim commits with the job's work."""
    try:
        with session.begin_nested():
            session.add(JobRun(job=job, period=period, started_at=now))
    except IntegrityError:
        return False
    return True


def release_period(session: Session, job: str, period: str) -> None:
    session.execute(delete(JobRun).where(JobRun.job == job, JobRun.period == period))
