import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from bot.cli import main
from bot.core.context import jobs_by_name
from bot.core.jobs import run_job
from bot.core.scheduler import add_jobs, catch_up, job_trigger, latest_fire_time
from bot.features import FEATURES, tables
from storage.models import Member
from storage.tips import TipSubscriber
from tests.bot.factories import kudos
from tests.conftest import base_env
from tests.handlers.test_feedback import answer, ask_ana_and_ben

PARIS = ZoneInfo("Europe/Paris")
JOBS = jobs_by_name(FEATURES)


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def row_counts(ctx) -> dict[str, int]:
    with ctx.session_factory() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in tables().sorted_tables}


def seed(ctx, now: datetime) -> None:
    with ctx.session_factory.begin() as session:
        session.add_all([TipSubscriber(user_id="UANA", subscribed_at=now), Member(user_id="UBEN", first_seen_at=now)])
        session.add(kudos("UANA", "UBEN", now - timedelta(days=1), "teamwork"))


def test_add_jobs_registers_the_jobs_the_catch_up_and_the_runs_at_start_and_no_outbox_sweep(ctx):
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, ctx)
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {"catch-up", *ctx.jobs, "member-directory-at-start"}  # delivery needs no scheduler
    tip = scheduler.get_job("daily-tip").trigger
    assert tip.timezone == PARIS and str(tip) == "cron[day_of_week='mon-fri', hour='9', minute='30']"


def test_down_at_0930_back_at_1000_posts_the_tip_once(ctx, fake_slack, clock):
    clock.set(paris(2026, 11, 20, 10, 0))  # a Friday; the tip was due at 09:30
    [report] = [r for r in catch_up(ctx) if r.job == "daily-tip"]  # feedback-reminders (10:00) runs too
    clock.advance(minutes=10)
    assert catch_up(ctx) == []  # the periodic catch-up finds the period claimed
    assert not run_job(ctx, "daily-tip").ran

    assert (report.job, report.period) == ("daily-tip", "2026-11-20")
    assert len(fake_slack.posts_to("CTIPS")) == 1


def test_back_after_the_grace_window_does_not_post(ctx, fake_slack, clock):
    clock.set(paris(2026, 11, 20, 14, 0))  # four and a half hours late: a morning tip is no use now
    assert catch_up(ctx) == []
    assert fake_slack.posts_to("CTIPS") == []


def test_catch_up_runs_the_missed_period_even_past_midnight(env, engine, request, clock):
    env["KAIZEN_DAILY_TIP_AT"] = "23:30"
    clock.set(paris(2026, 11, 20, 1, 0))  # Friday 01:00: Thursday's 23:30 tip was missed
    reports = catch_up(request.getfixturevalue("ctx"))
    assert [r.job for r in reports] == ["forget-anonymous-counts", "daily-tip"]  # Friday's 00:00 job too
    report = reports[1]
    assert report.period == "2026-11-19"


def test_two_schedulers_racing_for_one_period_post_once(ctx, fake_slack, clock):
    clock.set(paris(2026, 11, 20, 9, 30))
    start = threading.Barrier(2)
    reports = []

    def scheduler() -> None:
        start.wait()
        reports.append(run_job(ctx, "daily-tip"))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.ran for r in reports) == [False, True]
    assert len(fake_slack.posts_to("CTIPS")) == 1


@pytest.mark.parametrize(
    ("job", "after", "expected"),
    [
        # Daylight saving ends in Paris on Sunday 25 October 2026 (CEST +02:00 → CET +01:00).
        ("daily-tip", paris(2026, 10, 22, 12), ["2026-10-23 09:30+0200", "2026-10-26 09:30+0100"]),
        ("lead-digest", paris(2026, 10, 18, 12), ["2026-10-19 09:00+0200", "2026-10-26 09:00+0100"]),
        ("weekly-celebration", paris(2026, 10, 18, 12), ["2026-10-23 16:00+0200", "2026-10-30 16:00+0100"]),
        # It starts on Sunday 29 March 2026 (CET → CEST).
        ("daily-tip", paris(2026, 3, 26, 12), ["2026-03-27 09:30+0100", "2026-03-30 09:30+0200"]),
    ],
)
def test_jobs_fire_at_the_same_local_time_across_dst(settings, job, after, expected):
    trigger = job_trigger(JOBS[job], settings)
    first = trigger.get_next_fire_time(None, after)
    second = trigger.get_next_fire_time(first, first)
    assert [f"{t:%Y-%m-%d %H:%M%z}" for t in (first, second)] == expected


def test_period_keys_across_dst(settings):
    jobs = JOBS
    assert jobs["daily-tip"].period(paris(2026, 10, 26, 9, 30)) == "2026-10-26"
    assert jobs["lead-digest"].period(paris(2026, 10, 26, 9, 0)) == "2026-W44"
    assert jobs["lead-digest"].period(paris(2026, 10, 25, 23, 59)) == "2026-W43"
    assert jobs["weekly-celebration"].period(paris(2026, 3, 29, 23, 30)) == "2026-W13"


def test_catch_up_in_the_dst_week_uses_local_time(settings):
    trigger = job_trigger(JOBS["daily-tip"], settings)
    # Monday after the change, 10:00 CET = 09:00 UTC: the 09:30 CET run (08:30 UTC) was 30 minutes ago.
    fired = latest_fire_time(trigger, paris(2026, 10, 26, 10, 0), timedelta(hours=3))
    assert fired.astimezone(UTC) == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize("job", ["daily-tip", "weekly-celebration", "lead-digest"])
def test_dry_run_changes_nothing_and_calls_no_web_api(ctx, fake_slack, clock, job):
    clock.set(paris(2026, 11, 20, 16, 0))
    seed(ctx, clock())
    before = row_counts(ctx)

    report = run_job(ctx, job, dry_run=True)

    assert report.ran and any(line.startswith("would send") for line in report.lines)
    assert row_counts(ctx) == before
    assert fake_slack.calls == []
    assert run_job(ctx, job).ran  # the dry run did not claim the period


def people_named(lines: list[str]) -> set[str]:
    return set(re.findall(r"\b[UW][A-Z0-9]{2,}\b", " ".join(lines)))


def test_a_dry_run_names_nobody_the_run_itself_would_not(slack, ctx, fake_slack, clock):
    """Whom a job DMs is between it and them: a dry run counts its DMs by kind, and names only the
    channels it would post in (and whoever the job's own report names, as a real run does)."""
    clock.set(paris(2026, 11, 14, 10, 0))
    ask_ana_and_ben(slack)
    answer(slack, fake_slack, ctx, "UBEN", anonymous=True)
    clock.set(paris(2026, 11, 16, 10, 0))  # two days on, on the first day of a mentoring round
    slack.command("/goal", "add Handle billing calls calmly", user="UCAL")
    slack.command("/mentor", "offer #billing", user="UMAYA")
    slack.command("/mentor", "want #billing", user="UNOAH")
    slack.command("/tip", "subscribe", user="UEVE")
    seed(ctx, clock())

    named_by_a_run = set()
    for job in ("feedback-reminders", "goal-checkins", "mentor-matching", "daily-tip", "lead-digest"):
        dry = run_job(ctx, job, dry_run=True).lines
        assert any(re.fullmatch(r"would send \S+ as \d+ DMs? \([a-z -]+\)", line) for line in dry), dry
        real = run_job(ctx, job).lines
        assert people_named(dry) <= people_named(real), (job, dry, real)
        named_by_a_run |= people_named(real)
    assert "UANA" not in named_by_a_run  # left alone in a batch someone answered anonymously


def test_cli_dry_run(ctx, engine, fake_slack, monkeypatch, capsys, tmp_path):
    for name, value in base_env(fake_slack).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("KAIZEN_ENV_FILE", str(tmp_path / "no.env"))
    before = row_counts(ctx)

    assert main(["jobs", "run", "daily-tip", "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("[dry run] daily-tip for ")
    assert "would send chat.postMessage to CTIPS: :bulb: *Today's tip*" in out
    assert row_counts(ctx) == before and fake_slack.calls == []


def use_the_test_database_and_fake_slack(monkeypatch, engine, fake_slack, tmp_path, **env):
    for name, value in base_env(fake_slack, **env).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("KAIZEN_ENV_FILE", str(tmp_path / "no.env"))


@pytest.mark.parametrize(
    ("job", "sent_to"), [("daily-tip", "CTIPS"), ("weekly-celebration", "CKUDOS"), ("lead-digest", "ULEAD")]
)
def test_cli_force_posts_again_and_dry_run_works_after_the_period_ran(
    ctx, engine, fake_slack, monkeypatch, capsys, tmp_path, job, sent_to
):
    seed(ctx, datetime.now(UTC))
    use_the_test_database_and_fake_slack(monkeypatch, engine, fake_slack, tmp_path)
    assert main(["jobs", "run", job]) == 0
    assert len(fake_slack.posts_to(sent_to)) == 1
    capsys.readouterr()

    before = row_counts(ctx)
    assert main(["jobs", "run", job, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"[dry run] {job} for ") and "would send chat.postMessage" in out
    assert row_counts(ctx) == before and len(fake_slack.posts_to(sent_to)) == 1

    assert main(["jobs", "run", job]) == 0
    assert "already ran" in capsys.readouterr().out
    for runs in (2, 3):
        assert main(["jobs", "run", job, "--force"]) == 0
        assert capsys.readouterr().out.startswith(f"{job} for ")
        assert len(fake_slack.posts_to(sent_to)) == runs


def test_cli_says_how_many_messages_are_still_waiting_and_why(ctx, engine, fake_slack, monkeypatch, capsys, tmp_path):
    with ctx.session_factory.begin() as session:
        session.add_all([TipSubscriber(user_id=user, subscribed_at=datetime.now(UTC)) for user in ("UANA", "UBEN")])
    use_the_test_database_and_fake_slack(monkeypatch, engine, fake_slack, tmp_path)
    fake_slack.fail("chat.postMessage", error="not_in_channel")

    assert main(["jobs", "run", "daily-tip"]) == 0

    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "  1 message(s) refused by Slack (1 × 200 not_in_channel)"
