import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.core.jobs import run_job
from bot.goals.blocks import GOAL_MODAL, STUCK_ACTION, STUCK_MODAL
from bot.goals.rules import (
    MAX_MILESTONE_LENGTH,
    MAX_MILESTONES,
    MAX_NOTE_LENGTH,
    MAX_OPEN_GOALS,
    MAX_TITLE_LENGTH,
    MAX_WHY_LENGTH,
)
from storage.goals import Goal
from tests.block_kit import problems
from tests.bot.goals.test_jobs import click, goal_id, made_progress
from tests.handlers.test_block_kit_limits import (
    assert_within_limits,
    entities,
    section_texts,
    send_everything,
    slack_escaped,
    specials,
    typed_specials,
)

PARIS = ZoneInfo("Europe/Paris")


def replies(fake_slack):
    return [c["text"] for c in fake_slack.calls_to("response_url")]


def last_reply(slack, fake_slack, text, user="UANA"):
    fake_slack.clear()
    slack.command("/goal", text, user=user)
    [reply] = replies(fake_slack)
    return reply


def goals(ctx):
    """(owner, number, title, status, target date, shared) of every goal."""
    with ctx.session_factory() as session:
        rows = session.scalars(select(Goal).order_by(Goal.owner_id, Goal.number))
        return [(g.owner_id, g.number, g.title, g.status, str(g.target_date), g.shared) for g in rows]


def milestones(ctx, owner, number):
    with ctx.session_factory() as session:
        goal = session.scalars(select(Goal).where(Goal.owner_id == owner, Goal.number == number)).one()
        return [m.text for m in goal.milestones]


def form(title="", why="", target=None, milestones="", shared=False):
    def typed(value):
        return {"type": "plain_text_input", "value": value or None}

    return {
        "title": {"title": typed(title)},
        "why": {"why": typed(why)},
        "target_date": {"target_date": {"type": "datepicker", "selected_date": target}},
        "milestones": {"milestones": typed(milestones)},
        "share": {"share": {"type": "checkboxes", "selected_options": [{"value": "shared"}] if shared else []}},
    }


def test_add_numbers_goals_per_person(slack, fake_slack, ctx):
    reply = last_reply(slack, fake_slack, "add Handle billing disputes on my own by 2026-12-31")
    assert reply.startswith(":dart: Goal 1 is set: Handle billing disputes on my own")
    assert "by Thu 31 Dec 2026" in reply and "private: only you see it" in reply
    assert "I'll check in with you on Wednesdays at 15:00" in reply

    assert "Goal 1 is set" in last_reply(slack, fake_slack, "add Write warmer replies", user="UBEN")
    assert "Goal 2 is set" in last_reply(slack, fake_slack, "ADD   Learn the refund API <@UMAYA|maya> & co")

    assert goals(ctx) == [
        ("UANA", 1, "Handle billing disputes on my own", "open", "2026-12-31", False),
        ("UANA", 2, "Learn the refund API <@UMAYA> &amp; co", "open", "None", False),
        ("UBEN", 1, "Write warmer replies", "open", "None", False),
    ]


def test_refusals_say_why_and_store_nothing(slack, fake_slack, ctx):
    slack.command("/goal", "add Handle billing disputes", user="UANA")
    slack.command("/goal", "drop 1", user="UBEN")  # UBEN has no goal 1: UANA's is hers
    before = goals(ctx)
    cases = {
        "add": "What would you like to get better at?",
        "add    ": "What would you like to get better at?",
        "add by 2026-12-31": "What would you like to get better at?",
        "add Learn SQL by 2026-11-17": "Tue 17 Nov 2026 has passed",
        "add Learn SQL by 2026-02-30": "I can't read `2026-02-30` as a date",
        "add Learn SQL by 31/12/2026": "I can't read `31/12/2026` as a date",
        "add " + "x" * 301: "That goal has 301 characters: please keep it to 300",
        "done": "Which goal? Say its number",
        "done two": "Which goal? Say its number",
        "drop 7": "You have no goal 7",
        "done 99999999999": "You have no goal 99999999999",
    }
    for text, expected in cases.items():
        reply = last_reply(slack, fake_slack, text)
        assert expected in reply, (text, reply)
    assert "You have no goal 1" in last_reply(slack, fake_slack, "done 1", user="UBEN")
    assert goals(ctx) == before


def test_the_limits_count_what_was_typed_not_the_escaping(slack, fake_slack, ctx):
    typed = "&<>" * 100  # 300 characters; Slack sends 1,300
    escaped = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    assert "Goal 1 is set" in last_reply(slack, fake_slack, f"add {escaped}")
    assert "301 characters" in last_reply(slack, fake_slack, f"add {escaped}&amp;")
    assert [title for _, _, title, *_ in goals(ctx)] == [escaped]


def test_a_sixth_open_goal_is_refused_and_room_is_made_by_finishing_one(slack, fake_slack, ctx):
    for n in range(1, 6):
        slack.command("/goal", f"add Goal number {n}", user="UANA")

    reply = last_reply(slack, fake_slack, "add One more")

    assert "You have 5 open goals already" in reply and "• goal 3: Goal number 3" in reply
    assert "`/goal done N`" in reply and "`/goal drop N`" in reply
    assert len(goals(ctx)) == 5
    assert "Goal 2 is dropped" in last_reply(slack, fake_slack, "drop 2")
    assert "Goal 6 is set: One more" in last_reply(slack, fake_slack, "add One more")


def test_done_and_drop_keep_the_numbers(slack, fake_slack, ctx):
    for title in ("Billing disputes", "Warmer replies", "The refund API"):
        slack.command("/goal", f"add {title}", user="UANA")

    done = last_reply(slack, fake_slack, "done 1")
    dropped = last_reply(slack, fake_slack, "drop #2")
    again = last_reply(slack, fake_slack, "drop 2")
    slack.command("/goal", "add Coaching newcomers", user="UANA")

    assert done.startswith(":tada: Goal 1 is done: Billing disputes.") and "steady effort" in done
    assert dropped.startswith("Goal 2 is dropped: Warmer replies.") and "good call too" in dropped
    assert again == "Goal 2 was dropped, so it takes no more check-ins. `/goal` sets a new one."
    assert [(number, status) for _, number, _, status, *_ in goals(ctx)] == [
        (1, "done"),
        (2, "dropped"),
        (3, "open"),
        (4, "open"),
    ]
    listed = last_reply(slack, fake_slack, "list")
    assert "*3.* The refund API" in listed and "*4.* Coaching newcomers" in listed
    assert "*Finished*" in listed and "*2.* Warmer replies (dropped Wed 18 Nov)" in listed
    assert "*1.* Billing disputes (:tada: done Wed 18 Nov)" in listed
    assert "You have no goals yet" in last_reply(slack, fake_slack, "list", user="UBEN")


def test_help_and_unknown_words(slack):
    response = slack.command("/goal", "help", user="UANA")
    assert "/goal add Handle billing disputes on my own by 2026-12-31" in response.body
    assert "Wednesdays at 15:00" in response.body and "Up to 5 open goals" in response.body

    response = slack.command("/goal", "Learn <!channel> SQL", user="UANA")
    assert "I don't know `learn`" in response.body
    assert "`/goal add Learn @channel SQL`" in response.body and "<!channel>" not in response.body


def test_the_form_round_trip(slack, fake_slack, ctx):
    slack.command("/goal", "", user="UANA")

    [opened] = fake_slack.calls_to("views.open")
    view = opened["view"]
    assert view["callback_id"] == GOAL_MODAL
    assert [b["block_id"] for b in view["blocks"]] == [
        "title",
        "why",
        "target_date",
        "milestones",
        "share",
        "shared_with",
    ]
    assert problems(opened) == []

    response = slack.view_submission(
        GOAL_MODAL,
        form(
            title="De-escalate angry callers <calmly>",
            why="Half my escalations start in the first minute",
            target="2027-01-15",
            milestones="- Shadow Maya on three calls\n\n2. Try the pause-and-name technique\n• Take a call alone",
            shared=True,
        ),
        user="UANA",
    )

    body = json.loads(response.body)
    assert body["response_action"] == "update"
    shown = json.dumps(body["view"])
    assert "Goal 1 is set: De-escalate angry callers &lt;calmly&gt;" in shown
    assert "by Fri 15 Jan 2027, 3 milestones, shared with your lead" in shown
    assert goals(ctx) == [("UANA", 1, "De-escalate angry callers &lt;calmly&gt;", "open", "2027-01-15", True)]
    assert milestones(ctx, "UANA", 1) == [
        "Shadow Maya on three calls",
        "Try the pause-and-name technique",
        "Take a call alone",
    ]


def test_form_refusals_show_on_their_field_and_store_nothing(slack, ctx):
    cases = {
        "title": (form(title="   "), "What would you like to get better at?"),
        "target_date": (form(title="SQL", target="2026-11-17"), "Tue 17 Nov 2026 has passed"),
        "milestones": (form(title="SQL", milestones="\n".join(f"step {n}" for n in range(6))), "keep it to 5"),
        "why": (form(title="SQL", why="w" * 501), "That reason has 501 characters"),
    }
    for field, (values, expected) in cases.items():
        body = json.loads(slack.view_submission(GOAL_MODAL, values, user="UANA").body)
        assert body["response_action"] == "errors"
        assert list(body["errors"]) == [field]
        assert expected in body["errors"][field], (field, body)
    long_milestone = json.loads(slack.view_submission(GOAL_MODAL, form(title="SQL", milestones="m" * 76)).body)
    assert long_milestone["errors"] == {"milestones": "That milestone has 76 characters: please keep it to 75."}
    assert goals(ctx) == []


def test_a_goal_for_today_is_fine_and_a_retried_request_records_once(slack, fake_slack, ctx):
    slack.command("/goal", "add Close the backlog by 2026-11-18", user="UANA", trigger_id="t-1")
    slack.command("/goal", "add Close the backlog by 2026-11-18", user="UANA", trigger_id="t-1")

    assert len(goals(ctx)) == 1
    assert len(replies(fake_slack)) == 1


def test_the_longest_goals_fit_every_message_and_view_whole(slack, fake_slack, ctx, clock):
    slack.command("/mentor", "offer #billing", user="UMAYA")
    title, note = specials(MAX_TITLE_LENGTH), specials(MAX_NOTE_LENGTH, every=40)
    steps = "\n".join(specials(MAX_MILESTONE_LENGTH) for _ in range(MAX_MILESTONES))
    clock.set(datetime(2026, 11, 10, 10, 0, tzinfo=PARIS))  # last week: this week's check-in still comes
    for _ in range(MAX_OPEN_GOALS):
        values = form(title=title, why=specials(MAX_WHY_LENGTH), target="2027-01-15", milestones=steps, shared=True)
        slack.view_submission(GOAL_MODAL, values, user="UANA")
    for number in range(1, MAX_OPEN_GOALS + 1):
        made_progress(slack, fake_slack, goal_id(ctx, "UANA", number), "UANA", note, reached=[specials(75)])
    assert_within_limits(fake_slack)  # the last Made progress form, with its five milestones to tick
    view = click(slack, fake_slack, STUCK_ACTION, goal_id(ctx, "UANA", 1), "UANA")
    values = {
        "helper": {"helper": {"selected_option": {"value": "mentor:billing:UMAYA"}}},
        "note": {"note": {"value": note}},
    }
    slack.view_submission(STUCK_MODAL, values, user="UANA", private_metadata=view["private_metadata"])
    clock.set(datetime(2026, 11, 18, 15, 0, tzinfo=PARIS))
    run_job(ctx, "goal-checkins")
    slack.command("/goal", "list", user="UANA")
    slack.command("/goal", "help", user="UANA")
    slack.command("/goal", "add " + slack_escaped(title), user="UANA")  # the sixth: refused, listing the five
    clock.set(datetime(2026, 11, 20, 16, 0, tzinfo=PARIS))
    run_job(ctx, "weekly-celebration")
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=PARIS))
    run_job(ctx, "lead-digest")
    slack.event({"type": "app_home_opened", "user": "UANA", "tab": "home"})
    send_everything(ctx, clock)

    assert_within_limits(fake_slack)
    [checkin] = fake_slack.posts_to("UANA")
    assert section_texts(checkin).count(slack_escaped(title)) == MAX_OPEN_GOALS
    [asked] = fake_slack.posts_to("UMAYA")
    assert entities(section_texts(asked)) == entities(slack_escaped(title)) + typed_specials(note)


def test_the_form_says_whom_a_shared_goal_is_shown_to(slack, fake_slack, ctx):
    slack.command("/kaizen", "team add Tier 1 lead <@UMARIA|maria> <@ULI|li> members <@UANA|ana>", user="UADMIN")

    slack.command("/goal", "", user="UANA")
    slack.command("/goal", "", user="UBEN")  # in no team

    in_a_team, in_none = [
        call["view"]["blocks"][-1]["elements"][0]["text"] for call in fake_slack.calls_to("views.open")
    ]
    assert in_a_team == (
        "Shared, it is seen by <@ULI> and <@UMARIA> (your team's leads) and <@UADMIN> and <@ULEAD> (org-wide)."
    )
    assert in_none == "Shared, it is seen by the org-wide leads, <@UADMIN> and <@ULEAD> (you are in no team)."
