"""A post to a group DM names its users; the conversation is opened when it is sent."""

from bot.core.outbox import post_to_group, update_message
from storage.outbox import by_key


def test_the_group_dm_is_opened_at_send_time_and_posted_into(ctx, fake_slack):
    with ctx.transaction() as session:
        post_to_group(session, "g1", users=["UANA", "UBEN"], text="hello both", blocks=None, now=ctx.now())

    assert [c["users"] for c in fake_slack.calls_to("conversations.open")] == ["UANA,UBEN"]
    [post] = fake_slack.calls_to("chat.postMessage")
    assert (post["channel"], post["text"]) == ("DUANA,UBEN", "hello both") and "users" not in post.params
    with ctx.session_factory() as session:
        assert by_key(session, "g1").result["channel"] == "DUANA,UBEN"

    with ctx.transaction() as session:
        update_message(session, "g1:edit", of="g1", text="edited", blocks=None, now=ctx.now())
    [update] = fake_slack.calls_to("chat.update")
    assert (update["channel"], update["text"]) == ("DUANA,UBEN", "edited")


def test_a_failed_open_is_retried_and_posts_once(ctx, fake_slack, clock):
    fake_slack.fail("conversations.open", status=500)
    with ctx.transaction() as session:
        post_to_group(session, "g1", users=["UANA", "UBEN"], text="hello", blocks=None, now=ctx.now())
    assert fake_slack.calls_to("chat.postMessage") == []
    with ctx.session_factory() as session:
        assert by_key(session, "g1").status == "pending"

    clock.advance(seconds=20)
    assert ctx.outbox.sweep().sent == 1
    assert [c["channel"] for c in fake_slack.calls_to("chat.postMessage")] == ["DUANA,UBEN"]
    assert ctx.outbox.sweep().sent == 0
