from apscheduler.schedulers.background import BackgroundScheduler

from bot.scheduler import MISFIRE_GRACE_SECONDS, add_jobs


def test_outbox_sweep_is_scheduled_in_the_team_zone(ctx):
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, ctx)
    scheduler.start(paused=True)
    try:
        sweep = scheduler.get_job("outbox-sweep")
        assert sweep.func == ctx.outbox.sweep
        assert sweep.coalesce is True and sweep.max_instances == 1
        assert sweep.misfire_grace_time == MISFIRE_GRACE_SECONDS
        assert str(scheduler.timezone) == "Europe/Paris"
    finally:
        scheduler.shutdown(wait=False)
