"""An idea with KAIZEN_IDEA_REVIEW_VOTES votes goes from new to under-review by itself, once, and
the leads are told with a link to its post."""

import json
import threading

import pytest
from sqlalchemy import select

from storage.models import OutboxMessage
from tests.fake_slack import FakeSlack
from tests.handlers.test_ideas import changes, ideas, votes


@pytest.fixture
def two_leads(env):
    env["KAIZEN_LEADS"] = "ULEAD,ULEAD2"


def post_link(ctx, key="idea:1:post"):
    """The permalink of a sent post, as Slack makes them: the workspace, the channel, the ts without its dot."""
    with ctx.session_factory() as session:
        sent = session.scalar(select(OutboxMessage).where(OutboxMessage.key == key)).result
    return f"{FakeSlack.WORKSPACE_URL}archives/{sent['channel']}/p{sent['ts'].replace('.', '')}"


def vote_at_once(slack, voters, idea="1"):
    barrier = threading.Barrier(len(voters))
    statuses = []

    def press(user):
        barrier.wait()
        statuses.append(slack.block_action("idea_vote", idea, user=user, channel="CIDEAS").status)

    threads = [threading.Thread(target=press, args=(user,)) for user in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.fixture(params=[20, 5])
def needed(request, env):
    """Votes that send an idea to review: all 20 voters' (the last vote does it), or the first 5's."""
    env["KAIZEN_IDEA_REVIEW_VOTES"] = str(request.param)
    return request.param


def test_twenty_people_voting_at_once_move_it_to_review_exactly_once(needed, two_leads, slack, fake_slack, ctx):
    slack.command("/idea", "Shared glossary", user="UANA")

    statuses = vote_at_once(slack, [f"UVOTER{n:02d}" for n in range(20)])

    assert statuses == [200] * 20 and votes(ctx) == 20
    assert [i.status for i in ideas(ctx)] == ["under-review"]
    [change] = changes(ctx)
    assert (change.changed_by, change.from_status, change.to_status) == (None, "new", "under-review")
    assert change.note == f"{needed} people voted for it, so the leads will look at it."
    link = post_link(ctx)
    for lead in ("ULEAD", "ULEAD2"):
        [dm] = fake_slack.posts_to(lead)
        assert dm["text"] == f"Idea #1 reached {needed} votes and is waiting for review."
        assert f"<{link}|Open idea #1>" in json.dumps(dm["blocks"])
    [author_dm] = fake_slack.posts_to("UANA")
    assert "is now *Under review* (was New), moved by Kaizen." in json.dumps(author_dm["blocks"])
    assert fake_slack.posts_to("UADMIN") == []  # admins are not leads: the digest tells them
    with ctx.session_factory() as session:
        last_update = session.scalars(
            select(OutboxMessage).where(OutboxMessage.method == "chat.update").order_by(OutboxMessage.id.desc())
        ).first()
    assert last_update.payload["text"] == "Idea #1: Shared glossary — Under review, 20 votes"
    assert "Under review by Kaizen" in json.dumps(last_update.payload["blocks"])


@pytest.fixture
def review_at_two(env):
    env["KAIZEN_IDEA_REVIEW_VOTES"] = "2"


def test_a_withdrawn_vote_leaves_it_in_review_and_leads_decide_from_then_on(review_at_two, slack, fake_slack, ctx):
    slack.command("/idea", "Shared glossary", user="UANA")
    slack.block_action("idea_vote", "1", user="UBEN")
    assert [i.status for i in ideas(ctx)] == ["new"]  # one vote short
    slack.block_action("idea_vote", "1", user="UCARL")
    assert [i.status for i in ideas(ctx)] == ["under-review"]

    slack.block_action("idea_vote", "1", user="UCARL")  # withdrawn: still under review
    assert votes(ctx) == 1 and [i.status for i in ideas(ctx)] == ["under-review"]
    slack.block_action("idea_vote", "1", user="UCARL")  # back to 2: nothing moves again
    slack.command("/idea", "status 1 new not yet, after the migration", user="ULEAD")
    slack.block_action("idea_vote", "1", user="UDAN")  # 3 votes, but a lead put it back to new

    assert [i.status for i in ideas(ctx)] == ["new"]
    assert [(c.changed_by, c.to_status) for c in changes(ctx)] == [(None, "under-review"), ("ULEAD", "new")]
    assert len(fake_slack.posts_to("ULEAD")) == 1


def test_without_a_sent_post_the_leads_get_the_channel_instead_of_a_link(review_at_two, slack, fake_slack, ctx):
    fake_slack.fail("chat.postMessage", error="not_in_channel")  # Slack refuses the idea's post for good
    slack.command("/idea", "Shared glossary", user="UANA")
    slack.block_action("idea_vote", "1", user="UBEN")
    slack.block_action("idea_vote", "1", user="UCARL")

    [dm] = fake_slack.posts_to("ULEAD")
    sent = json.dumps(dm["blocks"])
    assert "It is in <#CIDEAS>: `/idea status 1 planned [note]`" in sent and "archives" not in sent
    assert sent.endswith('or *Lead actions* on its post.", "type": "mrkdwn"}], "type": "context"}]')
