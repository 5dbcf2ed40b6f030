import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from bot.cli import main
from bot.core.jobs import run_job
from bot.core.scheduler import add_jobs
from bot.core.settings import load_settings
from storage.models import Member
from tests.bot.core.test_scheduler import use_the_test_database_and_fake_slack
from tests.bot.factories import kudos

PARIS = ZoneInfo("Europe/Paris")
MONDAY_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)
HUMANS = [f"UH{n:04d}" for n in range(205)]  # more than one page of users.list


@pytest.fixture
def workspace(fake_slack):
    for user in HUMANS:
        fake_slack.add_user(user)
    fake_slack.add_user("UROBOT", is_bot=True)
    fake_slack.add_user("USLACKBOT")  # Slack's own bot says is_bot: false
    fake_slack.add_user("UGONE", deleted=True)
    fake_slack.add_user("UGUESTMULTI", guest="multi")
    fake_slack.add_user("UGUESTSINGLE", guest="single")


def members(ctx) -> dict[str, Member]:
    with ctx.session_factory() as session:
        return {m.user_id: m for m in session.scalars(select(Member))}


def gaps_in_digest(fake_slack) -> tuple[int, list[str]]:
    [dm] = fake_slack.posts_to("ULEAD")
    text = str(dm["blocks"])
    count = int(re.search(r"(\d+) people with no kudos in 30 days", text)[1])
    return count, re.findall(r"<@(U\w+)> \(never\)", text)


def test_recognition_gaps_cover_every_human_member_of_users_list(ctx, fake_slack, clock, workspace):
    with ctx.session_factory.begin() as session:
        session.add_all(kudos("UH0001", user, MONDAY_0900 - timedelta(days=3)) for user in HUMANS[:5])
    clock.set(MONDAY_0900 - timedelta(hours=3))

    report = run_job(ctx, "member-directory")

    assert report.lines == [
        "210 accounts in users.list; 205 of them count as team members",
        "0 user group(s) read, with their members",
    ]
    pages = fake_slack.calls_to("users.list")
    assert [page.get("cursor") for page in pages] == [None, "200"]
    assert members(ctx)["UGUESTSINGLE"].is_guest and members(ctx)["USLACKBOT"].is_bot

    clock.set(MONDAY_0900)
    run_job(ctx, "lead-digest")

    count, named = gaps_in_digest(fake_slack)
    assert count == 200  # five were recognised this week
    assert named == HUMANS[5:35]  # the first 30, never recognised
    assert not {"UROBOT", "USLACKBOT", "UGONE", "UGUESTMULTI", "UGUESTSINGLE"} & set(named)


def test_guests_count_when_the_team_says_so(env, ctx, fake_slack, clock, workspace):
    env["KAIZEN_INCLUDE_GUESTS"] = "true"
    ctx.settings = load_settings(env)
    for user in HUMANS:
        del fake_slack.users[user]
    clock.set(MONDAY_0900)

    assert run_job(ctx, "member-directory").lines[0] == "5 accounts in users.list; 2 of them count as team members"
    run_job(ctx, "lead-digest")

    assert gaps_in_digest(fake_slack) == (2, ["UGUESTMULTI", "UGUESTSINGLE"])


def test_a_rate_limited_page_is_waited_for(ctx, fake_slack, clock, workspace):
    fake_slack.fail("users.list", status=429, retry_after=1)
    run_job(ctx, "member-directory")
    assert len(members(ctx)) == 210


def test_the_directory_is_refreshed_at_start_even_when_it_ran_today(ctx, fake_slack, clock, workspace):
    clock.set(datetime(2026, 11, 18, 15, 0, tzinfo=PARIS))  # long after today's 06:00 run: no catch-up
    run_job(ctx, "member-directory")
    fake_slack.add_user("UNEWCOMER")
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, ctx)

    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while "UNEWCOMER" not in members(ctx) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)

    assert "UNEWCOMER" in members(ctx)


def test_cli_says_what_slack_answered_without_a_traceback(ctx, engine, fake_slack, monkeypatch, capsys, tmp_path):
    use_the_test_database_and_fake_slack(monkeypatch, engine, fake_slack, tmp_path)
    fake_slack.fail("users.list", error="missing_scope")

    assert main(["jobs", "run", "member-directory"]) == 2

    assert capsys.readouterr().err.strip() == "kaizen: Slack refused users.list: missing_scope"
    assert members(ctx) == {}


def test_kudos_recipients_join_the_directory(slack, ctx, fake_slack):
    fake_slack.add_user("UANA", guest="multi")
    slack.command("/kudos", "<@UANA|ana> thanks for the handover")
    [ana] = members(ctx).values()
    assert (ana.user_id, ana.is_guest, ana.first_seen_at) == ("UANA", True, datetime(2026, 11, 18, 9, tzinfo=UTC))


def test_the_digest_on_a_fresh_database_refreshes_the_directory_first(
    engine, fake_slack, monkeypatch, tmp_path, workspace
):
    use_the_test_database_and_fake_slack(monkeypatch, engine, fake_slack, tmp_path)

    assert main(["jobs", "run", "lead-digest"]) == 0  # nobody ran member-directory, ever

    assert len(fake_slack.calls_to("users.list")) == 2  # its two pages, before the digest was written
    assert gaps_in_digest(fake_slack) == (205, HUMANS[:30])


def test_a_directory_younger_than_a_day_is_not_asked_again(ctx, fake_slack, clock, workspace):
    clock.set(MONDAY_0900 - timedelta(hours=23))
    run_job(ctx, "member-directory")
    fake_slack.clear()
    clock.set(MONDAY_0900)

    report = run_job(ctx, "lead-digest")

    assert fake_slack.calls_to("users.list") == [] and report.lines == [
        "lead digest (no kudos in 4 weeks, so no chart) by DM to 2 lead(s): UADMIN, ULEAD"
    ]
    assert gaps_in_digest(fake_slack)[0] == 205


def test_a_stale_directory_is_refreshed_first_and_a_failure_to_does_not_stop_the_digest(
    ctx, fake_slack, clock, workspace
):
    clock.set(MONDAY_0900 - timedelta(days=1, minutes=1))
    run_job(ctx, "member-directory")
    fake_slack.add_user("UNEWCOMER")
    clock.set(MONDAY_0900)

    dry = run_job(ctx, "lead-digest", dry_run=True)  # changes nothing, so it says what a run would do
    assert "member-directory is older than a day: a real run refreshes it first" in dry.lines
    assert "UNEWCOMER" not in members(ctx)

    fake_slack.fail("users.list", error="missing_scope")
    report = run_job(ctx, "lead-digest")
    assert "member-directory could not be refreshed first (Slack: missing_scope); this run uses the copy there is" in (
        report.lines
    )
    assert "UNEWCOMER" not in members(ctx) and gaps_in_digest(fake_slack)[0] == 205
