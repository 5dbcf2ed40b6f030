import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.cli import main
from bot.core.exports import write_export
from bot.core.jobs import run_job
from bot.lessons.reports import EXPORT

PARIS = ZoneInfo("Europe/Paris")
LAST_THURSDAY = datetime(2026, 11, 12, 11, 0, tzinfo=PARIS)
WEDNESDAY = datetime(2026, 11, 18, 10, 0, tzinfo=PARIS)
FRIDAY_1600 = datetime(2026, 11, 20, 16, 0, tzinfo=PARIS)
MONDAY_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)


def share(slack, text, user):
    slack.command("/lesson", text, user=user)


def share_anonymously(slack, text, user):
    values = {
        "text": {"text": {"value": text}},
        "theme": {"theme": {"selected_option": None}},
        "anonymous": {"anonymous": {"selected_options": [{"value": "anonymous"}]}},
    }
    slack.view_submission("lesson_modal", values, user=user)


def vote_up(slack, lesson_id, *voters):
    for voter in voters:
        slack.block_action("lesson_useful", str(lesson_id), user=voter)


def test_the_celebration_thanks_the_authors_of_lessons_promoted_this_week(slack, fake_slack, ctx, clock):
    clock.set(LAST_THURSDAY)
    share(slack, "Last week's lesson", "UOLD")
    slack.command("/lesson", "promote 1", user="UADMIN")
    clock.set(WEDNESDAY)
    share(slack, "Repeat the order number back before you refund", "UANA")
    share_anonymously(slack, "Ask what they already tried", "UHIDDEN")
    share(slack, "Not promoted yet", "UBEN")
    vote_up(slack, 2, "UB", "UC", "UD")
    slack.command("/lesson", "promote 3", user="UADMIN")
    vote_up(slack, 4, "UB", "UC")
    clock.set(FRIDAY_1600)

    run_job(ctx, "weekly-celebration")

    [post] = fake_slack.posts_to("CKUDOS")
    text = str(post["blocks"])
    assert post["text"] == ":tada: This week, together: 2 lessons became tips"
    assert "Lessons that became tips this week" in text
    assert "• <@UANA>: Repeat the order number back before you refund" in text
    assert "• Someone who shared anonymously: Ask what they already tried" in text
    assert "UOLD" not in text and "Last week" not in text and "Not promoted yet" not in text
    assert "UHIDDEN" not in text and "A quiet week" not in text


def test_the_digest_counts_lessons_shared_and_promoted_never_quotes_them(slack, fake_slack, ctx, clock):
    clock.set(LAST_THURSDAY)
    share(slack, "Secret sauce of last week", "UANA")
    clock.set(WEDNESDAY)
    for n in range(3):
        share(slack, f"Secret sauce {n}", "UBEN")
    slack.command("/lesson", "promote 2", user="UADMIN")
    clock.set(MONDAY_0900)

    run_job(ctx, "lead-digest")

    [dm] = fake_slack.posts_to("ULEAD")
    text = str(dm["blocks"])
    assert "• Lessons: 3 shared, 1 became a tip (before: 1 shared, 0 became tips)" in text
    assert "Secret sauce" not in text


def exported(ctx, since=None):
    out = io.StringIO()
    with ctx.session_factory() as session:
        count = write_export(session, EXPORT, out, since, ctx.settings.timezone)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert count == len(rows) - 1
    return rows


def test_the_export_has_votes_and_tips_and_no_author_for_anonymous_lessons(slack, ctx, clock):
    share(slack, "Refunds &amp; returns: say both #empathy", "UANA")
    vote_up(slack, 1, "UB", "UC", "UD")
    clock.advance(days=1)
    share_anonymously(slack, "Ask what they already tried", "UHIDDEN")
    vote_up(slack, 2, "UB")

    rows = exported(ctx)
    tip, wednesday = rows[1][5], "2026-11-18T10:00:00+01:00"
    assert rows == [
        ["number", "date", "lesson", "theme", "votes", "tip", "promoted", "author"],
        ["1", wednesday, "Refunds & returns: say both", "empathy", "3", tip, wednesday, "UANA"],
        ["2", "2026-11-19T10:00:00+01:00", "Ask what they already tried", "", "1", "", "", ""],
    ]
    assert tip.isdigit()
    assert [row[0] for row in exported(ctx, since=date(2026, 11, 19))] == ["number", "2"]


def test_kaizen_export_lessons(slack, ctx, engine, env, monkeypatch, capsys, tmp_path):
    share(slack, "Say the refund amount twice", "UANA")
    for name, value in {**env, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    assert main(["export", "lessons"]) == 0

    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (row["number"], row["lesson"], row["author"], row["tip"]) == ("1", "Say the refund amount twice", "UANA", "")


def test_a_lesson_promoted_on_sunday_night_utc_counts_in_the_week_of_the_team_zone(slack, fake_slack, ctx, clock):
    clock.set(datetime(2026, 11, 15, 23, 30, tzinfo=UTC))  # Monday 00:30 in Paris
    share(slack, "Early bird lesson", "UANA")
    slack.command("/lesson", "promote 1", user="UADMIN")
    clock.set(FRIDAY_1600)
    run_job(ctx, "weekly-celebration")
    assert "<@UANA>: Early bird lesson" in str(fake_slack.posts_to("CKUDOS")[0]["blocks"])
