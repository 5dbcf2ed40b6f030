"""Running scheduled jobs: the claim that makes each period run once, and dry runs.

A job (bot.core.context.Job) writes its records and outbox rows in the session it is given.
`run_job` claims the job's period in the same transaction, so two schedulers, a catch-up after
downtime and a manual run never post twice for one period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.outbox import OUTBOX_KEYS
from bot.core.settings import WeeklyAt
from storage import jobs as store
from storage import outbox as outbox_store


def daily(now: datetime) -> str:
    return now.date().isoformat()


def weekly(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_schedule(at: WeeklyAt) -> dict:
    """CronTrigger fields for a weekly setting such as KAIZEN_DIGEST_AT."""
    return {"day_of_week": at.day_name, "hour": at.at.hour, "minute": at.at.minute}


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
    job = ctx.jobs[name]
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
    target = next((payload[k] for k in ("channel", "users", "user_id", "channel_id") if payload.get(k)), "?")
    about = payload.get("text") or payload.get("initial_comment") or payload.get("title", "")
    return f"would send {message.method} to {target}: {about}"
