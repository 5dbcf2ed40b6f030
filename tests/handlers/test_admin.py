import csv
import io
import json

from sqlalchemy import select

from bot.cli import main
from bot.core.blocks import HIDE_ACTION
from bot.core.jobs import run_job
from bot.core.outbox import enqueue, post_message, post_to_group, update_message
from bot.feedback.blocks import FEEDBACK_MODAL, REPORT_BUTTON
from bot.ideas.blocks import VOTE_ACTION
from storage.admin import ModerationLog
from storage.feedback import AnonymousFeedbackCount
from tests.block_kit import problems
from tests.handlers.test_feedback import answer_values


def replies(fake_slack) -> list[str]:
    return [c["text"] for c in fake_slack.calls_to("response_url")]


def send_everything(ctx, clock):
    """Past the outbox's pace of one message a second per channel, and updates waiting for their post."""
    for _ in range(3):
        clock.advance(minutes=1)
        ctx.outbox.sweep()


def choose_hide(slack, menu, user):
    """Pick the only option of a message's ⋯ menu (the admins' Hide)."""
    [option] = menu["options"]
    slack.block_action(HIDE_ACTION, user=user, extra={"type": "overflow", "selected_option": option})


def audit_log(ctx):
    with ctx.session_factory() as session:
        return [(e.action, e.kind, e.number, e.admin_id) for e in session.scalars(select(ModerationLog))]


def export(what, engine, env, monkeypatch, capsys, tmp_path) -> list[dict]:
    for name, value in {**env, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["export", what]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def last_home(fake_slack, user) -> str:
    views = [c["view"] for c in fake_slack.calls_to("views.publish") if c["user_id"] == user]
    return json.dumps(views[-1], ensure_ascii=False)


def test_an_admin_hides_a_kudos_from_its_menu_and_it_leaves_every_count(
    slack, fake_slack, ctx, clock, engine, env, monkeypatch, capsys, tmp_path
):
    slack.command("/kudos", "<@UANA|ana> <@UBEN|ben> thanks for nothing, idiots")
    slack.command("/kudos", "<@UCARL|carl> thanks for the handover notes")
    send_everything(ctx, clock)
    abusive = next(p for p in fake_slack.posts_to("CKUDOS") if "idiots" in p["text"])
    menu = abusive["blocks"][0]["accessory"]
    assert menu["options"][0]["text"]["text"] == "Hide kudos #1 (admins only)"  # how admins learn its number
    fake_slack.clear()

    choose_hide(slack, menu, user="UANA")
    assert "Only Kaizen admins" in replies(fake_slack)[0]
    assert fake_slack.calls_to("chat.update") == [] and audit_log(ctx) == []

    choose_hide(slack, menu, user="UADMIN")
    send_everything(ctx, clock)

    assert replies(fake_slack)[-1].startswith(":see_no_evil: Hidden: kudos #1 from <@UGIVER> to <@UANA> and <@UBEN>")
    updates = fake_slack.calls_to("chat.update")
    assert len(updates) == 3  # the celebration and both DMs
    assert all("hidden by an admin" in u["text"] and "idiots" not in json.dumps(u.params) for u in updates)
    assert audit_log(ctx) == [("hide", "kudos", 1, "UADMIN")]
    assert "0 this week · 0 in all" in last_home(fake_slack, "UANA")

    slack.command("/kudos", "stats <@UANA|ana>")
    slack.command("/kudos", "leaderboard")
    stats, board = replies(fake_slack)[-2:]
    assert "Received: 0 this week" in stats
    assert "<@UCARL>" in board and "<@UANA>" not in board
    run_job(ctx, "weekly-celebration")
    [week] = [p for p in fake_slack.posts_to("CKUDOS") if "This week" in p["text"]]
    assert "<@UCARL>" in json.dumps(week["blocks"]) and "<@UANA>" not in json.dumps(week["blocks"])
    run_job(ctx, "lead-digest")
    assert "Kudos: *1*" in json.dumps(fake_slack.posts_to("ULEAD")[0]["blocks"])
    rows = export("kudos", engine, env, monkeypatch, capsys, tmp_path)
    assert [row["recipient"] for row in rows] == ["UCARL"]

    assert [problem for call in fake_slack.calls for problem in problems(call)] == []

    fake_slack.clear()
    slack.command("/kaizen", "hide kudos 2", user="UADMIN")  # another kudos of the same message
    assert replies(fake_slack) == ["Kudos #1 is hidden already."]


def test_an_admin_hides_an_idea_by_number_and_it_is_gone_everywhere(
    slack, fake_slack, ctx, clock, engine, env, monkeypatch, capsys, tmp_path
):
    slack.command("/idea", "Fire the night shift\nThey are all lazy", user="UANA")
    slack.command("/idea", "Pre-fill the refund form", user="UBEN")
    slack.block_action(VOTE_ACTION, "1", user="UCARL")
    send_everything(ctx, clock)
    [_, kept] = fake_slack.posts_to("CIDEAS")
    assert kept["blocks"][0]["accessory"]["options"][0]["text"]["text"] == "Hide idea #2 (admins only)"
    fake_slack.clear()

    response = slack.command("/kaizen", "hide idea 1", user="ULEAD")  # a lead is no admin
    assert "Only Kaizen admins" in response.body
    slack.command("/kaizen", "hide idea 1", user="UADMIN")
    send_everything(ctx, clock)

    assert replies(fake_slack) == [
        ":see_no_evil: Hidden: idea #1 from <@UANA>. Its messages now say it was hidden by an admin; "
        "the hide is logged."
    ]
    [update] = fake_slack.calls_to("chat.update")
    assert update["text"] == "_Idea #1 was hidden by an admin._" and "lazy" not in json.dumps(update.params)
    assert audit_log(ctx) == [("hide", "idea", 1, "UADMIN")]
    assert "No ideas yet" in last_home(fake_slack, "UANA")

    for command in ("list", "top", "status 1 planned"):
        slack.command("/idea", command, user="ULEAD")
    slack.block_action(VOTE_ACTION, "1", user="UBEN")
    listed, top, status, vote = replies(fake_slack)[1:]
    assert "#2" in listed and "#1" not in listed and "#1" not in top
    assert "There is no idea #1" in status and "There is no idea #1" in vote
    run_job(ctx, "lead-digest")
    digest = json.dumps(fake_slack.posts_to("ULEAD")[0]["blocks"])
    assert "Ideas: 1 new" in digest and "Fire the night shift" not in digest
    assert [row["number"] for row in export("ideas", engine, env, monkeypatch, capsys, tmp_path)] == ["2"]


def test_the_recipient_reports_anonymous_feedback_and_an_admin_hides_it(
    slack, fake_slack, ctx, clock, engine, env, monkeypatch, capsys, tmp_path
):
    slack.command("/feedback", "give <@UANA|ana>", user="UGIVER")
    private_metadata = fake_slack.modal()["private_metadata"]
    answer = answer_values("You are a disgrace", anonymous=True)
    slack.view_submission(FEEDBACK_MODAL, answer, user="UGIVER", private_metadata=private_metadata)
    [dm] = fake_slack.posts_to("UANA")
    [report_button] = dm["blocks"][-1]["elements"]
    assert (report_button["action_id"], report_button["value"]) == (REPORT_BUTTON, "1")
    fake_slack.clear()

    slack.block_action(REPORT_BUTTON, "1", user="UBEN")  # only the person it was sent to can
    slack.block_action(REPORT_BUTTON, "1", user="UANA", channel="DUANA")
    slack.block_action(REPORT_BUTTON, "1", user="UANA", channel="DUANA")  # once is enough
    refused, thanked, again = replies(fake_slack)
    assert "Only the person it was sent to" in refused
    assert "I told the Kaizen admin" in thanked and "already" in again
    [report] = fake_slack.posts_to("UADMIN")
    assert "<@UANA> reported feedback #1" in report["text"] and "anonymous" in report["text"]
    assert "disgrace" not in json.dumps(report.params) and "UGIVER" not in json.dumps(report.params)
    [hide_button] = report["blocks"][-1]["elements"]
    assert [problem for call in fake_slack.calls for problem in problems(call)] == []
    fake_slack.clear()

    slack.block_action(HIDE_ACTION, hide_button["value"], user="UADMIN", channel="DUADMIN")
    send_everything(ctx, clock)

    assert replies(fake_slack)[0].startswith(":see_no_evil: Hidden: feedback #1 to <@UANA> (anonymous)")
    [update] = fake_slack.calls_to("chat.update")
    assert update["text"] == "_This feedback was hidden by an admin._" and update["channel"] == "UANA"
    assert audit_log(ctx) == [("hide", "feedback", 1, "UADMIN")]
    assert export("feedback", engine, env, monkeypatch, capsys, tmp_path) == []
    run_job(ctx, "lead-digest")
    assert "*0* answered" in json.dumps(fake_slack.posts_to("ULEAD")[0]["blocks"])


def test_only_feedback_nobody_asked_for_can_be_hidden_or_reported(slack, fake_slack, ctx):
    slack.command("/feedback", "request <@UANA|ana>", user="UREQ")
    slack.block_action("feedback_answer", "1", user="UANA", channel="DUANA")
    slack.view_submission(
        FEEDBACK_MODAL, answer_values("Solid"), user="UANA", private_metadata=fake_slack.modal()["private_metadata"]
    )
    [answer] = fake_slack.posts_to("UREQ")
    assert REPORT_BUTTON not in json.dumps(answer["blocks"])
    fake_slack.clear()
    slack.command("/kaizen", "hide feedback 1", user="UADMIN")
    assert "only feedback nobody asked for can be hidden" in replies(fake_slack)[0]
    assert audit_log(ctx) == []


def test_anonymous_feedback_nobody_asked_for_is_limited_to_three_a_day_per_giver(slack, fake_slack, ctx, clock):
    def give(user, *, anonymous=True):
        return slack.view_submission(
            FEEDBACK_MODAL,
            answer_values("Keep going", anonymous=anonymous),
            user=user,
            private_metadata=json.dumps({"about": "UANA"}),
        )

    for _ in range(3):
        assert '"response_action": "update"' in give("UGIVER").body
    fourth = json.loads(give("UGIVER").body)
    assert "3 pieces of anonymous feedback today" in fourth["errors"]["anonymous"]
    assert '"response_action": "update"' in give("UGIVER", anonymous=False).body  # with a name: no limit
    assert '"response_action": "update"' in give("UBEN").body  # the limit is each person's own

    with ctx.session_factory() as session:
        counts = session.execute(select(AnonymousFeedbackCount.giver_key, AnonymousFeedbackCount.given)).all()
    assert sorted(given for _, given in counts) == [1, 3]
    assert not any("UGIVER" in key or "UBEN" in key for key, _ in counts)

    clock.advance(days=1)
    assert '"response_action": "update"' in give("UGIVER").body
    clock.advance(days=1)
    run_job(ctx, "forget-anonymous-counts")  # a day's counts are not kept past that day
    with ctx.session_factory() as session:
        assert session.scalars(select(AnonymousFeedbackCount)).all() == []


def test_admins_run_a_job_from_slack(slack, fake_slack, ctx):
    assert "Only Kaizen admins" in slack.command("/kaizen", "run-job daily-tip", user="UANA").body
    assert fake_slack.calls_to("response_url") == []

    slack.command("/kaizen", "run-job daily-tip --dry-run", user="UADMIN")
    assert fake_slack.posts_to("CTIPS") == []
    slack.command("/kaizen", "run-job daily-tip", user="UADMIN")
    slack.command("/kaizen", "run-job daily-tip", user="UADMIN")
    slack.command("/kaizen", "run-job tea-break", user="UADMIN")

    dry, ran, again, unknown = replies(fake_slack)
    assert dry.startswith("[dry run] `daily-tip` for 2026-11-18:") and "would send chat.postMessage to CTIPS" in dry
    assert ran.startswith("`daily-tip` for 2026-11-18:\n• ")
    assert len(fake_slack.posts_to("CTIPS")) == 1
    assert again == "`daily-tip` already ran for 2026-11-18. `/kaizen run-job daily-tip --force` runs it again."
    assert "Say which job" in unknown and "weekly-celebration" in unknown
    assert all(c["response_type"] == "ephemeral" for c in fake_slack.calls_to("response_url"))


def test_status_says_what_waits_and_what_slack_refused(slack, fake_slack, ctx):
    fake_slack.fail("chat.postMessage", error="not_in_channel")  # the celebration: refused for good
    fake_slack.fail("chat.postMessage", status=500)  # the DM: tried again later
    slack.command("/kudos", "<@UANA|ana> thanks for the cover")
    fake_slack.clear()

    assert "Only Kaizen admins" in slack.command("/kaizen", "status", user="ULEAD").body
    slack.command("/kaizen", "status", user="UADMIN")

    [status] = replies(fake_slack)
    waiting, refused = status.split("*Refused by Slack in the last 24 hours*")
    assert "1 message (chat.postMessage 1)" in waiting and "`500 internal_error` ×1" in waiting
    assert "`200 not_in_channel` ×1: a post in <#CKUDOS> — invite Kaizen there" in refused
    # It ends with what `kaizen doctor` finds wrong, the same lines.
    refused, checks = refused.split("*What `kaizen doctor` finds wrong*\n")
    assert checks.splitlines() == [
        "✗ the outbox: 1 message waits; Slack refused 1 message in the last day — "
        "Slack will not take those: below, why and what to do"
    ]


def test_status_describes_each_message_by_what_it_is(slack, fake_slack, ctx, clock):
    def refused(error: str, method: str, write) -> None:
        fake_slack.fail(method, error=error)
        with ctx.transaction() as session:
            write(session, ctx.now())
        clock.advance(seconds=1)

    refused("not_in_channel", "chat.postMessage", lambda s, now: post(s, "p1", channel="CKUDOS", now=now))
    refused("cannot_dm_bot", "chat.postMessage", lambda s, now: post(s, "p2", channel="UCAROL", now=now, private=True))
    group = {"users": ["UANA", "UBEN", "UCAROL"], "text": "Meet", "blocks": None}
    refused("cannot_dm_bot", "chat.postMessage", lambda s, now: post_to_group(s, "p3", now=now, **group))
    home = {"user_id": "UCAROL", "view": {"type": "home", "blocks": []}}
    refused("invalid_arguments", "views.publish", lambda s, now: enqueue(s, "p4", "views.publish", home, now))
    with ctx.transaction() as session:
        post(session, "p5", channel="CIDEAS", now=ctx.now())
    refused("cant_update_message", "chat.update", lambda s, now: update(s, "p5:edit", of="p5", now=now))
    fake_slack.fail("chat.postMessage", status=500)
    with ctx.transaction() as session:
        post(session, "p6", channel="CTIPS", now=ctx.now())
    fake_slack.clear()

    slack.command("/kaizen", "status", user="UADMIN")

    [status] = replies(fake_slack)
    waiting, refused_lines = status.split("*Refused by Slack in the last 24 hours*")
    assert "1 message (chat.postMessage 1); the first, a post in <#CTIPS>, is due in under a minute." in waiting
    refused_lines = refused_lines.split("*What `kaizen doctor` finds wrong*")[0]
    assert refused_lines.rstrip().splitlines()[1:] == [
        "• `200 cant_update_message` ×1: an update of a post in <#CIDEAS>",
        "• `200 invalid_arguments` ×1: the Home tab of <@UCAROL>",
        "• `200 cannot_dm_bot` ×1: a group DM of <@UANA>, <@UBEN> and <@UCAROL>",
        "• `200 cannot_dm_bot` ×1: a DM to <@UCAROL>",
        "• `200 not_in_channel` ×1: a post in <#CKUDOS> — invite Kaizen there: `/invite @Kaizen`",
    ]


def test_status_ends_with_every_check_of_the_doctor_that_fails(slack, fake_slack, ctx):
    fake_slack.add_channel("CTIPS", name="tips", member=False)
    fake_slack.scopes.discard("reactions:read")

    slack.command("/kaizen", "status", user="UADMIN")

    [status] = replies(fake_slack)
    assert status.endswith(
        "*What `kaizen doctor` finds wrong*\n"
        "✗ the bot token lacks the scope(s) reactions:read — "
        "reinstall the app after updating its manifest (`kaizen manifest`)\n"
        "✗ KAIZEN_TIPS_CHANNEL and KAIZEN_LESSONS_CHANNEL: Kaizen is not in #tips — "
        "invite @Kaizen to #tips (`/invite @Kaizen`)"
    )
    fake_slack.add_channel("CTIPS", name="tips")
    fake_slack.scopes.add("reactions:read")
    fake_slack.clear()
    slack.command("/kaizen", "status", user="UADMIN")
    assert replies(fake_slack)[0].endswith("*What `kaizen doctor` finds wrong*\nNothing: every check passes.")


def post(session, key: str, *, channel: str, now, private: bool = False) -> None:
    post_message(session, key, channel=channel, text="Hello", blocks=None, now=now, private=private)


def update(session, key: str, *, of: str, now) -> None:
    update_message(session, key, of=of, text="Edited", blocks=None, now=now)


def test_help_says_what_admins_can_do_and_the_manifest_has_the_command(slack, capsys):
    response = slack.command("/kaizen", "help", user="UANA")
    assert "/kaizen hide kudos|feedback|idea N" in response.body and "You are not an admin" in response.body
    assert "You are not an admin" not in slack.command("/kaizen", "", user="UADMIN").body
    main(["manifest"])
    commands = [c["command"] for c in json.loads(capsys.readouterr().out)["features"]["slash_commands"]]
    assert "/kaizen" in commands
