import gc
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from bot.cli import main
from bot.core.jobs import run_job
from bot.core.scheduler import add_jobs
from bot.goals.blocks import DONE_ACTION, PROGRESS_ACTION, PROGRESS_MODAL, STUCK_ACTION, STUCK_MODAL
from storage.goals import Goal, GoalProgress
from storage.models import Member
from tests.block_kit import problems

PARIS = ZoneInfo("Europe/Paris")
CHECKIN = datetime(2026, 11, 18, 15, 0, tzinfo=PARIS)  # the fixed clock's Wednesday, at KAIZEN_CHECKIN_AT


def add(slack, user, text):
    slack.command("/goal", f"add {text}", user=user)


def goal_id(ctx, owner, number):
    with ctx.session_factory() as session:
        return session.scalars(select(Goal.id).where(Goal.owner_id == owner, Goal.number == number)).one()


def stored(ctx, owner, number) -> Goal:
    with ctx.session_factory() as session:
        return session.scalars(select(Goal).where(Goal.owner_id == owner, Goal.number == number)).one()


def notes(ctx, owner, number):
    with ctx.session_factory() as session:
        query = select(GoalProgress.note).join(Goal).where(Goal.owner_id == owner, Goal.number == number)
        return list(session.scalars(query.order_by(GoalProgress.id)))


def checkins(ctx, **options):
    return run_job(ctx, "goal-checkins", CHECKIN, **options)


def click(slack, fake_slack, action, goal, user):
    """Press a check-in button in the person's DM; the modal it shows last (None if none)."""
    fake_slack.clear()
    slack.block_action(action, str(goal), user=user, channel=f"D{user}")
    return fake_slack.modal()


def ephemeral(fake_slack):
    return [c["text"] for c in fake_slack.calls_to("response_url")]


def made_progress(slack, fake_slack, goal, user, note="", reached=()):
    """*Made progress*, then the form, ticking the milestones whose text is in `reached`."""
    view = click(slack, fake_slack, PROGRESS_ACTION, goal, user)
    assert view["callback_id"] == PROGRESS_MODAL, view
    options = next((b["element"]["options"] for b in view["blocks"] if b.get("block_id") == "reached"), [])
    ticked = [{"value": o["value"]} for o in options if o["text"]["text"] in reached]
    values = {"note": {"note": {"value": note or None}}, "reached": {"reached": {"selected_options": ticked}}}
    response = slack.view_submission(PROGRESS_MODAL, values, user=user, private_metadata=view["private_metadata"])
    return json.loads(response.body) if response.body else {}


def buttons(section_and_actions):
    return [(e["action_id"], e["value"], e["text"]["text"]) for e in section_and_actions["elements"]]


def test_one_dm_per_person_with_a_section_and_buttons_per_goal(slack, fake_slack, ctx, clock):
    add(slack, "UANA", "Handle billing disputes on my own by 2026-12-31")
    add(slack, "UANA", "Write warmer replies")
    add(slack, "UBEN", "Learn the refund API")
    add(slack, "UCAL", "Finished already")
    slack.command("/goal", "done 1", user="UCAL")
    clock.set(CHECKIN)
    fake_slack.clear()

    report = checkins(ctx)

    assert report.period == "2026-W47"
    assert report.lines == [
        "check-in to UANA (2 open goals)",
        "check-in to UBEN (1 open goal)",
        "2 check-ins sent; 0 people skipped (progress already logged on every goal this week)",
    ]
    [dm] = fake_slack.posts_to("UANA")
    assert dm["text"] == ":seedling: Check-in time: how are your 2 growth goals going?"
    sections = [b["text"]["text"] for b in dm["blocks"] if b["type"] == "section"]
    assert sections[1].startswith("*Goal 1:* Handle billing disputes on my own\nby Thu 31 Dec 2026 · 0 check-ins")
    assert "No progress logged yet." in sections[1]
    assert sections[2].startswith("*Goal 2:* Write warmer replies")
    actions = [b for b in dm["blocks"] if b["type"] == "actions"]
    first, second = goal_id(ctx, "UANA", 1), goal_id(ctx, "UANA", 2)
    assert [buttons(a) for a in actions] == [
        [
            (PROGRESS_ACTION, str(goal), "Made progress"),
            (STUCK_ACTION, str(goal), "Stuck"),
            (DONE_ACTION, str(goal), "Done"),
        ]
        for goal in (first, second)
    ]
    assert len(fake_slack.posts_to("UBEN")) == 1 and fake_slack.posts_to("UCAL") == []
    assert problems(dm) == []


def test_the_job_runs_once_a_week_and_again_when_forced(slack, fake_slack, ctx, clock):
    add(slack, "UANA", "Write warmer replies")
    clock.set(CHECKIN)
    fake_slack.clear()

    assert checkins(ctx).ran
    assert not checkins(ctx).ran
    assert not run_job(ctx, "goal-checkins", CHECKIN + timedelta(days=3)).ran  # Saturday: the same ISO week
    assert len(fake_slack.posts_to("UANA")) == 1

    clock.advance(minutes=1)
    forced = checkins(ctx, force=True)
    clock.advance(weeks=1)
    next_week = run_job(ctx, "goal-checkins", CHECKIN + timedelta(weeks=1))

    assert forced.ran and next_week.period == "2026-W48"
    assert len(fake_slack.posts_to("UANA")) == 3


def test_the_cli_runs_it(slack, fake_slack, ctx, engine, env, monkeypatch, capsys, tmp_path):
    add(slack, "UANA", "Write warmer replies")
    for name, value in {**env, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    assert main(["jobs", "run", "goal-checkins"]) == 0

    assert "check-in to UANA (1 open goal)" in capsys.readouterr().out
    assert len(fake_slack.posts_to("UANA")) == 1
    assert gc.get_freeze_count() > 0  # what start-up built is left out of full collections (bot.cli)


def test_it_is_scheduled_at_kaizen_checkin_at(env, engine, request):
    env["KAIZEN_CHECKIN_AT"] = "thu 11:30"
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, request.getfixturevalue("ctx"))
    trigger = scheduler.get_job("goal-checkins").trigger
    assert trigger.get_next_fire_time(None, CHECKIN) == datetime(2026, 11, 19, 11, 30, tzinfo=PARIS)


def test_nobody_who_logged_progress_on_every_goal_this_week_gets_one(slack, fake_slack, ctx, clock):
    add(slack, "UANA", "Handle billing disputes")
    add(slack, "UANA", "Write warmer replies")
    clock.set(CHECKIN - timedelta(days=7))  # last week's progress does not count for this week
    made_progress(slack, fake_slack, goal_id(ctx, "UANA", 2), "UANA", "Rewrote two macros")
    clock.set(CHECKIN - timedelta(days=2))  # Monday
    made_progress(slack, fake_slack, goal_id(ctx, "UANA", 1), "UANA", "Took a dispute with Maya")
    clock.set(CHECKIN)
    fake_slack.clear()

    checkins(ctx)

    [dm] = fake_slack.posts_to("UANA")
    shown = [b["text"]["text"] for b in dm["blocks"] if b["type"] == "section"]
    assert "Progress logged this week." in shown[1] and "Took a dispute with Maya" in shown[1]
    assert "Progress logged this week." not in shown[2] and "Last progress Wed 11 Nov: Rewrote two macros" in shown[2]

    clock.set(CHECKIN + timedelta(days=1))
    made_progress(slack, fake_slack, goal_id(ctx, "UANA", 2), "UANA", "A warmer apology template")
    fake_slack.clear()
    report = run_job(ctx, "goal-checkins", CHECKIN + timedelta(days=1), force=True)

    assert fake_slack.posts_to("UANA") == []
    assert report.lines == ["0 check-ins sent; 1 person skipped (progress already logged on every goal this week)"]


def test_made_progress_logs_a_note_and_ticks_milestones(slack, fake_slack, ctx, clock):
    slack.view_submission(
        "goal_modal",
        {
            "title": {"title": {"value": "De-escalate angry callers"}},
            "why": {"why": {"value": None}},
            "target_date": {"target_date": {"selected_date": None}},
            "milestones": {"milestones": {"value": "Shadow Maya\nTry the pause\nTake a call alone"}},
            "share": {"share": {"selected_options": []}},
        },
        user="UANA",
    )
    goal = goal_id(ctx, "UANA", 1)

    view = click(slack, fake_slack, PROGRESS_ACTION, goal, "UANA")

    [opened] = fake_slack.calls_to("views.open")
    assert "One moment" in json.dumps(opened["view"])  # open at once, filled in after
    assert view["callback_id"] == PROGRESS_MODAL and view["private_metadata"] == str(goal)
    [reached] = [b for b in view["blocks"] if b.get("block_id") == "reached"]
    assert [o["text"]["text"] for o in reached["element"]["options"]] == [
        "Shadow Maya",
        "Try the pause",
        "Take a call alone",
    ]

    clock.advance(minutes=1)  # past the gap since setting the goal republished the Home tab
    answer = made_progress(slack, fake_slack, goal, "UANA", "Listened in on <three> calls", reached=["Shadow Maya"])

    shown = json.dumps(answer["view"])
    assert "that's 1 check-in with progress on goal 1" in shown and "Milestone reached: Shadow Maya" in shown
    assert notes(ctx, "UANA", 1) == ["Listened in on &lt;three&gt; calls"]
    assert [bool(m.reached_at) for m in stored(ctx, "UANA", 1).milestones] == [True, False, False]
    [publish] = [c for c in fake_slack.calls_to("views.publish") if c["user_id"] == "UANA"]
    assert "Listened in on &lt;three&gt; calls" in json.dumps(publish["view"])

    # The next form offers only the milestones still ahead; ticking them all suggests Done.
    answer = made_progress(slack, fake_slack, goal, "UANA", reached=["Try the pause", "Take a call alone"])
    assert "Every milestone is reached" in json.dumps(answer["view"])
    assert notes(ctx, "UANA", 1) == ["Listened in on &lt;three&gt; calls", ""]


def test_progress_needs_a_note_or_a_milestone_and_only_the_owner_logs_it(slack, fake_slack, ctx):
    add(slack, "UANA", "Write warmer replies")
    goal = goal_id(ctx, "UANA", 1)
    view = click(slack, fake_slack, PROGRESS_ACTION, goal, "UANA")
    metadata = view["private_metadata"]

    empty = slack.view_submission(
        PROGRESS_MODAL, {"note": {"note": {"value": "  "}}}, user="UANA", private_metadata=metadata
    )
    someone_else = slack.view_submission(
        PROGRESS_MODAL, {"note": {"note": {"value": "Mine now"}}}, user="UBEN", private_metadata=metadata
    )

    assert json.loads(empty.body)["errors"] == {
        "note": "Write a line about what you did or tried, or tick a milestone."
    }
    assert json.loads(someone_else.body)["errors"] == {
        "note": "That's someone else's goal: only the person who set it can check in on it."
    }
    assert notes(ctx, "UANA", 1) == []
    refused = click(slack, fake_slack, PROGRESS_ACTION, goal, "UBEN")
    assert "That's someone else's goal" in json.dumps(refused)


def test_done_from_the_dm_and_buttons_on_a_closed_goal_refuse(slack, fake_slack, ctx):
    add(slack, "UANA", "Write warmer replies")
    add(slack, "UANA", "Learn the refund API")
    first, second = goal_id(ctx, "UANA", 1), goal_id(ctx, "UANA", 2)
    made_progress(slack, fake_slack, first, "UANA", "Rewrote the apology macro")

    click(slack, fake_slack, DONE_ACTION, first, "UANA")

    [reply] = ephemeral(fake_slack)
    assert reply.startswith(":tada: Goal 1 is done: Write warmer replies. 1 check-in with progress along the way.")
    assert fake_slack.calls_to("response_url")[0]["response_type"] == "ephemeral"
    assert stored(ctx, "UANA", 1).status == "done"

    click(slack, fake_slack, DONE_ACTION, first, "UANA")
    assert ephemeral(fake_slack) == ["Goal 1 is done already :tada: so it needs no more check-ins."]
    assert "Goal 1 is done already" in json.dumps(click(slack, fake_slack, PROGRESS_ACTION, first, "UANA"))
    slack.command("/goal", "drop 2", user="UANA")
    assert "Goal 2 was dropped" in json.dumps(click(slack, fake_slack, STUCK_ACTION, second, "UANA"))
    click(slack, fake_slack, DONE_ACTION, second, "UANA")
    assert ephemeral(fake_slack) == ["Goal 2 was dropped, so it takes no more check-ins. `/goal` sets a new one."]
    assert stored(ctx, "UANA", 2).status == "dropped" and notes(ctx, "UANA", 1) == ["Rewrote the apology macro"]


def test_nobody_can_finish_someone_elses_goal(slack, fake_slack, ctx):
    add(slack, "UANA", "Write warmer replies")

    click(slack, fake_slack, DONE_ACTION, goal_id(ctx, "UANA", 1), "UBEN")

    assert ephemeral(fake_slack) == ["That's someone else's goal: only the person who set it can check in on it."]
    assert stored(ctx, "UANA", 1).status == "open"
    click(slack, fake_slack, DONE_ACTION, 12345, "UANA")
    assert ephemeral(fake_slack) == ["I can't find that goal any more."]


def stuck(slack, fake_slack, goal, user, choice, note=""):
    view = click(slack, fake_slack, STUCK_ACTION, goal, user)
    values = {"helper": {"helper": {"selected_option": {"value": choice}}}, "note": {"note": {"value": note or None}}}
    return slack.view_submission(STUCK_MODAL, values, user=user, private_metadata=view["private_metadata"])


def test_stuck_asks_a_mentor_or_the_lead_only_when_the_person_says_yes(slack, fake_slack, ctx, clock):
    fake_slack.add_user("ULEAD", "Lee")
    fake_slack.add_user("UMAYA", "Maya")
    slack.command("/mentor", "offer #billing", user="UMAYA")
    slack.command("/mentor", "offer #coaching", user="UANA")  # nobody is asked to help themselves
    add(slack, "UANA", "Handle billing disputes on my own")
    goal = goal_id(ctx, "UANA", 1)

    view = click(slack, fake_slack, STUCK_ACTION, goal, "UANA")

    assert view["callback_id"] == STUCK_MODAL and view["close"]["text"] == "Not now"
    assert "Close this, and nobody hears a thing" in json.dumps(view)
    [menu] = [b["element"] for b in view["blocks"] if b.get("block_id") == "helper"]
    assert [(o["value"], o["text"]["text"]) for o in menu["options"]] == [
        ("lead:ULEAD", "My lead: Lee"),
        ("mentor:billing:UMAYA", "A mentor in #billing: Maya"),
    ]
    # Opening the form, or closing it, tells nobody anything.
    assert fake_slack.calls_to("chat.postMessage") == []

    clock.advance(minutes=1)
    answer = json.loads(
        stuck(slack, fake_slack, goal, "UANA", "mentor:billing:UMAYA", "I freeze when <they> shout").body
    )

    assert "I've asked <@UMAYA> by DM" in json.dumps(answer["view"])
    [dm] = fake_slack.posts_to("UMAYA")
    shown = json.dumps(dm["blocks"])
    assert dm["text"] == ":raised_hand: <@UANA> is stuck on a growth goal and asked me to ask you for help"
    assert "because you offer #billing as a mentor" in shown and "Handle billing disputes on my own" in shown
    assert "I freeze when &lt;they&gt; shout" in shown
    assert fake_slack.posts_to("ULEAD") == []

    clock.advance(minutes=1)
    stuck(slack, fake_slack, goal, "UANA", "lead:ULEAD")
    [dm] = fake_slack.posts_to("ULEAD")
    assert "as their lead" in json.dumps(dm["blocks"]) and fake_slack.posts_to("UMAYA") == []


def test_stuck_offers_the_persons_team_leads_first(slack, fake_slack, ctx):
    fake_slack.add_user("ULEAD", "Lee")
    fake_slack.add_user("UMARIA", "Maria")
    slack.command("/kaizen", "team add Tier 1 lead <@UMARIA|maria> members <@UANA|ana>", user="UADMIN")
    slack.command("/kaizen", "team add Tier 2 lead <@ULI|li> members <@UBEN|ben>", user="UADMIN")
    add(slack, "UANA", "Handle billing disputes on my own")

    view = click(slack, fake_slack, STUCK_ACTION, goal_id(ctx, "UANA", 1), "UANA")

    [menu] = [b["element"] for b in view["blocks"] if b.get("block_id") == "helper"]
    assert [(o["value"], o["text"]["text"]) for o in menu["options"]] == [
        ("lead:UMARIA", "My lead: Maria"),
        ("lead:ULEAD", "My lead: Lee"),  # the org-wide lead, after; never another team's (ULI)
    ]


def test_stuck_refuses_a_helper_who_is_no_longer_there(slack, fake_slack, ctx):
    slack.command("/mentor", "offer #billing", user="UMAYA")
    add(slack, "UANA", "Handle billing disputes on my own")
    goal = goal_id(ctx, "UANA", 1)
    view = click(slack, fake_slack, STUCK_ACTION, goal, "UANA")
    slack.command("/mentor", "stop", user="UMAYA")
    fake_slack.clear()

    values = {"helper": {"helper": {"selected_option": {"value": "mentor:billing:UMAYA"}}}, "note": {"note": {}}}
    response = slack.view_submission(STUCK_MODAL, values, user="UANA", private_metadata=view["private_metadata"])

    assert json.loads(response.body)["errors"] == {
        "helper": "That person can't be asked any more: please pick someone else."
    }
    assert fake_slack.calls_to("chat.postMessage") == []


def test_stuck_never_offers_or_asks_a_deactivated_mentor(slack, fake_slack, ctx):
    slack.command("/mentor", "offer #billing", user="UZGONE")
    slack.command("/mentor", "offer #billing", user="UMAYA")
    add(slack, "UANA", "Handle billing disputes on my own")  # goal 1: of the two mentors, it would ask the second
    goal = goal_id(ctx, "UANA", 1)
    with ctx.session_factory.begin() as session:  # the member directory learnt UZGONE was deactivated
        session.add(Member(user_id="UZGONE", deleted=True, first_seen_at=ctx.now()))

    view = click(slack, fake_slack, STUCK_ACTION, goal, "UANA")
    [menu] = [b["element"] for b in view["blocks"] if b.get("block_id") == "helper"]
    assert [o["value"] for o in menu["options"]] == ["lead:ULEAD", "mentor:billing:UMAYA"]

    response = stuck(slack, fake_slack, goal, "UANA", "mentor:billing:UZGONE")  # a form opened before
    assert json.loads(response.body)["errors"] == {
        "helper": "That person can't be asked any more: please pick someone else."
    }
    assert fake_slack.posts_to("UZGONE") == []


def test_stuck_with_nobody_to_ask_says_so(env, engine, fake_slack, request):
    env["KAIZEN_LEADS"] = ""
    slack, ctx = request.getfixturevalue("slack"), request.getfixturevalue("ctx")
    add(slack, "UANA", "Handle billing disputes on my own")

    view = click(slack, fake_slack, STUCK_ACTION, goal_id(ctx, "UANA", 1), "UANA")

    assert "There's nobody I can ask for you yet" in json.dumps(view)
