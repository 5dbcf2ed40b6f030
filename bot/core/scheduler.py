"""APScheduler 3: every feature's jobs and the catch-up, in the team's time zone. (Messages are
delivered by the process that writes them: a job drains its own; see bot.core.outbox.)

Catch-up: an in-memory scheduler forgets a run it missed while the process was down, so
at start and then every CATCH_UP_EVERY, each job whose latest scheduled time is less than
CATCH_UP_WINDOW ago runs now unless its period is already claimed. Three hours, because a
tip or a digest still helps the same morning, and no longer at the end of the afternoon.
It also retries a run that failed (it claimed nothing, since its transaction rolled back).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.context import Context, Job
from bot.core.jobs import JobReport, run_job
from bot.core.settings import Settings

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 15 * 60
CATCH_UP_WINDOW = timedelta(hours=3)
CATCH_UP_EVERY = timedelta(minutes=10)


def job_trigger(job: Job, settings: Settings) -> CronTrigger:
    return CronTrigger(timezone=settings.timezone, **job.schedule(settings))


def add_jobs(scheduler: BaseScheduler, ctx: Context) -> None:
    tz = ctx.settings.timezone
    scheduler.configure(
        timezone=tz,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
    )
    for job in ctx.jobs.values():
        scheduler.add_job(
            _run_scheduled,
            job_trigger(job, ctx.settings),
            args=[ctx, job.name],
            id=job.name,
            replace_existing=True,
        )
        if job.at_start:  # no trigger: once, now; forced, as it may have run earlier in its period
            scheduler.add_job(
                _run_scheduled, args=[ctx, job.name, True], id=f"{job.name}-at-start", replace_existing=True
            )
    scheduler.add_job(
        catch_up,
        IntervalTrigger(seconds=CATCH_UP_EVERY.total_seconds(), timezone=tz),
        args=[ctx],
        id="catch-up",
        replace_existing=True,
        next_run_time=ctx.now(),  # at start, too
    )


def _run_scheduled(ctx: Context, name: str, force: bool = False) -> None:
    report = run_job(ctx, name, force=force)
    if report.ran:
        log.info("%s ran for %s: %d lines", name, report.period, len(report.lines))
    else:
        log.info("%s for %s was already run by another scheduler", name, report.period)


def latest_fire_time(trigger: CronTrigger, now: datetime, window: timedelta) -> datetime | None:
    """The last time in [now - window, now] the trigger fired, if it did."""
    latest = None
    fire = trigger.get_next_fire_time(None, now - window)
    while fire is not None and fire <= now:
        latest, fire = fire, trigger.get_next_fire_time(fire, fire)
    return latest


def catch_up(ctx: Context, now: datetime | None = None) -> list[JobReport]:
    """Run each job whose latest scheduled time is within the window and whose period nobody claimed."""
    now = now or ctx.now()
    reports = []
    for job in ctx.jobs.values():
        fired = latest_fire_time(job_trigger(job, ctx.settings), now, CATCH_UP_WINDOW)
        if fired is None:
            continue
        # The period and the work are those of the missed run, even if now is past midnight.
        report = run_job(ctx, job.name, fired)
        if report.ran:
            log.info("%s caught up for %s (due at %s)", job.name, report.period, fired.isoformat())
            reports.append(report)
    return reports
