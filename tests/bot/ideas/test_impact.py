"""Implementing an idea records what it changed (and a measure, before and after), and tells its
author and everyone who voted for it."""

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from storage.ideas import IdeaVote, Measure
from tests.handlers.test_block_kit_limits import assert_within_limits, send_everything
from tests.handlers.test_ideas import changes, choose_status, ephemeral_replies, ideas


def votes(ctx):
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).select_from(IdeaVote))


def impact_values(impact, name=None, before=None, after=None, unit=None):
    typed = dict(impact=impact, measure_name=name, measure_before=before, measure_after=after, measure_unit=unit)
    return {field: {field: {"type": "plain_text_input", "value": value}} for field, value in typed.items()}


def dms(fake_slack):
    """Who got which DMs, by user."""
    sent = {}
    for call in fake_slack.calls_to("chat.postMessage"):
        if call["channel"].startswith("U"):
            sent.setdefault(call["channel"], []).append(call)
    return sent


@pytest.fixture
def voted_idea(slack, fake_slack):
    """Idea #1 by Ana, with votes from Ana herself, Ben and Carl."""
    slack.command("/idea", "Pre-fill the refund form from the order page", user="UANA")
    for voter in ("UANA", "UBEN", "UCARL"):
        slack.block_action("idea_vote", "1", user=voter)
    fake_slack.clear()


def test_implemented_from_the_menu_asks_what_changed_and_everyone_who_voted_hears(
    voted_idea, slack, fake_slack, ctx, clock
):
    choose_status(slack, 1, "implemented")

    form = fake_slack.modal()  # in the place of the lead's panel
    assert form["callback_id"] == "idea_impact_modal"
    assert [b.get("block_id") for b in form["blocks"] if b["type"] == "input"] == [
        "impact",
        "measure_name",
        "measure_before",
        "measure_after",
        "measure_unit",
    ]
    assert changes(ctx) == []

    def submit(values, view_id=None):
        return slack.view_submission(
            "idea_impact_modal", values, user="ULEAD", private_metadata=form["private_metadata"], view_id=view_id
        )

    response = submit(impact_values("It fills itself now", name="refund handle time", before="9"))
    assert '"response_action": "errors"' in response.body and '"measure_after"' in response.body
    assert "A measure needs its value after too" in response.body
    response = submit(impact_values("x" * 1001))
    assert '"impact"' in response.body and "under 1000 characters" in response.body
    assert [i.status for i in ideas(ctx)] == ["new"]

    values = impact_values("The refund form fills itself <!here>", "refund handle time", "9", "6", "min")
    submit(values, view_id="VIMPACT")
    submit(values, view_id="VIMPACT")  # a double click records once

    [idea] = ideas(ctx)
    assert (idea.status, idea.impact) == ("implemented", "The refund form fills itself &lt;!here&gt;")
    assert (idea.measure_name, idea.measure_before, idea.measure_after, idea.measure_unit) == (
        "refund handle time",
        "9",
        "6",
        "min",
    )
    [change] = changes(ctx)
    assert (change.changed_by, change.to_status, change.note) == ("ULEAD", "implemented", "")
    post = fake_slack.calls_to("chat.update")[-1]
    shown = json.dumps(post["blocks"], ensure_ascii=False)
    assert "*What changed:* The refund form fills itself &lt;!here&gt;" in shown
    assert "refund handle time: 9 min → 6 min" in shown

    send_everything(ctx, clock)
    sent = dms(fake_slack)
    assert sorted(sent) == ["UANA", "UBEN", "UCARL"]  # Ana voted too, and gets only the author's DM
    assert all(len(messages) == 1 for messages in sent.values())
    assert sent["UANA"][0]["text"] == "Your idea #1 is now Implemented."
    assert "refund handle time: 9 min → 6 min" in json.dumps(sent["UANA"][0]["blocks"], ensure_ascii=False)
    for voter in ("UBEN", "UCARL"):
        assert sent[voter][0]["text"] == "An idea you voted for is implemented: #1."
        voter_dm = json.dumps(sent[voter][0]["blocks"], ensure_ascii=False)
        assert "The refund form fills itself &lt;!here&gt;" in voter_dm and "<!here>" not in voter_dm
    assert_within_limits(fake_slack)


def test_implemented_by_command_takes_the_rest_as_what_changed(voted_idea, slack, fake_slack, ctx, clock):
    slack.command("/idea", "status 1 implemented Refunds take one click <!channel>", user="ULEAD")

    [idea] = ideas(ctx)
    assert (idea.status, idea.impact, idea.measure) == ("implemented", "Refunds take one click @channel", None)
    assert "Idea #1 is now :white_check_mark: *Implemented*" in ephemeral_replies(fake_slack)[0]
    send_everything(ctx, clock)
    assert {user: len(messages) for user, messages in dms(fake_slack).items()} == {"UANA": 1, "UBEN": 1, "UCARL": 1}


def test_reimplemented_after_a_reopen_records_the_new_impact_and_tells_voters_again(
    voted_idea, slack, fake_slack, ctx, clock
):
    slack.command("/idea", "status 1 implemented First try", user="ULEAD")
    slack.command("/idea", "status 1 in-progress it broke on weekends", user="ULEAD")
    slack.command("/idea", "status 1 implemented Works on weekends too", user="ULEAD")

    [idea] = ideas(ctx)
    assert idea.impact == "Works on weekends too"
    send_everything(ctx, clock)
    assert [m["text"] for m in dms(fake_slack)["UBEN"]] == ["An idea you voted for is implemented: #1."] * 2


def test_members_cannot_open_the_impact_form(voted_idea, slack, fake_slack, ctx):
    choose_status(slack, 1, "implemented", user="UBEN")  # the panel does not open; a forged click is refused
    assert "*Lead actions* are for the team's leads" in ephemeral_replies(fake_slack)[0]
    assert fake_slack.calls_to("views.open") == []
    assert "Only leads can change an idea's status" in json.dumps(fake_slack.modal())
    response = slack.view_submission(
        "idea_impact_modal", impact_values("sneaky"), user="UBEN", private_metadata=json.dumps({"idea": 1})
    )
    assert '"impact"' in response.body and "Only leads can change" in response.body
    assert [i.status for i in ideas(ctx)] == ["new"]


def submit_impact(slack, values, user="ULEAD"):
    return slack.view_submission("idea_impact_modal", values, user=user, private_metadata=json.dumps({"idea": 1}))


def test_a_measure_is_limited_as_it_is_stored_and_answered_on_its_field(voted_idea, slack, fake_slack, ctx):
    typed = "<9 & >6 & <5 & >4 & <3 & >2 &"  # 30 characters, as the form allows; 80 once escaped
    too_long = submit_impact(slack, impact_values("Faster", "handle time", typed, "6", "min"))

    assert too_long.status == 200 and json.loads(too_long.body)["response_action"] == "errors"
    assert "under 40 characters" in json.loads(too_long.body)["errors"]["measure_before"]
    assert [i.status for i in ideas(ctx)] == ["new"]

    fits = submit_impact(slack, impact_values("Faster", "handle time <& waits>", "> 9", "< 6", "min & more"))
    assert fits.status == 200 and "errors" not in fits.body
    [idea] = ideas(ctx)
    assert idea.measure == Measure("handle time &lt;&amp; waits&gt;", "&gt; 9", "&lt; 6", "min &amp; more")


def test_a_failure_on_the_impact_form_answers_the_form_never_a_500(voted_idea, slack, ctx, monkeypatch, caplog):
    def database_gone(*_args, **_kwargs):
        raise OperationalError("UPDATE ideas …", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr("bot.ideas.rules._tell_voters", database_gone)

    response = submit_impact(slack, impact_values("It fills itself now"))

    assert response.status == 200 and json.loads(response.body)["response_action"] == "errors"
    assert "nothing was saved" in json.loads(response.body)["errors"]["impact"]
    assert [i.status for i in ideas(ctx)] == ["new"]
    assert "server closed the connection unexpectedly" in caplog.text  # the log says what went wrong


def test_votes_on_an_implemented_idea_are_closed_and_the_presser_hears_what_changed(
    voted_idea, slack, fake_slack, ctx, clock
):
    slack.command("/idea", "status 1 implemented Refunds take one click", user="ULEAD")
    send_everything(ctx, clock)
    fake_slack.clear()

    slack.block_action("idea_vote", "1", user="UDAN")  # pressed as the post was being updated
    slack.block_action("idea_vote", "1", user="UBEN")  # nor can a voter take back what helped it happen

    closed = "Idea #1 is implemented already, so its votes are closed.\n*What changed:* Refunds take one click"
    assert [closed in reply for reply in ephemeral_replies(fake_slack)] == [True, True]
    assert votes(ctx) == 3 and fake_slack.calls_to("chat.update") == []
    # Everyone who voted for it was told when it was implemented: nobody voted for it after.
    slack.command("/idea", "status 1 in-progress it broke on weekends", user="ULEAD")
    slack.block_action("idea_vote", "1", user="UDAN")
    assert votes(ctx) == 4
