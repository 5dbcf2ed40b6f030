"""Leads merge a duplicate into the idea it repeats: `/idea merge 12 into 7`, or *Merge into…*."""

import json

import pytest
from sqlalchemy import select

from storage.ideas import IdeaVote
from storage.models import OutboxMessage
from tests.bot.ideas.test_review import post_link
from tests.handlers.test_admin import last_home
from tests.handlers.test_block_kit_limits import assert_within_limits, send_everything
from tests.handlers.test_ideas import actions_of, changes, choose_status, ephemeral_replies, ideas


def voters(ctx, idea_id):
    with ctx.session_factory() as session:
        return sorted(session.scalars(select(IdeaVote.voter_id).where(IdeaVote.idea_id == idea_id)))


def last_update_of(ctx, fake_slack, idea_id):
    """The last chat.update of the idea's post."""
    with ctx.session_factory() as session:
        ts = session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"idea:{idea_id}:post")).result["ts"]
    return [u for u in fake_slack.calls_to("chat.update") if u["ts"] == ts][-1]


@pytest.fixture
def two_ideas(slack, fake_slack, ctx, clock):
    """#1 with two votes, #2 (its duplicate) with four, one of them from someone who voted for both."""
    slack.command("/idea", "Pre-fill the refund form from the order page", user="UANA")
    slack.command("/idea", "Refund form should copy the order details", user="UBEN")
    for voter in ("UB", "UC"):
        slack.block_action("idea_vote", "1", user=voter)
    for voter in ("UC", "UD", "UE", "UF"):
        slack.block_action("idea_vote", "2", user=voter)
    send_everything(ctx, clock)  # both posts are out (one a second in a channel)
    fake_slack.clear()


def test_a_lead_merges_by_command_votes_count_once_both_posts_and_the_author_hear(
    two_ideas, slack, fake_slack, ctx, clock
):
    slack.command("/idea", "merge #2 into #1", user="ULEAD")

    first, second = ideas(ctx)
    assert (second.status, second.merged_into_id) == ("merged", 1)
    assert voters(ctx, 1) == ["UB", "UC", "UD", "UE", "UF"] and voters(ctx, 2) == []
    assert [(c.idea_id, c.changed_by, c.from_status, c.to_status) for c in changes(ctx)] == [
        (2, "ULEAD", "new", "merged"),
        (1, None, "new", "under-review"),  # the 5 votes it has now send it to review (KAIZEN_IDEA_REVIEW_VOTES)
    ]
    assert "Idea #2 is merged into #1" in ephemeral_replies(fake_slack)[0]

    link = post_link(ctx, "idea:1:post")
    merged_post = last_update_of(ctx, fake_slack, 2)
    assert merged_post["text"] == "Idea #2: Refund form should copy the order details — Merged into #1, 0 votes"
    sent = json.dumps(merged_post["blocks"])
    assert f"Merged into <{link}|idea #1> *Pre-fill the refund form from the order page*." in sent
    assert all(block["type"] != "actions" for block in merged_post["blocks"])  # no votes, no moves: final
    kept_post = last_update_of(ctx, fake_slack, 1)
    assert kept_post["text"] == "Idea #1: Pre-fill the refund form from the order page — Under review, 5 votes"
    assert "Merged into this one: #2" in json.dumps(kept_post["blocks"])
    assert "Upvote (5)" in actions_of(kept_post["blocks"])["idea_vote"]["text"]["text"]

    [author_dm] = fake_slack.posts_to("UBEN")
    assert author_dm["text"] == "Your idea #2 was merged into idea #1."
    assert f"<{link}|See idea #1>" in json.dumps(author_dm["blocks"])
    assert len(fake_slack.posts_to("ULEAD")) == 1  # told of #1's review
    assert "Merged into #1" in last_home(fake_slack, "UBEN")
    send_everything(ctx, clock)
    assert_within_limits(fake_slack)


def test_a_merged_idea_is_final_and_shows_where_it_went_in_lists(two_ideas, slack, fake_slack, ctx):
    slack.command("/idea", "merge 2 into 1", user="ULEAD")
    fake_slack.clear()

    slack.block_action("idea_vote", "2", user="UZED")
    slack.command("/idea", "status 2 planned", user="ULEAD")
    slack.command("/idea", "status 1 merged", user="ULEAD")
    slack.command("/idea", "list")
    slack.command("/idea", "list merged")
    slack.command("/idea", "top")

    vote, status, merged_by_status, everything, merged, top = ephemeral_replies(fake_slack)
    assert vote == "Idea #2 was merged into #1, and its votes went there: vote for #1 instead."
    assert status == "Idea #2 was merged into #1, and that is final: change #1 instead."
    assert merged_by_status == "To merge an idea, say into which: `/idea merge 1 into 7`."
    assert "*#2* Refund form should copy the order details — Merged into #1 · 0 votes" in everything
    assert "#2" in merged and "#1" not in merged.replace("into #1", "")
    assert "#2" not in top and "*#1*" in top
    assert voters(ctx, 1) == ["UB", "UC", "UD", "UE", "UF"]
    assert [i.status for i in ideas(ctx)] == ["under-review", "merged"]


def test_merge_into_from_the_menu_asks_which_idea(two_ideas, slack, fake_slack, ctx):
    slack.command("/idea", "Callback slots", user="UCARL")  # #3, soon declined
    slack.command("/idea", "status 3 declined no phone system for it", user="ULEAD")
    slack.command("/idea", "Chat macros", user="UDAN")  # #4
    fake_slack.clear()

    choose_status(slack, 2, "merge")

    [waiting] = fake_slack.calls_to("views.open")  # opens at once; the choices follow
    assert "One moment" in json.dumps(waiting["view"])
    form = fake_slack.modal()
    assert form["callback_id"] == "idea_merge_modal"
    [choice] = [b for b in form["blocks"] if b["type"] == "input"]
    assert [o["value"] for o in choice["element"]["options"]] == ["4", "1"]  # not itself, not declined #3
    assert choice["element"]["options"][1]["text"]["text"] == "#1 Pre-fill the refund form from the order page"
    assert changes(ctx)[-1].to_status == "declined"  # nothing merged yet

    def submit(target):
        values = {"target": {"target": {"type": "static_select", "selected_option": target}}}
        return slack.view_submission(
            "idea_merge_modal", values, user="ULEAD", private_metadata=form["private_metadata"]
        )

    response = submit({"value": "3"})  # declined since the form opened
    assert '"response_action": "errors"' in response.body and "Idea #3 is declined" in response.body
    assert [i.status for i in ideas(ctx)][:2] == ["new", "new"]

    submit({"value": "1"})
    assert [(i.status, i.merged_into_id) for i in ideas(ctx)][:2] == [("under-review", None), ("merged", 1)]
    assert voters(ctx, 1) == ["UB", "UC", "UD", "UE", "UF"]
    assert_within_limits(fake_slack)


def test_an_anonymous_duplicate_merges_without_a_dm(slack, fake_slack, ctx):
    slack.command("/idea", "Shared glossary", user="UANA")
    slack.view_submission(
        "idea_modal",
        {
            "title": {"title": {"value": "A glossary of billing terms"}},
            "description": {"description": {"value": None}},
            "category": {"category": {"selected_option": None}},
            "anonymous": {"anonymous": {"selected_options": [{"value": "anonymous"}]}},
        },
        user="UHIDDEN",
    )
    fake_slack.clear()
    slack.command("/idea", "merge 2 into 1", user="ULEAD")
    assert [i.status for i in ideas(ctx)] == ["new", "merged"]
    dms = [c for c in fake_slack.calls_to("chat.postMessage") if c["channel"] != "CIDEAS"]
    assert dms == []


@pytest.mark.parametrize(
    ("setup", "command", "user", "expected"),
    [
        ([], "merge 2 into 2", "ULEAD", "An idea can't be merged into itself"),
        ([], "merge 2 into 1", "UBEN", "Only leads can merge ideas"),
        ([], "merge 2 into 9", "ULEAD", "There is no idea #9"),
        ([], "merge 2", "ULEAD", "Say which idea goes into which: `/idea merge 12 into 7`"),
        (["status 1 declined done elsewhere"], "merge 2 into 1", "ULEAD", "Idea #1 is declined"),
        (["merge 3 into 1"], "merge 2 into 3", "ULEAD", "Idea #3 is itself merged into #1: merge into that one."),
        (["merge 3 into 1"], "merge 3 into 2", "ULEAD", "Idea #3 is already merged into #1."),
        (["merge 1 into 2"], "merge 2 into 1", "ULEAD", "go round in a circle: #1 is already merged into #2"),
    ],
)
def test_merges_that_make_no_sense_are_refused_and_change_nothing(
    two_ideas, slack, fake_slack, ctx, setup, command, user, expected
):
    slack.command("/idea", "Refund form, prefilled", user="UCARL")  # #3
    for earlier in setup:
        slack.command("/idea", earlier, user="ULEAD")
    before = ([(i.status, i.merged_into_id) for i in ideas(ctx)], voters(ctx, 1), voters(ctx, 2), len(changes(ctx)))
    fake_slack.clear()

    slack.command("/idea", command, user=user)

    [reply] = ephemeral_replies(fake_slack)
    assert expected in reply
    after = ([(i.status, i.merged_into_id) for i in ideas(ctx)], voters(ctx, 1), voters(ctx, 2), len(changes(ctx)))
    assert after == before
    assert fake_slack.calls_to("chat.update") == [] and fake_slack.calls_to("chat.postMessage") == []


def test_a_hidden_idea_can_be_neither_merged_nor_merged_into(two_ideas, slack, fake_slack, ctx):
    slack.command("/kaizen", "hide idea 1", user="UADMIN")
    fake_slack.clear()
    slack.command("/idea", "merge 2 into 1", user="ULEAD")
    slack.command("/idea", "merge 1 into 2", user="ULEAD")
    choose_status(slack, 2, "merge")

    into_hidden, from_hidden = ephemeral_replies(fake_slack)
    assert "There is no idea #1" in into_hidden and "There is no idea #1" in from_hidden
    assert "There is no other idea to merge it into" in json.dumps(fake_slack.modal())
    assert voters(ctx, 2) == ["UC", "UD", "UE", "UF"]


def test_a_hidden_idea_leaves_no_title_on_the_ideas_merged_into_it(two_ideas, slack, fake_slack, ctx, clock):
    """#2 and #3 are merged into #1, then an admin hides #1: its title leaves #2's and #3's posts, the
    merge DM #2's author has and the one #3's author is still to get (Slack was down), and every list."""
    slack.command("/idea", "Refund form, prefilled", user="UCARL")  # #3
    send_everything(ctx, clock)
    slack.command("/idea", "merge 2 into 1", user="ULEAD")
    send_everything(ctx, clock)
    fake_slack.fail("chat.postMessage", status=500)  # the merge DM to #3's author waits
    slack.command("/idea", "merge 3 into 1", user="ULEAD")
    assert fake_slack.posts_to("UCARL") == []
    [told_ben] = fake_slack.posts_to("UBEN")
    assert "Pre-fill the refund form from the order page" in json.dumps(told_ben["blocks"])
    fake_slack.clear()

    slack.command("/kaizen", "hide idea 1", user="UADMIN")
    send_everything(ctx, clock)
    slack.command("/idea", "list", user="UBEN")
    slack.command("/idea", "list merged", user="UBEN")
    slack.event({"type": "app_home_opened", "user": "UBEN", "tab": "home"})

    said = json.dumps([call.params for call in fake_slack.calls], ensure_ascii=False)
    assert "order page" not in said and "Pre-fill" not in said
    for merged in (2, 3):
        post = json.dumps(last_update_of(ctx, fake_slack, merged)["blocks"])
        assert ":twisted_rightwards_arrows: Merged into idea #1." in post
    [told_carl] = fake_slack.posts_to("UCARL")  # sent once Slack was back, without the title
    assert "*Refund form, prefilled* was merged into idea #1 by <@ULEAD>" in json.dumps(told_carl["blocks"])
    [ben_edited] = [u for u in fake_slack.calls_to("chat.update") if u["channel"] == "UBEN"]
    assert "*Refund form should copy the order details* was merged into idea #1 by" in json.dumps(ben_edited["blocks"])
    assert "Merged into #1" in last_home(fake_slack, "UBEN")
