"""Kudos to a whole user group: `/kudos @billing-team great week`, or the form's group menu."""

import json

from sqlalchemy import select

from bot.kudos.blocks import GROUP, KUDOS_MODAL
from storage.kudos import Kudos
from storage.models import Member
from tests.conftest import WEDNESDAY_MORNING

BILLING = "<!subteam^SBILL|@billing-team>"


def replies(fake_slack) -> list[str]:
    return [c["text"] for c in fake_slack.calls_to("response_url")]


def recipients(ctx) -> list[tuple[str, str]]:
    with ctx.session_factory() as session:
        return [(k.recipient_id, k.source) for k in session.scalars(select(Kudos).order_by(Kudos.id))]


def billing(fake_slack, ctx, people=("UANA", "UBEN")):
    fake_slack.add_group("SBILL", "billing-team", [*people, "UGIVER", "UBOT", "UGONE"], name="Billing team")
    fake_slack.add_user("UBOT", is_bot=True)
    with ctx.session_factory.begin() as session:
        session.add(Member(user_id="UGONE", deleted=True, first_seen_at=WEDNESDAY_MORNING))


def test_a_kudos_to_a_user_group_reaches_each_member_once_and_counts_as_one(slack, fake_slack, ctx):
    billing(fake_slack, ctx)
    slack.command("/kaizen", "teams", user="UADMIN")  # Kaizen reads the groups' names

    slack.command("/kudos", f"{BILLING} great week on the backlog #teamwork")

    # Each member but the giver, the bot and the deactivated account.
    assert recipients(ctx) == [("UANA", "team"), ("UBEN", "team")]
    [post] = fake_slack.posts_to("CKUDOS")
    assert post["text"].startswith(":tada: Everyone in *Billing team* (2 people) — kudos from <@UGIVER>!")
    assert "subteam" not in json.dumps(post.params)  # never a mention of the group: it would notify them all
    for member in ("UANA", "UBEN"):
        [dm] = fake_slack.posts_to(member)
        assert "gave kudos to everyone in *Billing team*, you among them" in dm["text"]
    assert fake_slack.posts_to("UBOT") == fake_slack.posts_to("UGONE") == fake_slack.posts_to("UGIVER") == []
    assert replies(fake_slack)[-1] == (
        ":white_check_mark: Kudos sent to the 2 people of *Billing team* and celebrated in <#CKUDOS>. "
        "It counts as one: you have 4 left today."
    )

    # In stats and on the Home tab, not on the leaderboard.
    slack.command("/kudos", "<@UANA|ana> thanks for the macro", user="UCARL")
    slack.command("/kudos", "stats <@UANA|ana>")
    assert "Received: 2 this week · 2 this month · 2 in all (1 from team kudos)" in replies(fake_slack)[-1]
    slack.command("/kudos", "leaderboard")
    assert "<@UANA> — 1 kudos" in replies(fake_slack)[-1] and "<@UBEN>" not in replies(fake_slack)[-1]
    homes = [c["view"] for c in fake_slack.calls_to("views.publish") if c["user_id"] == "UBEN"]
    assert "1 this week · 1 in all (1 from team kudos)" in json.dumps(homes[-1], ensure_ascii=False)


def test_a_team_kudos_takes_one_of_the_days_limit(slack, fake_slack, ctx):
    billing(fake_slack, ctx)
    for person in ("UC1", "UC2", "UC3", "UC4"):
        slack.command("/kudos", f"<@{person}|x> thanks")
    slack.command("/kudos", f"{BILLING} great week")
    assert "you have 0 left today" in replies(fake_slack)[-1]

    slack.command("/kudos", f"{BILLING} and again")
    assert "You've given all 5 of today's kudos" in replies(fake_slack)[-1]
    assert len(recipients(ctx)) == 6


def test_refusals_for_a_group_say_why_and_store_nothing(slack, fake_slack, ctx):
    billing(fake_slack, ctx, people=[f"U{n:03d}" for n in range(101)])
    slack.command("/kudos", f"{BILLING} great week")
    assert "has more than 100 people, and a kudos to a group goes to at most 100" in replies(fake_slack)[-1]

    slack.command("/kudos", f"{BILLING} <@UANA|ana> great week")
    assert replies(fake_slack)[-1].startswith("One user group at a time, on its own")
    slack.command("/kudos", "<!subteam^SNONE|@nobody> great week")
    assert replies(fake_slack)[-1] == "Slack has no active user group @nobody."
    fake_slack.add_group("SSOLO", "just-me", ["UGIVER"])
    slack.command("/kudos", "<!subteam^SSOLO|@just-me> great week")
    assert "There's nobody in just-me to thank but you" in replies(fake_slack)[-1]
    fake_slack.fail("usergroups.users.list", error="missing_scope")
    slack.command("/kudos", f"{BILLING} great week")
    assert "lacks the `usergroups:read` scope" in replies(fake_slack)[-1]
    assert recipients(ctx) == [] and fake_slack.posts_to("CKUDOS") == []


def test_the_form_offers_the_user_groups_too(slack, fake_slack, ctx):
    billing(fake_slack, ctx)
    slack.command("/kaizen", "teams", user="UADMIN")

    slack.command("/kudos", "")

    form = fake_slack.modal()
    [menu] = [b["element"] for b in form["blocks"] if b.get("block_id") == GROUP]
    assert [(o["text"]["text"], o["value"]) for o in menu["options"]] == [("@billing-team (Billing team)", "SBILL")]
    values = {
        "recipients": {"recipients": {"selected_users": []}},
        GROUP: {GROUP: {"selected_option": {"value": "SBILL"}}},
        "message": {"message": {"value": "Great week"}},
        "values": {"values": {"selected_options": []}},
    }
    response = slack.view_submission(KUDOS_MODAL, values, private_metadata=form["private_metadata"])

    assert "Kudos sent to the 2 people of *Billing team*" in json.dumps(json.loads(response.body))
    assert recipients(ctx) == [("UANA", "team"), ("UBEN", "team")]

    values["recipients"]["recipients"]["selected_users"] = ["UCARL"]
    response = slack.view_submission(KUDOS_MODAL, values, private_metadata=form["private_metadata"])
    assert json.loads(response.body)["errors"]["recipients"].startswith("One user group at a time")


def test_leaderboard_and_stats_of_a_team(slack, fake_slack, ctx):
    slack.command("/kaizen", "team add Tier 1 lead <@UMARIA|maria> members <@UANA|ana> <@UBEN|ben>", user="UADMIN")
    slack.command("/kudos", "<@UANA|ana> <@UCARL|carl> thanks")
    slack.command("/kudos", "<@UANA|ana> again", user="UBEN")

    slack.command("/kudos", "leaderboard month team tier 1")
    board = replies(fake_slack)[-1]
    assert board.startswith("*Most recognised this month in Tier 1*\n1. <@UANA> — 2 kudos")
    assert "UCARL" not in board

    slack.command("/kudos", "stats team Tier 1")
    assert replies(fake_slack)[-1] == (
        "*Kudos for Tier 1* (2 people)\nReceived: 2 this week · 2 this month · 2 in all\nGiven: 1\n"
        "Recognised this month: 1 of 2"
    )
    slack.command("/kudos", "leaderboard team Tier 9")
    assert replies(fake_slack)[-1].startswith("There's no team called Tier 9")
    response = slack.command("/kudos", "leaderboard year")
    assert "I know `week`, `month` and `all`, and `team NAME`" in response.body
