"""A post to a group DM names its users; the conversation is opened when it is sent."""

from bot.core.outbox import enqueue, post_to_group, update_message
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


def test_the_log_names_the_call_slack_refused_not_the_rows_method(ctx, fake_slack, caplog):
    fake_slack.fail("conversations.open", error="unknown_method")
    with ctx.transaction() as session:
        post_to_group(session, "mentor:pair:1:intro", users=["UANA", "UBEN"], text="hi", blocks=None, now=ctx.now())

    assert "Slack refused outbox message mentor:pair:1:intro: conversations.open answered 200 unknown_method" in (
        caplog.text
    )
    assert fake_slack.calls_to("chat.postMessage") == []


def test_the_log_names_the_step_of_an_upload_slack_refused(ctx, fake_slack, caplog):
    fake_slack.fail("files.getUploadURLExternal", error="not_in_channel")
    chart = {"channel": "ULEAD", "filename": "chart.png", "content_base64": "iVBORw0KGgo="}
    with ctx.transaction() as session:
        enqueue(session, "digest:chart", "files.uploadV2", chart, ctx.now())

    assert "Slack refused outbox message digest:chart: files.getUploadURLExternal answered 200 not_in_channel" in (
        caplog.text
    )
