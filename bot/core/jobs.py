"""Running scheduled jobs: the claim that makes each period run once, and dry runs.

A job (bot.core.context.Job) writes its records and outbox rows in the session it is given.
`run_job` claims the job's period in the same transaction, so two schedulers, a catch-up after
downtime and a manual run never post twice for one period.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.core import metrics
from bot.core.context import Context, Job, Run
from bot.core.logs import log_about
from bot.core.outbox import OUTBOX_KEYS, Backlog
from bot.core.settings import WeeklyAt
from bot.core.text import plural
from storage import jobs as store
from storage import outbox as outbox_store

log = logging.getLogger(__name__)
FRESH_FOR = timedelta(days=1)  # what a job reads (Job.reads) is refreshed first when older than this


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
    if not again and _ran(ctx, name, period):
        return JobReport(name, period, ran=False, lines=[])
    # Slow reads (Slack's paged lists) come before the job's transaction, so they hold no lock.
    refreshed = _refresh_what_it_reads(ctx, job, now, dry_run)
    prepared = job.prepare(ctx) if job.prepare else None
    with ctx.session_factory() as session:
        with session.begin() as transaction:
            number = store.claim_period(session, name, period, now, again=again)
            if number is None:
                return JobReport(name, period, ran=False, lines=[])
            previous = store.previous_run(session, name, period, now)
            lines = refreshed + job.work(ctx, session, Run(now, period, number, previous, prepared, forced=again))
            if dry_run:
                lines += _describe(session, session.info.get(OUTBOX_KEYS, []))
                transaction.rollback()
                return JobReport(name, period, ran=True, lines=lines)
        # A job may fan out to thousands: it returns once they are sent, at Slack's pace, or says why not.
        backlog = ctx.outbox.drain(session.info.pop(OUTBOX_KEYS, []))
    return JobReport(name, period, ran=True, lines=lines, backlog=backlog)


def _ran(ctx: Context, name: str, period: str) -> bool:
    with ctx.session_factory() as session:
        return store.has_run(session, name, period)


def _refresh_what_it_reads(ctx: Context, job: Job, now: datetime, dry_run: bool) -> list[str]:
    """Run each job `job` reads the records of that last ran more than a day ago; the lines say only
    what went differently: a dry run, which changes nothing, says a real run would, and a refresh
    Slack refused does not stop `job`, which says it uses what there is."""
    lines = []
    for name in job.reads:
        with ctx.session_factory() as session:
            last = store.last_started(session, name)
        if last is not None and now - last <= FRESH_FOR:
            continue
        if dry_run:
            lines.append(f"{name} is older than a day: a real run refreshes it first")
            continue
        try:
            report = run_job(ctx, name, now)
        except (SlackApiError, OSError) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else error
            log.warning("%s could not be refreshed before %s: %s", name, job.name, reason)
            lines.append(f"{name} could not be refreshed first (Slack: {reason}); this run uses the copy there is")
            continue
        log.info("%s was older than a day, so it ran before %s: %s", name, job.name, "; ".join(report.lines))
    return lines


def _describe(session: Session, keys: list[str]) -> list[str]:
    """What a dry run would send. A post to a channel shows its channel and text; a DM (to a person,
    a group, a Home tab) is only counted, by kind: whom a job DMs, and what it tells them, is between
    it and them (a reminder names someone still to answer a request that had an anonymous answer)."""
    lines, dms = [], Counter()
    for message in outbox_store.by_keys(session, keys):
        if _is_channel(message.lane):
            payload = message.payload
            about = payload.get("text") or payload.get("initial_comment") or payload.get("title", "")
            lines.append(f"would send {message.method} to {message.lane}: {about}")
        else:
            dms[message.method, _kind(message.key)] += 1
    return lines + [f"would send {method} as {plural(n, 'DM', 'DMs')} ({kind})" for (method, kind), n in dms.items()]


def _is_channel(lane: str | None) -> bool:
    """A public or private channel's ID (a DM's lane is a user's ID, "group:…" or "home:…")."""
    return lane is not None and lane.startswith(("C", "G"))


def _kind(key: str) -> str:
    """The words of an outbox key, without its IDs, dates and people: "feedback:12:reminder" is a
    "feedback reminder", "tip:2026-11-18:dm:U042" a "tip dm"."""
    return " ".join(part for part in key.split(":") if re.fullmatch(r"[a-z][a-z-]*", part)) or "message"
