from datetime import timedelta

from sqlalchemy import select

from bot.core.jobs import run_job
from bot.core.outbox import enqueue, post_message
from storage.models import HandledRequest, OutboxMessage
from storage.outbox import claim_request


def keys_left(ctx) -> set[str]:
    with ctx.session_factory() as session:
        return set(session.scalars(select(OutboxMessage.key)))


def test_deletes_messages_sent_30_days_ago_but_keeps_channel_posts_and_recent_and_unsent_ones(ctx, clock):
    long_ago = ctx.now() - timedelta(days=31)
    with ctx.transaction() as session:
        post_message(session, "old-dm", channel="UANA", text="a DM", blocks=None, now=long_ago)
        post_message(session, "old-post", channel="CIDEAS", text="an idea", blocks=None, now=long_ago)
        enqueue(session, "old-view", "views.publish", {"user_id": "UANA", "view": {}}, long_ago, lane="home:UANA")
    with ctx.session_factory.begin() as session:  # as if they had been sent a month ago
        session.execute(OutboxMessage.__table__.update().values(sent_at=long_ago))
    clock.advance(days=29)
    with ctx.transaction() as session:
        post_message(session, "recent-dm", channel="UBEN", text="a DM", blocks=None, now=ctx.now())
    with ctx.transaction(deliver=False) as session:
        post_message(session, "unsent-dm", channel="UCARL", text="a DM", blocks=None, now=long_ago)
    clock.advance(days=2)

    report = run_job(ctx, "housekeeping")

    assert keys_left(ctx) == {"old-post", "recent-dm", "unsent-dm"}
    assert report.lines[0] == "deleted 2 message(s) sent more than 30 days ago (channel posts are kept)"


def test_deletes_request_keys_once_slack_can_no_longer_retry_them(ctx, clock):
    with ctx.session_factory.begin() as session:
        claim_request(session, "event:old", ctx.now() - timedelta(days=2))
        claim_request(session, "event:recent", ctx.now() - timedelta(hours=1))

    report = run_job(ctx, "housekeeping")

    with ctx.session_factory() as session:
        assert list(session.scalars(select(HandledRequest.key))) == ["event:recent"]
    assert report.lines[1] == "deleted 1 request key(s) older than a day"


def test_an_idea_voted_on_after_the_clean_up_still_updates_its_message(slack, ctx, fake_slack, clock):
    slack.command("/idea", "Callback slots", user="UANA")
    clock.advance(days=40)
    run_job(ctx, "housekeeping")

    slack.block_action("idea_vote", "1", user="UBEN", channel="CIDEAS")

    [post] = fake_slack.posts_to("CIDEAS")
    [update] = fake_slack.calls_to("chat.update")
    assert update["channel"] == "CIDEAS" and update["text"].endswith("New, 1 vote")
