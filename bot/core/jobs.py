"""Running scheduled jobs: the claim that makes each period run once, and dry runs.

A job (bot.core.context.Job) writes its records and outbox rows in the session it is given.
`run_job` claims the job's period in the same transaction, so two schedulers, a catch-up after
downtime and a manual run never post twice for one period.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core import metrics
from bot.core.context import Context, Job, Run
from bot.core.logs import log_about
from bot.core.outbox import OUTBOX_KEYS, Backlog
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
    backlog: Backlog = field(default_factory=Backlog)  # what it wrote that could not be delivered yet


def run_job(
    ctx: Context, name: str, now: datetime | None = None, *, dry_run: bool = False, force: bool = False
) -> JobReport:
    """Run one job for the period `now` falls in, unless it already ran for it.

    `force` runs it again: it posts again, under outbox keys of its own (see Run.key). A dry run
    is a forced run that keeps nothing and sends nothing, and says what it would have sent.
    """
    job = ctx.jobs[name]
    now = (now or ctx.now()).astimezone(ctx.settings.timezone)
    period = job.period(now)
    started = time.monotonic()
    with log_about(job=name, period=period):
        try:
            report = _run(ctx, job, now, period, dry_run=dry_run, force=force)
        except Exception:
            metrics.count_job_run(name, "failed", time.monotonic() - started)
            raise
    outcome = "dry-run" if dry_run else "ran" if report.ran else "skipped"
    metrics.count_job_run(name, outcome, time.monotonic() - started)
    return report


def _run(ctx: Context, job: Job, now: datetime, period: str, *, dry_run: bool, force: bool) -> JobReport:
    name = job.name
    again = force or dry_run
    prepared = None
    if job.prepare:
        if not again and _ran(ctx, name, period):
            return JobReport(name, period, ran=False, lines=[])
        prepared = job.prepare(ctx)
    with ctx.session_factory() as session:
        with session.begin() as transaction:
            number = store.claim_period(session, name, period, now, again=again)
            if number is None:
                return JobReport(name, period, ran=False, lines=[])
            previous = store.previous_run(session, name, period, now)
            lines = job.work(ctx, session, Run(now, period, number, previous, prepared))
            if dry_run:
                lines += [_describe(session, key) for key in session.info.get(OUTBOX_KEYS, [])]
                transaction.rollback()
                return JobReport(name, period, ran=True, lines=lines)
        # A job may fan out to thousands: it returns once they are sent, at Slack's pace, or says why not.
        backlog = ctx.outbox.drain(session.info.pop(OUTBOX_KEYS, []))
    return JobReport(name, period, ran=True, lines=lines, backlog=backlog)


def _ran(ctx: Context, name: str, period: str) -> bool:
    with ctx.session_factory() as session:
        return store.has_run(session, name, period)


def _describe(session: Session, key: str) -> str:
    message = outbox_store.by_key(session, key)
    payload = message.payload
    target = next((payload[k] for k in ("channel", "users", "user_id", "channel_id") if payload.get(k)), "?")
    about = payload.get("text") or payload.get("initial_comment") or payload.get("title", "")
    return f"would send {message.method} to {target}: {about}"
