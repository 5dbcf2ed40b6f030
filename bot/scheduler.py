"""APScheduler 3: the outbox sweep and every job of bot.jobs, in the team's time zone."""

from __future__ import annotations

import logging

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import Context
from bot.jobs import all_jobs, run_job

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 20
MISFIRE_GRACE_SECONDS = 15 * 60


def add_jobs(scheduler: BaseScheduler, ctx: Context) -> None:
    tz = ctx.settings.timezone
    scheduler.configure(
        timezone=tz,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
    )
    scheduler.add_job(
        ctx.outbox.sweep,
        IntervalTrigger(seconds=SWEEP_EVERY_SECONDS, timezone=tz),
        id="outbox-sweep",
        replace_existing=True,
    )
    for job in all_jobs().values():
        scheduler.add_job(
            _run_scheduled,
            CronTrigger(timezone=tz, **job.schedule(ctx.settings)),
            args=[ctx, job.name],
            id=job.name,
            replace_existing=True,
        )


def _run_scheduled(ctx: Context, name: str) -> None:
    report = run_job(ctx, name)
    if report.ran:
        log.info("%s ran for %s: %d lines", name, report.period, len(report.lines))
    else:
        log.info("%s for %s was already run by another scheduler", name, report.period)
