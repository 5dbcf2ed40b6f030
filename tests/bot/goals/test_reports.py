import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.cli import main
from bot.core.exports import write_export
from bot.core.jobs import run_job
from bot.goals.blocks import (
    DONE_ACTION,
    GOAL_MODAL,
    PROGRESS_ACTION,
    PROGRESS_MODAL,
    SHOWN_IN_DIGEST,
    STUCK_ACTION,
    digest_section,
)
from bot.goals.reports import EXPORT
from storage.goals import SharedGoal, WeekProgress
from tests.bot.goals.test_jobs import goal_id, made_progress
from tests.handlers.test_goals import form

PARIS = ZoneInfo("Europe/Paris")
FOUR_WEEKS_AGO = datetime(2026, 10, 26, 10, 0, tzinfo=PARIS)
LAST_WEEK = datetime(2026, 11, 10, 10, 0, tzinfo=PARIS)
LAST_THURSDAY = datetime(2026, 11, 12, 11, 0, tzinfo=PARIS)
WEDNESDAY = datetime(2026, 11, 18, 10, 0, tzinfo=PARIS)
CHECKIN = datetime(2026, 11, 18, 15, 0, tzinfo=PARIS)
FRIDAY_1600 = datetime(2026, 11, 20, 16, 0, tzinfo=PARIS)
MONDAY_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)


def set_goal(slack, user, title, *, milestones="", shared=False, why=""):
    slack.view_submission(GOAL_MODAL, form(title=title, milestones=milestones, shared=shared, why=why), user=user)


def progress(slack, fake_slack, ctx, user, note="", reached=(), number=1):
    made_progress(slack, fake_slack, goal_id(ctx, user, number), user, note, reached)


def test_home_shows_your_open_goals_with_their_last_progress(slack, fake_slack, ctx, clock):
    set_goal(slack, "UANA", "De-escalate angry callers", milestones="Shadow Maya\nTake a call alone", shared=True)
    set_goal(slack, "UANA", "Dropped one")
    slack.command("/goal", "drop 2", user="UANA")
    clock.advance(days=1)
    progress(slack, fake_slack, ctx, "UANA", "Shadowed Maya twice", reached=["Shadow Maya"])
    clock.advance(minutes=1)
    fake_slack.clear()

    slack.event({"type": "app_home_opened", "user": "UANA", "tab": "home"})

    [publish] = fake_slack.calls_to("views.publish")
    shown = json.dumps(publish["view"])
    assert "Your growth goals" in shown and "*1.* De-escalate angry callers" in shown
    assert "1 of 2 milestones" in shown and "shared with your lead" in shown
    assert "Last progress Thu 19 Nov: Shadowed Maya twice" in shown
    assert "Dropped one" not in shown and "Check-ins come on Wednesdays at 15:00" in shown

    fake_slack.clear()
    slack.event({"type": "app_home_opened", "user": "UBEN", "tab": "home"})
    [publish] = fake_slack.calls_to("views.publish")
    shown = json.dumps(publish["view"])
    assert "What would you like to get better at? `/goal` sets a goal" in shown
    assert "De-escalate" not in shown


def test_the_celebration_names_who_reached_a_shared_goal_never_its_words(slack, fake_slack, ctx, clock):
    clock.set(LAST_THURSDAY)  # before the week the first celebration covers
    set_goal(slack, "UOLD", "Last week's goal", milestones="Old step", shared=True)
    progress(slack, fake_slack, ctx, "UOLD", reached=["Old step"])
    slack.command("/goal", "done 1", user="UOLD")
    clock.set(WEDNESDAY)
    set_goal(slack, "UANA", "De-escalate angry callers", milestones="Shadow Maya\nTake a call alone", shared=True)
    set_goal(slack, "UBEN", "Personal goal of Ben", milestones="Ben's private step")
    set_goal(slack, "UDAN", "Personal goal of Dan", milestones="Dan's private step")
    set_goal(slack, "UCAL", "Personal goal of Cal")
    set_goal(slack, "UEVE", "Handle refunds end to end", shared=True)
    set_goal(slack, "UFAY", "Personal goal of Fay")
    clock.set(CHECKIN)
    progress(slack, fake_slack, ctx, "UANA", "Listened in", reached=["Shadow Maya"])
    progress(slack, fake_slack, ctx, "UBEN", reached=["Ben's private step"])
    progress(slack, fake_slack, ctx, "UDAN", "Tried it", reached=["Dan's private step"])
    progress(slack, fake_slack, ctx, "UFAY", "Read the guide")  # effort, with no milestone
    slack.command("/goal", "done 1", user="UCAL")
    slack.command("/goal", "done 1", user="UEVE")
    clock.set(FRIDAY_1600)
    fake_slack.clear()

    run_job(ctx, "weekly-celebration")

    [post] = fake_slack.posts_to("CKUDOS")
    text = json.dumps(post["blocks"], ensure_ascii=False)
    assert post["text"] == ":tada: This week, together: 3 milestones and 2 goals reached"
    assert "*Growth goals* — every step on the way counts, not only the finish line" in text
    # A shared goal's owner is named, never its words: sharing is with the lead, not the channel.
    assert "• <@UANA> reached a milestone on a goal" in text
    assert "• <@UEVE> reached a goal :tada:" in text
    assert "• 2 people reached a milestone on a personal goal" in text
    assert "• 1 person reached a personal goal" in text
    assert "4 people logged progress on their goals this week" in text
    hidden = ("Personal goal", "private step", "UBEN", "UCAL", "UDAN", "UFAY", "UOLD", "Last week")
    shared_words = ("De-escalate", "angry callers", "Shadow Maya", "Take a call", "Handle refunds")
    for words in (*hidden, *shared_words):
        assert words not in json.dumps(post.params, ensure_ascii=False)


def test_a_week_with_only_effort_still_says_so(slack, fake_slack, ctx, clock):
    set_goal(slack, "UANA", "Personal goal of Ana")
    progress(slack, fake_slack, ctx, "UANA", "Read the guide")
    clock.set(FRIDAY_1600)

    run_job(ctx, "weekly-celebration")

    [post] = fake_slack.posts_to("CKUDOS")
    assert post["text"] == ":tada: This week, together: 1 person worked on their goals"
    assert "1 person logged progress on their goals this week" in json.dumps(post["blocks"])
    assert "Personal goal" not in json.dumps(post.params)


def test_the_digest_shows_shared_goals_moving_and_those_stalled_for_three_weeks(slack, fake_slack, ctx, clock):
    clock.set(FOUR_WEEKS_AGO)
    set_goal(slack, "UANA", "Shared and never touched", shared=True)
    set_goal(slack, "UBEN", "Shared and stalled", shared=True)
    set_goal(slack, "UCAL", "Personal and never touched")
    set_goal(slack, "UDAN", "Shared and moving slowly", shared=True)
    clock.advance(days=2)
    progress(slack, fake_slack, ctx, "UBEN", "A first try")
    clock.set(LAST_WEEK)
    progress(slack, fake_slack, ctx, "UDAN", "Second try")
    clock.set(WEDNESDAY)
    set_goal(slack, "UEVE", "Handle refunds end to end", milestones="Shadow a refund", shared=True)
    set_goal(slack, "UFAY", "Personal goal of Fay")
    clock.set(CHECKIN)
    progress(slack, fake_slack, ctx, "UEVE", "Took two refunds alone", reached=["Shadow a refund"])
    progress(slack, fake_slack, ctx, "UFAY", "Secret note of Fay")
    clock.set(MONDAY_0900)
    fake_slack.clear()

    run_job(ctx, "lead-digest")

    [dm] = fake_slack.posts_to("ULEAD")
    text = json.dumps(dm["blocks"], ensure_ascii=False)
    assert (
        "• Shared growth goals: 1 check-in with progress, 1 milestone, 0 done "
        "(before: 1 check-in with progress, 0 milestones, 0 done)"
    ) in text
    assert "*Shared growth goals* (only goals their owners chose to share)" in text
    assert (
        "• <@UEVE>, goal 1: Handle refunds end to end: 1 check-in with progress, milestone reached: "
        "Shadow a refund — “Took two refunds alone”"
    ) in text
    assert "*No progress for 3 weeks or more*" in text
    assert "• <@UANA>, goal 1: Shared and never touched (set Mon 26 Oct, nothing logged yet)" in text
    assert "• <@UBEN>, goal 1: Shared and stalled (last progress Wed 28 Oct)" in text
    assert "UDAN" not in text  # moved 13 days ago
    for hidden in ("Personal", "UCAL", "UFAY", "Secret"):
        assert hidden not in text


def test_no_shared_goal_no_digest_line(slack, fake_slack, ctx, clock):
    set_goal(slack, "UANA", "Personal goal of Ana")
    clock.set(MONDAY_0900)

    run_job(ctx, "lead-digest")

    [dm] = fake_slack.posts_to("ULEAD")
    assert "growth goals" not in json.dumps(dm["blocks"])


def exported(ctx, since=None):
    out = io.StringIO()
    with ctx.session_factory() as session:
        write_export(session, EXPORT, out, since, ctx.settings.timezone)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_the_export_has_shared_goals_only_with_their_progress_dates(slack, fake_slack, ctx, clock):
    clock.set(LAST_WEEK)
    set_goal(
        slack,
        "UANA",
        "=Handle refunds & disputes",
        milestones="Shadow Maya\nAlone",
        shared=True,
        why="Fewer escalations",
    )
    set_goal(slack, "UBEN", "Personal goal of Ben")
    clock.set(WEDNESDAY)
    progress(slack, fake_slack, ctx, "UANA", "Shadowed", reached=["Shadow Maya"])
    progress(slack, fake_slack, ctx, "UBEN", "Secret note")
    clock.set(CHECKIN)
    progress(slack, fake_slack, ctx, "UANA", "Took one alone")
    set_goal(slack, "UCAL", "Warmer replies", shared=True)
    slack.command("/goal", "drop 1", user="UCAL")

    rows = exported(ctx)

    assert rows == [
        ["owner", "goal", "title", "why", "target", "status", "set", "closed", "milestones", "progress"],
        [
            "UANA",
            "1",
            "'=Handle refunds & disputes",
            "Fewer escalations",
            "",
            "open",
            "2026-11-10T10:00:00+01:00",
            "",
            "Shadow Maya (reached 2026-11-18T10:00:00+01:00); Alone",
            "2026-11-18T10:00:00+01:00; 2026-11-18T15:00:00+01:00",
        ],
        [
            "UCAL",
            "1",
            "Warmer replies",
            "",
            "",
            "dropped",
            "2026-11-18T15:00:00+01:00",
            "2026-11-18T15:00:00+01:00",
            "",
            "",
        ],
    ]
    assert [row[0] for row in exported(ctx, since=WEDNESDAY.date())] == ["owner", "UCAL"]


def test_kaizen_export_goals(slack, fake_slack, ctx, engine, env, monkeypatch, capsys, tmp_path):
    set_goal(slack, "UANA", "Handle refunds end to end", shared=True)
    for name, value in {**env, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    assert main(["export", "goals"]) == 0

    assert "UANA,1,Handle refunds end to end" in capsys.readouterr().out


SECRETS = ("Secret title of Ana", "secret reason", "Secret step", "secret note", "Finished secret")


def has_secret(call) -> bool:
    return any(secret.lower() in json.dumps(call.params, default=repr).lower() for secret in SECRETS)


def test_an_unshared_goal_shows_nowhere_but_to_its_owner(slack, fake_slack, ctx, clock):
    """Every Web API call that carries anything of Ana's personal goals goes to Ana: her DMs, her Home
    tab, and the answers to her own commands and clicks. The lead, the channel, the export, the job's
    report and everyone else see none of it."""
    slack.command("/mentor", "offer #billing", user="UMAYA")
    set_goal(slack, "UBEN", "Ben shares this one", milestones="Ben's step", shared=True)
    progress(slack, fake_slack, ctx, "UBEN", "Ben's note", reached=["Ben's step"])
    ana_starts = len(fake_slack.calls)
    # Ana's own requests: the answers to these are for her eyes.
    set_goal(slack, "UANA", "Secret title of Ana", milestones="Secret step one\nSecret step two", why="secret reason")
    set_goal(slack, "UANA", "Finished secret")
    set_goal(slack, "UANA", "Secret title of Ana, untouched this week")  # so the check-in comes
    secret, finished = goal_id(ctx, "UANA", 1), goal_id(ctx, "UANA", 2)
    slack.block_action(PROGRESS_ACTION, str(secret), user="UANA", channel="DUANA")
    view = fake_slack.modal()
    [option] = [o for b in view["blocks"] if b.get("block_id") == "reached" for o in b["element"]["options"]][:1]
    values = {"note": {"note": {"value": "my secret note"}}, "reached": {"reached": {"selected_options": [option]}}}
    slack.view_submission(PROGRESS_MODAL, values, user="UANA", private_metadata=view["private_metadata"])
    slack.command("/goal", "list", user="UANA")
    slack.block_action(STUCK_ACTION, str(secret), user="UANA", channel="DUANA")  # she looks, and closes it
    slack.block_action(DONE_ACTION, str(finished), user="UANA", channel="DUANA")
    ana_ends = len(fake_slack.calls)

    # Everything else.
    clock.set(CHECKIN)
    run_job(ctx, "goal-checkins")
    for action in (PROGRESS_ACTION, STUCK_ACTION, DONE_ACTION):
        slack.block_action(action, str(secret), user="UBEN", channel="DUBEN")
    slack.command("/goal", "list", user="UBEN")
    slack.command("/goal", "done 1", user="UBEN")
    slack.command("/kaizen", "run-job goal-checkins --dry-run --force", user="UADMIN")
    clock.set(FRIDAY_1600)
    run_job(ctx, "weekly-celebration")
    clock.set(MONDAY_0900)
    run_job(ctx, "lead-digest")
    for user in ("UBEN", "ULEAD", "UADMIN", "UMAYA", "UANA"):
        clock.advance(minutes=1)
        slack.event({"type": "app_home_opened", "user": user, "tab": "home"})
    clock.advance(minutes=1)
    ctx.outbox.sweep()

    calls = fake_slack.calls
    carrying = [n for n, call in enumerate(calls) if has_secret(call)]
    for n in carrying:
        call = calls[n]
        to_ana = call.get("channel") == "UANA" if call.method == "chat.postMessage" else call.get("user_id") == "UANA"
        answering_ana = ana_starts <= n < ana_ends and call.method in ("response_url", "views.open", "views.update")
        assert to_ana and call.method in ("chat.postMessage", "views.publish") or answering_ana, (n, call)
    # The test saw Ana's own views of her goals: her check-in, her Home tab, her list, her forms.
    methods = {calls[n].method for n in carrying}
    assert {"chat.postMessage", "views.publish", "response_url", "views.update"} <= methods
    assert "Ben shares this one" in json.dumps(fake_slack.posts_to("ULEAD")[0]["blocks"])
    assert "reached a milestone on a personal goal" in json.dumps([c.params for c in fake_slack.posts_to("CKUDOS")])
    export = json.dumps(exported(ctx))
    assert "Ben shares this one" in export and not any(s.lower() in export.lower() for s in SECRETS)


def test_the_digest_names_the_first_goals_that_moved_and_counts_the_rest():
    moved = [
        (SharedGoal(n, f"U{n:03d}", 1, f"Goal {n}", "open", FOUR_WEEKS_AGO), WeekProgress(1, ""), [])
        for n in range(SHOWN_IN_DIGEST)
    ]

    [section] = digest_section(moved, SHOWN_IN_DIGEST + 5, [], 3, PARIS)

    text = section["text"]["text"]
    assert text.count("• <@U") == SHOWN_IN_DIGEST and text.endswith("…and 5 more")
