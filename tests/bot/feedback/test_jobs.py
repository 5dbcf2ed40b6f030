import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from bot.cli import main
from bot.core.exports import write_export
from bot.core.jobs import run_job
from bot.core.scheduler import add_jobs, catch_up
from bot.feedback.blocks import FEEDBACK_MODAL
from bot.feedback.reports import EXPORT
from storage.feedback import AnonymousFeedbackCount
from tests.bot.core.test_scheduler import paris, use_the_test_database_and_fake_slack
from tests.handlers.test_feedback import answer, answer_values, ask_ana_and_ben, click_answer, feedback_rows


def reminders(ctx, **options):
    return run_job(ctx, "feedback-reminders", **options)


def test_one_reminder_after_two_days_and_expiry_after_fourteen_told_once(slack, fake_slack, ctx, clock):
    slack.command("/feedback", "request <@UANA|ana> about refunds", user="UREQ")
    fake_slack.clear()

    clock.advance(days=1)
    assert reminders(ctx).lines == []
    clock.advance(days=1)
    report = reminders(ctx)
    [reminder] = fake_slack.posts_to("UANA")
    assert "gentle reminder" in reminder["text"] and reminder["blocks"][-1]["elements"][0]["value"] == "1"
    assert report.lines == ["1 reminder sent"]

    # The same day again, even forced past the job's claim, and on the following days: no second reminder.
    assert not reminders(ctx).ran
    assert reminders(ctx, force=True).lines == []
    clock.advance(days=1)
    assert reminders(ctx).lines == []
    assert len(fake_slack.posts_to("UANA")) == 1

    clock.advance(days=11)  # 14 days after the request
    reminders(ctx)
    [expired] = fake_slack.posts_to("UREQ")
    assert "request to <@UANA> about refunds expired after 14 days" in expired["text"]
    assert feedback_rows(ctx)[0].status == "expired"
    assert reminders(ctx, force=True).lines == []
    clock.advance(days=1)
    reminders(ctx)
    assert len(fake_slack.posts_to("UREQ")) == 1 and len(fake_slack.posts_to("UANA")) == 1


def test_answered_requests_are_neither_reminded_nor_expired(slack, fake_slack, ctx, clock):
    slack.command("/feedback", "request <@UANA|ana>", user="UREQ")
    view = click_answer(slack, fake_slack, 1, "UANA")
    slack.view_submission(FEEDBACK_MODAL, answer_values("Good"), user="UANA", private_metadata=view["private_metadata"])
    fake_slack.clear()
    for _ in range(15):
        clock.advance(days=1)
        reminders(ctx)
    assert fake_slack.calls_to("chat.postMessage") == []


def test_dry_run_shows_the_reminder_and_keeps_nothing(slack, fake_slack, ctx, clock):
    slack.command("/feedback", "request <@UANA|ana>", user="UREQ")
    fake_slack.clear()
    clock.advance(days=2)
    report = reminders(ctx, dry_run=True)
    assert report.lines == ["1 reminder sent", "would send chat.postMessage as 1 DM (feedback reminder)"]
    assert fake_slack.calls_to("chat.postMessage") == [] and feedback_rows(ctx)[0].reminded_at is None


def test_a_dry_run_counts_the_reminders_without_naming_who_is_left_after_an_anonymous_answer(
    slack, fake_slack, ctx, clock, engine, monkeypatch, capsys, tmp_path
):
    clock.set(datetime.now(UTC) - timedelta(days=2, hours=1))  # the CLI runs at today's date
    ask_ana_and_ben(slack)
    answer(slack, fake_slack, ctx, "UBEN", anonymous=True)  # whoever is reminded, the other one answered
    clock.set(datetime.now(UTC))
    use_the_test_database_and_fake_slack(monkeypatch, engine, fake_slack, tmp_path)
    fake_slack.clear()

    assert main(["jobs", "run", "feedback-reminders", "--dry-run"]) == 0
    slack.command("/kaizen", "run-job feedback-reminders --dry-run", user="UADMIN")

    printed = capsys.readouterr().out
    [answered] = [call["text"] for call in fake_slack.calls_to("response_url")]
    for said in (printed, answered):
        assert "1 reminder sent" in said and "would send chat.postMessage as 1 DM (feedback reminder)" in said
        assert not re.search(r"UANA|UBEN|\bana\b|\bben\b", said, re.IGNORECASE), said
    assert fake_slack.calls_to("chat.postMessage") == [] and feedback_rows(ctx)[0].reminded_at is None


def test_reminders_are_scheduled_daily_in_the_team_zone(ctx):
    job = ctx.jobs["feedback-reminders"]
    assert job.period(datetime(2026, 11, 18, 10, tzinfo=UTC)) == "2026-11-18"
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, ctx)
    scheduler.start(paused=True)
    try:
        trigger = scheduler.get_job("feedback-reminders").trigger
        assert str(trigger.timezone) == "Europe/Paris"
        assert {f.name: str(f) for f in trigger.fields}["hour"] == "10"
    finally:
        scheduler.shutdown(wait=False)


def test_export_says_who_asked_whom_never_the_text_nor_who_gave_an_anonymous_answer(slack, fake_slack, ctx, clock):
    slack.command("/feedback", "request <@UANA|ana> <@UBEN|ben> about refunds", user="UREQ")
    ana, ben = feedback_rows(ctx)
    clock.advance(days=1)
    for request, anonymous in ((ana, False), (ben, True)):
        view = click_answer(slack, fake_slack, request.id, request.giver_id)
        slack.view_submission(
            FEEDBACK_MODAL,
            answer_values("Secret praise", anonymous=anonymous),
            user=request.giver_id,
            private_metadata=view["private_metadata"],
        )
    clock.advance(days=1)
    slack.command("/feedback", "request <@UCARL|carl>", user="UREQ")

    out = io.StringIO()
    with ctx.session_factory() as session:
        count = write_export(session, EXPORT, out, None, ctx.settings.timezone)
    rows = list(csv.reader(io.StringIO(out.getvalue())))

    assert count == 3
    assert rows == [
        ["date", "for", "giver", "kind", "status", "answered"],
        # Ben answered anonymously: naming Ana would tell who he is, so her request goes unnamed too,
        # and neither says when it was answered.
        ["2026-11-18T10:00:00+01:00", "UREQ", "", "request", "answered", ""],
        ["2026-11-18T10:00:00+01:00", "UREQ", "", "request", "answered", ""],
        ["2026-11-20T10:00:00+01:00", "UREQ", "UCARL", "request", "open", ""],
    ]
    assert "Secret" not in out.getvalue() and "refunds" not in out.getvalue()

    since = io.StringIO()
    with ctx.session_factory() as session:
        assert write_export(session, EXPORT, since, date(2026, 11, 20), ctx.settings.timezone) == 1


def exported(ctx) -> list[list[str]]:
    out = io.StringIO()
    with ctx.session_factory() as session:
        write_export(session, EXPORT, out, None, ctx.settings.timezone)
    return list(csv.reader(io.StringIO(out.getvalue())))[1:]


def test_the_export_of_a_batch_with_an_anonymous_answer_is_the_same_whoever_gave_it(slack, fake_slack, ctx, clock):
    """Whoever knows in which order ana, ben and carl were asked must not learn from the rows' order
    (or their answer times) which of them answered."""
    for requester in ("UREQ", "UROB"):
        slack.command("/feedback", "request <@UANA|ana> <@UBEN|ben> <@UCARL|carl> about refunds", user=requester)
    asked = {(r.about_id, r.giver_id): r.id for r in feedback_rows(ctx)}
    # Carl answers both by name; Ben answers Req anonymously, Ana answers Rob anonymously.
    answers = [("UREQ", "UCARL", False), ("UREQ", "UBEN", True), ("UROB", "UANA", True), ("UROB", "UCARL", False)]
    for requester, giver, anonymous in answers:
        clock.advance(hours=1)
        view = click_answer(slack, fake_slack, asked[requester, giver], giver)
        values = answer_values("Kind", anonymous=anonymous)
        slack.view_submission(FEEDBACK_MODAL, values, user=giver, private_metadata=view["private_metadata"])

    at = "2026-11-18T10:00:00+01:00"
    assert exported(ctx) == [
        [at, "UREQ", "", "request", "answered", ""],
        [at, "UREQ", "", "request", "answered", ""],
        [at, "UREQ", "", "request", "open", ""],
        [at, "UROB", "", "request", "answered", ""],
        [at, "UROB", "", "request", "answered", ""],
        [at, "UROB", "", "request", "open", ""],
    ]


def anonymous_counts(ctx) -> list[date]:
    with ctx.session_factory() as session:
        return list(session.scalars(select(AnonymousFeedbackCount.day)))


def test_the_counts_behind_the_anonymous_limit_are_forgotten_as_their_day_ends(slack, ctx, clock):
    """With the bot token, a day's counts tell who gave that day's anonymous feedback: they go at
    midnight (the scheduler's run, or its catch-up), not at the next morning's reminders."""
    clock.set(paris(2026, 11, 18, 23, 50))
    values = answer_values("Keep going", anonymous=True)
    slack.view_submission(FEEDBACK_MODAL, values, user="UGIVER", private_metadata=json.dumps({"about": "UANA"}))
    assert anonymous_counts(ctx) == [date(2026, 11, 18)]
    assert catch_up(ctx) == [] and anonymous_counts(ctx) == [date(2026, 11, 18)]  # still its day

    clock.set(paris(2026, 11, 19, 0, 5))
    [report] = catch_up(ctx)

    assert (report.job, report.lines) == (
        "forget-anonymous-counts",
        ["forgot the anonymous-feedback counts of earlier days"],
    )
    assert anonymous_counts(ctx) == []
