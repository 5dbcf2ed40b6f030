"""Scheduled jobs: a registry, the claim that makes each period run once, and dry runs.

A job is a plain function `work(ctx, session, now) -> list[str]` that writes its records
and outbox rows in `session` and returns one line per thing it posts. `run_job` claims
the job's period in the same transaction, so two schedulers, a catch-up after downtime
and a manual run never post twice for one period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.outbox import OUTBOX_KEYS
from bot.core.settings import Settings, WeeklyAt
from storage import jobs as store
from storage import outbox as outbox_store

JobWork = Callable[[Context, Session, datetime], list[str]]


@dataclass(frozen=True)
class Job:
    name: str
    work: JobWork
    # The period a run at local time `now` belongs to: "2026-11-23" for a daily job, "2026-W48" weekly.
    period: Callable[[datetime], str]
    schedule: Callable[[Settings], dict]  # CronTrigger fields, in KAIZEN_TIMEZONE


def daily(now: datetime) -> str:
    return now.date().isoformat()


def weekly(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_schedule(at: WeeklyAt) -> dict:
    """CronTrigger fields for a weekly setting such as KAIZEN_DIGEST_AT."""
    return {"day_of_week": at.day_name, "hour": at.at.hour, "minute": at.at.minute}


def all_jobs() -> dict[str, Job]:
    """Every scheduled job by name; each feature defines its own."""
    # Imported here, not at the top: the feature modules import Job from this one.
    from bot.feedback import rules as feedback
    from bot.tips import rules as tips
    from bot.weekly import celebration, digest

    jobs: list[Job] = [
        tips.DAILY_TIP,
        celebration.WEEKLY_CELEBRATION,
        digest.LEAD_DIGEST,
        feedback.REMINDERS_JOB,
    ]
    return {job.name: job for job in jobs}


@dataclass(frozen=True)
class JobReport:
    job: str
    period: str
    ran: bool
    lines: list[str]


def run_job(
    ctx: Context, name: str, now: datetime | None = None, *, dry_run: bool = False, force: bool = False
) -> JobReport:
    """Run one job for the period `now` falls in. A dry run shows what it would post and keeps nothing."""
    job = all_jobs()[name]
    now = (now or ctx.now()).astimezone(ctx.settings.timezone)
    period = job.period(now)
    with ctx.session_factory() as session:
        with session.begin() as transaction:
            if force or dry_run:
                store.release_period(session, name, period)
            if not store.claim_period(session, name, period, now):
                return JobReport(name, period, ran=False, lines=[])
            lines = job.work(ctx, session, now)
            if dry_run:
                lines += [_describe(session, key) for key in session.info.get(OUTBOX_KEYS, [])]
                transaction.rollback()
                return JobReport(name, period, ran=True, lines=lines)
        # A job may fan out to thousands: send at Slack's pace now rather than leave it to the sweep.
        ctx.outbox.deliver(session.info.pop(OUTBOX_KEYS, []), wait=True)
    return JobReport(name, period, ran=True, lines=lines)


def _describe(session: Session, key: str) -> str:
    message = outbox_store.by_key(session, key)
    payload = message.payload
    target = payload.get("channel") or payload.get("user_id") or payload.get("channel_id") or "?"
    about = payload.get("text") or payload.get("initial_comment") or payload.get("title", "")
    return f"would send {message.method} to {target}: {about}"
