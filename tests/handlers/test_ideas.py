import json
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.features import tables
from storage.ideas import Idea, IdeaStatusChange, IdeaVote
from storage.models import OutboxMessage


def ideas(ctx):
    with ctx.session_factory() as session:
        return session.scalars(select(Idea).order_by(Idea.id)).all()


def changes(ctx):
    with ctx.session_factory() as session:
        return session.scalars(select(IdeaStatusChange).order_by(IdeaStatusChange.id)).all()


def votes(ctx, idea_id=1):
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).where(IdeaVote.idea_id == idea_id))


def ephemeral_replies(fake_slack):
    return [c["text"] for c in fake_slack.calls_to("response_url")]


def submitted_via_modal(slack, *, title="Shared macro library", user="UAUTHOR", anonymous=False, **fields):
    values = {
        "title": {"title": {"type": "plain_text_input", "value": title}},
        "description": {"description": {"type": "plain_text_input", "value": fields.get("description")}},
        "category": {"category": {"type": "static_select", "selected_option": fields.get("category")}},
        "anonymous": {
            "anonymous": {"type": "checkboxes", "selected_options": [{"value": "anonymous"}] if anonymous else []}
        },
    }
    return slack.view_submission("idea_modal", values, user=user)


def press_lead_actions(slack, idea_id, *, user="ULEAD"):
    return slack.block_action("idea_lead_actions", str(idea_id), user=user, channel="CIDEAS")


def choose_status(slack, idea_id, status, *, user="ULEAD"):
    """A lead's move through the post: *Lead actions*, then the panel's button (`status`, or `merge`)."""
    press_lead_actions(slack, idea_id, user=user)
    panel = {"id": "VPANEL", "type": "modal", "callback_id": "idea_lead_modal"}
    return slack.block_action(f"idea_move:{status}", f"{idea_id}:{status}", user=user, view=panel)


def print_blocks(*blocks) -> None:
    """Messages and views as a whole, to read as a person would (`pytest -s`)."""
    print(json.dumps(blocks, indent=1, ensure_ascii=False))


def actions_of(blocks):
    [actions] = [b for b in blocks if b["type"] == "actions"]
    return {e["action_id"]: e for e in actions["elements"]}


# --- submitting --------------------------------------------------------------------------
def test_idea_from_command_is_stored_posted_with_its_number_and_confirmed(slack, fake_slack, ctx):
    slack.command(
        "/idea", "Pre-fill the refund form from the order page\nSaves a minute per refund <!here>", user="UANA"
    )

    [idea] = ideas(ctx)
    assert (idea.title, idea.author_id, idea.status) == ("Pre-fill the refund form from the order page", "UANA", "new")
    assert idea.description == "Saves a minute per refund @here"
    [post] = fake_slack.posts_to("CIDEAS")
    assert post["text"] == "Idea #1: Pre-fill the refund form from the order page — New, 0 votes"
    sent = json.dumps(post["blocks"])
    assert "Saves a minute per refund @here" in sent and "<@UANA>" in sent and "<!here>" not in sent
    controls = actions_of(post["blocks"])
    assert controls["idea_vote"]["value"] == "1" and controls["idea_vote"]["text"]["text"] == ":thumbsup: Upvote (0)"
    lead = controls["idea_lead_actions"]
    assert lead["value"] == "1" and lead["text"]["text"] == "Lead actions"
    assert list(controls) == ["idea_vote", "idea_lead_actions"]  # the lead's moves are behind *Lead actions*
    [facts] = [b["elements"][0]["text"] for b in post["blocks"] if b["type"] == "context"]
    assert facts == ":seedling: *New*  ·  from <@UANA>"  # the vote count shows once: on Upvote
    print_blocks(post["text"], post["blocks"])
    [reply] = ephemeral_replies(fake_slack)
    assert "Your idea is number *#1*" in reply and "<#CIDEAS>" in reply
    with ctx.session_factory() as session:
        keys = session.scalars(select(OutboxMessage.key).where(OutboxMessage.method != "views.publish")).all()
    assert keys == ["idea:1:post"]


def test_words_of_subcommands_start_an_idea_when_not_in_their_shape(slack, ctx):
    slack.command("/idea", "Status page for outages")
    slack.command("/idea", "List macros by team in the sidebar")
    assert [i.title for i in ideas(ctx)] == ["Status page for outages", "List macros by team in the sidebar"]


def test_no_text_opens_the_modal_and_submission_records_with_category(slack, fake_slack, ctx, settings):
    slack.command("/idea", "", trigger_id="trigger-idea-modal")
    [opened] = fake_slack.calls_to("views.open")
    assert opened["trigger_id"] == "trigger-idea-modal"
    view = opened["view"]
    assert view["callback_id"] == "idea_modal"
    assert [b["block_id"] for b in view["blocks"]] == ["title", "description", "category", "anonymous"]
    assert [o["value"] for o in view["blocks"][2]["element"]["options"]] == list(settings.idea_categories)

    response = submitted_via_modal(
        slack, title="Macro <b>library</b>", description="One place for macros", category={"value": "tooling"}
    )

    assert '"response_action": "update"' in response.body and "#1" in response.body
    [idea] = ideas(ctx)
    assert (idea.title, idea.description, idea.category, idea.author_id) == (
        "Macro &lt;b&gt;library&lt;/b&gt;",
        "One place for macros",
        "tooling",
        "UAUTHOR",
    )
    [post] = fake_slack.posts_to("CIDEAS")
    assert "`tooling`" in json.dumps(post["blocks"])


def test_bad_submissions_are_answered_and_store_nothing(slack, fake_slack, ctx):
    slack.command("/idea", "x" * 151)
    assert "151 characters; please keep it to 150" in ephemeral_replies(fake_slack)[0]

    response = submitted_via_modal(slack, title="   ")
    assert '"response_action": "errors"' in response.body and "Give your idea a title" in response.body
    response = submitted_via_modal(slack, title="Fine", category={"value": "astrology"})
    assert '"category"' in response.body

    assert ideas(ctx) == []
    assert fake_slack.calls_to("chat.postMessage") == []


def test_slack_retry_of_the_same_command_records_once(slack, fake_slack, ctx):
    slack.command("/idea", "Shorter hold music", trigger_id="trigger-retried")
    slack.command("/idea", "Shorter hold music", trigger_id="trigger-retried", headers={"x-slack-retry-num": "1"})
    assert len(ideas(ctx)) == 1
    assert len(fake_slack.posts_to("CIDEAS")) == 1


def test_help_and_usage(slack, fake_slack):
    slack.command("/idea", "help")
    slack.command("/idea", "status")
    help_text, usage = ephemeral_replies(fake_slack)
    assert "/idea list [status]" in help_text and "knowledge-base" in help_text
    assert "*Lead actions* on an idea's post — leads: the same moves and merge, from a panel" in help_text
    assert "⋯" not in help_text
    assert "Only leads can change" in usage  # a member asking is told who can, first


@pytest.fixture
def no_ideas_channel(env):
    env.pop("KAIZEN_IDEAS_CHANNEL")


def test_without_an_ideas_channel_the_idea_is_kept_and_still_moves_on(no_ideas_channel, slack, fake_slack, ctx):
    slack.command("/idea", "Quiet hours for deep work", user="UANA")
    slack.command("/idea", "status 1 planned", user="ULEAD")
    assert [i.status for i in ideas(ctx)] == ["planned"]
    assert fake_slack.calls_to("chat.update") == []
    assert "not posted" in ephemeral_replies(fake_slack)[0]


# --- votes -------------------------------------------------------------------------------
def test_vote_then_press_again_withdraws_and_the_message_follows(slack, fake_slack, ctx):
    slack.command("/idea", "Shared glossary", user="UANA")
    [post] = fake_slack.posts_to("CIDEAS")
    fake_slack.clear()

    slack.block_action("idea_vote", "1", user="UBEN", channel="CIDEAS")
    assert votes(ctx) == 1
    [update] = fake_slack.calls_to("chat.update")
    assert (update["channel"], update["ts"]) == ("CIDEAS", "1700000001.000100")
    assert update["text"].endswith("New, 1 vote")
    assert "Upvote (1)" in json.dumps(update["blocks"])
    assert "You voted for idea #1 (1 vote now)" in ephemeral_replies(fake_slack)[0]

    slack.block_action("idea_vote", "1", user="UBEN", channel="CIDEAS")
    assert votes(ctx) == 0
    assert fake_slack.calls_to("chat.update")[-1]["text"].endswith("New, 0 votes")
    assert "withdrawn" in ephemeral_replies(fake_slack)[1]
    assert post["channel"] == "CIDEAS"


def test_a_vote_republishes_the_authors_home(slack, fake_slack, clock):
    slack.command("/idea", "Shared glossary", user="UANA")
    clock.advance(seconds=10)
    fake_slack.clear()

    slack.block_action("idea_vote", "1", user="UBEN", channel="CIDEAS")

    [publish] = [c for c in fake_slack.calls_to("views.publish") if c["user_id"] == "UANA"]
    assert "Shared glossary — New · 1 vote" in json.dumps(publish["view"], ensure_ascii=False)
    assert not [c for c in fake_slack.calls_to("views.publish") if c["user_id"] == "UBEN"]


def test_a_vote_for_an_unknown_idea_is_answered(slack, fake_slack, ctx):
    slack.block_action("idea_vote", "99")
    assert "There is no idea #99" in ephemeral_replies(fake_slack)[0]


def test_one_vote_per_person_per_idea_is_a_database_rule(slack, ctx, clock):
    slack.command("/idea", "Shared glossary")
    with pytest.raises(IntegrityError), ctx.session_factory.begin() as session:
        session.add_all([IdeaVote(idea_id=1, voter_id="UBEN", created_at=clock()) for _ in range(2)])


def test_twenty_people_voting_at_the_same_moment_give_twenty(slack, fake_slack, ctx):
    slack.command("/idea", "Shared glossary", user="UANA")
    voters = [f"UVOTER{n:02d}" for n in range(20)]
    barrier = threading.Barrier(len(voters))
    statuses = []

    def press(user):
        barrier.wait()
        statuses.append(slack.block_action("idea_vote", "1", user=user, channel="CIDEAS").status)

    threads = [threading.Thread(target=press, args=(user,)) for user in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 20
    assert votes(ctx) == 20
    with ctx.session_factory() as session:
        last_update = session.scalars(
            select(OutboxMessage).where(OutboxMessage.method == "chat.update").order_by(OutboxMessage.id.desc())
        ).first()
    assert last_update.payload["text"].endswith("20 votes")
    assert len(ephemeral_replies(fake_slack)) == 21


# --- status workflow ---------------------------------------------------------------------
def test_lead_moves_an_idea_by_command_history_message_and_author_dm_follow(slack, fake_slack, ctx, clock):
    slack.command("/idea", "Callback slots", user="UANA")
    fake_slack.clear()
    clock.advance(hours=1)

    slack.command("/idea", "status 1 planned for the Q1 roadmap <!channel>", user="ULEAD")

    [idea] = ideas(ctx)
    assert idea.status == "planned"
    [change] = changes(ctx)
    assert (change.changed_by, change.from_status, change.to_status, change.note, change.changed_at) == (
        "ULEAD",
        "new",
        "planned",
        "for the Q1 roadmap @channel",
        clock(),
    )
    [update] = fake_slack.calls_to("chat.update")
    assert update["text"].endswith("Planned, 0 votes")
    assert "for the Q1 roadmap @channel" in json.dumps(update["blocks"])
    [dm] = fake_slack.posts_to("UANA")
    assert "is now *Planned*" in json.dumps(dm["blocks"]) and "for the Q1 roadmap" in dm["text"]
    assert "Idea #1 is now" in ephemeral_replies(fake_slack)[0]

    slack.command("/idea", "status #1 in_progress", user="UADMIN")  # admins too; `#` and `_` are forgiven
    assert [c.to_status for c in changes(ctx)] == ["planned", "in-progress"]


def test_a_member_cannot_change_the_status(slack, fake_slack, ctx):
    slack.command("/idea", "Callback slots", user="UANA")
    fake_slack.clear()

    slack.command("/idea", "status 1 implemented", user="UANA")
    press_lead_actions(slack, 1, user="UANA")
    panel = {"id": "VFORGED", "type": "modal"}  # a click on a panel a member never got
    slack.block_action("idea_move:planned", "1:planned", user="UANA", view=panel)
    slack.block_action("idea_move:declined", "1:declined", user="UANA", view=panel)

    command, lead_actions = ephemeral_replies(fake_slack)
    assert "Only leads can change an idea's status" in command
    assert lead_actions == (
        "*Lead actions* are for the team's leads: they move ideas on and merge duplicates. "
        "You can vote for the idea, or tell a lead why it matters to you."
    )
    updates = [json.dumps(c["view"]) for c in fake_slack.calls_to("views.update")]
    assert len(updates) == 2 and all("Only leads can change an idea's status" in u for u in updates)
    assert [i.status for i in ideas(ctx)] == ["new"]
    assert changes(ctx) == []
    assert fake_slack.calls_to("chat.update") == [] and fake_slack.calls_to("views.open") == []


def test_lead_actions_open_a_panel_with_every_move_and_merge(slack, fake_slack, ctx):
    slack.command("/idea", "Callback slots", user="UANA")
    slack.block_action("idea_vote", "1", user="UBEN", channel="CIDEAS")
    fake_slack.clear()

    press_lead_actions(slack, 1)

    [waiting] = fake_slack.calls_to("views.open")
    assert "One moment" in json.dumps(waiting["view"])
    panel = fake_slack.modal()
    assert panel["callback_id"] == "idea_lead_modal" and panel["title"]["text"] == "Lead actions"
    assert panel["blocks"][0]["text"]["text"] == (
        "*Idea #1: Callback slots*\nNow :seedling: *New*  ·  1 vote  ·  from <@UANA>"
    )
    buttons = [e for b in panel["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(e["text"]["text"], e["value"]) for e in buttons] == [
        (":mag: Under review", "1:under-review"),
        (":spiral_calendar_pad: Planned", "1:planned"),
        (":hammer_and_wrench: In progress", "1:in-progress"),
        (":white_check_mark: Implemented…", "1:implemented"),
        (":no_entry_sign: Declined…", "1:declined"),
        ("Merge into…", "1:merge"),
    ]
    assert ephemeral_replies(fake_slack) == []
    print_blocks(panel)

    # Posts made before *Lead actions* have a ⋯ status menu: it opens the same panel.
    fake_slack.clear()
    old_menu = {"type": "overflow", "selected_option": {"value": "1:planned"}}
    slack.block_action("idea_status", user="UADMIN", channel="CIDEAS", extra=old_menu)
    assert fake_slack.modal()["callback_id"] == "idea_lead_modal" and changes(ctx) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status 1 shipped", "I don't know the status `shipped`"),
        ("status 7 planned", "There is no idea #7"),
        ("status 99999999999 planned", "There is no idea #99999999999"),
        ("status 1 declined", "Please say why it is declined"),
        ("status 1 new", "already New"),
        ("status 1", "Say which idea and which status"),
        ("list someday", "I don't know the status `someday`"),
    ],
)
def test_bad_status_commands_are_answered_and_change_nothing(slack, fake_slack, ctx, text, expected):
    slack.command("/idea", "Callback slots", user="UANA")
    fake_slack.clear()
    slack.command("/idea", text, user="ULEAD")
    [reply] = ephemeral_replies(fake_slack)
    assert expected in reply
    assert [i.status for i in ideas(ctx)] == ["new"]
    assert changes(ctx) == []
    assert fake_slack.calls_to("chat.update") == [] and fake_slack.calls_to("chat.postMessage") == []


def test_lead_moves_an_idea_from_the_menu_and_can_reopen_it(slack, fake_slack, ctx, clock):
    slack.command("/idea", "Callback slots", user="UANA")
    fake_slack.clear()

    slack.command("/idea", "status 1 implemented", user="ULEAD")  # the menu asks for its impact: see tests/bot/ideas
    choose_status(slack, 1, "under-review")  # reopened: any move is allowed, and kept in the history

    assert [(c.from_status, c.to_status) for c in changes(ctx)] == [
        ("new", "implemented"),
        ("implemented", "under-review"),
    ]
    assert fake_slack.calls_to("chat.update")[-1]["text"].endswith("Under review, 0 votes")
    clock.advance(seconds=2)  # the outbox sends one message a second per channel
    ctx.outbox.sweep()
    assert [dm["text"] for dm in fake_slack.posts_to("UANA")] == [
        "Your idea #1 is now Implemented.",
        "Your idea #1 is now Under review.",
    ]
    assert fake_slack.modal()["blocks"][0]["text"]["text"] == "Idea #1 is now :mag: *Under review*."
    assert fake_slack.calls_to("views.update")[-1]["view_id"] == "VPANEL"  # in the panel's place


def test_declining_from_the_menu_asks_for_a_reason(slack, fake_slack, ctx):
    slack.command("/idea", "Callback slots", user="UANA")
    fake_slack.clear()

    choose_status(slack, 1, "declined")

    form = fake_slack.modal()  # in the panel's place
    assert form["callback_id"] == "idea_decline_modal"
    assert changes(ctx) == []
    metadata = form["private_metadata"]

    response = slack.view_submission(
        "idea_decline_modal", {"reason": {"reason": {"value": "  "}}}, user="ULEAD", private_metadata=metadata
    )
    assert '"response_action": "errors"' in response.body and "say why" in response.body
    assert changes(ctx) == []

    reason = "Our phone system can't <schedule> calls yet"
    slack.view_submission(
        "idea_decline_modal", {"reason": {"reason": {"value": reason}}}, user="ULEAD", private_metadata=metadata
    )
    [change] = changes(ctx)
    assert (change.to_status, change.note) == ("declined", "Our phone system can't &lt;schedule&gt; calls yet")
    assert [i.status for i in ideas(ctx)] == ["declined"]
    [dm] = fake_slack.posts_to("UANA")
    assert "&lt;schedule&gt;" in dm["text"]
    assert "Declined" in fake_slack.calls_to("chat.update")[-1]["text"]


# --- lists -------------------------------------------------------------------------------
def test_list_and_top(slack, fake_slack, ctx):
    for title in ("Glossary", "Callback slots", "Macro library", "Quiet hours"):
        slack.command("/idea", title, user="UANA")
    for voter in ("UB", "UC", "UD"):
        slack.block_action("idea_vote", "3", user=voter)  # Macro library
    slack.block_action("idea_vote", "2", user="UB")
    for voter in ("UB", "UC", "UD", "UE"):
        slack.block_action("idea_vote", "4", user=voter)  # Quiet hours, soon implemented
    slack.command("/idea", "status 4 implemented", user="ULEAD")
    slack.command("/idea", "status 2 planned", user="ULEAD")
    fake_slack.clear()

    slack.command("/idea", "list")
    slack.command("/idea", "list planned")
    slack.command("/idea", "top")
    slack.command("/idea", "list declined")
    everything, planned, top, declined = ephemeral_replies(fake_slack)

    assert everything.index("#4") < everything.index("#3") < everything.index("#2") < everything.index("#1")
    assert "*#2* Callback slots — Planned · 1 vote" in planned and "#3" not in planned
    assert top.splitlines()[1:] == [
        "1. *#3* Macro library — New · 3 votes",
        "2. *#2* Callback slots — Planned · 1 vote",
        "3. *#1* Glossary — New · 0 votes",
    ]
    assert "No ideas are Declined" in declined


def test_list_is_capped(slack, fake_slack, ctx):
    for n in range(23):
        slack.command("/idea", f"Idea {n}", user=f"UAUTHOR{n % 3}")  # within each one's daily post limit
    fake_slack.clear()
    slack.command("/idea", "list")
    [reply] = ephemeral_replies(fake_slack)
    assert reply.count("\n• ") == 20 and "Showing the newest 20 of 23" in reply


# --- anonymity ---------------------------------------------------------------------------
def test_an_anonymous_idea_leaves_no_trace_of_its_author(slack, fake_slack, ctx):
    author = "UHIDDEN7"
    slack.command("/idea", "", user=author)
    response = submitted_via_modal(slack, title="Rotate the weekend shift", user=author, anonymous=True)
    slack.block_action("idea_vote", "1", user="UBEN", channel="CIDEAS")
    slack.command("/idea", "status 1 under-review looking at it", user="ULEAD")
    choose_status(slack, 1, "planned")

    assert "#1" in response.body and author not in response.body
    [idea] = ideas(ctx)
    assert idea.author_id is None and idea.status == "planned"
    with ctx.engine.connect() as connection:
        for table in tables().sorted_tables:
            for row in connection.execute(table.select()):
                assert author not in str(tuple(row)), (table.name, row)
    assert fake_slack.calls, "nothing was recorded"
    for call in fake_slack.calls:
        assert author not in json.dumps(call.params, default=str), call
    assert "anonymous" in json.dumps(fake_slack.posts_to("CIDEAS")[0]["blocks"])
