"""Delivery as in production: listeners run after the ack on their own threads, the work after
each ack on a pool, the outbox's sweeper in the same process, real time, and no other process
(no scheduler, no sweep called by the test). We wait for what the fake Slack receives."""

from datetime import timedelta

from sqlalchemy import select

from bot.core.http import wsgi_app
from storage.models import OutboxMessage
from tests.bot.core.test_http import call
from tests.conftest import wait_for


def texts(fake_slack, channel) -> list[str]:
    return [post["text"] for post in fake_slack.posts_to(channel)]


def messages(ctx, method="chat.postMessage") -> list[OutboxMessage]:
    with ctx.session_factory() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.method == method)).all()


def test_two_kudos_in_one_second_are_both_celebrated(live_slack, fake_slack):
    live_slack.command("/kudos", "<@UANA|ana> thanks for the cover", user="UBEN")
    live_slack.command("/kudos", "<@UCARL|carl> thanks for the macro", user="UDAN")

    wait_for(lambda: len(texts(fake_slack, "CKUDOS")) == 2, "both celebrations reached the kudos channel")
    first, second = fake_slack.posts_to("CKUDOS")
    assert second.at - first.at >= 0.95  # at the channel's pace: about one a second
    wait_for(lambda: texts(fake_slack, "UANA") and texts(fake_slack, "UCARL"), "both recipients were DMed")


def test_an_idea_moved_through_four_statuses_dms_its_author_four_times(live_slack, live_ctx, fake_slack):
    live_slack.command("/idea", "Callback slots", user="UANA")
    wait_for(lambda: fake_slack.posts_to("CIDEAS"), "the idea was posted")
    for n, status in enumerate(["under-review", "planned", "in-progress", "implemented"], start=1):
        live_slack.command("/idea", f"status 1 {status}", user="ULEAD")
        # The lead clicks again once Kaizen has answered (four commands at once may be handled in any order).
        wait_for(lambda n=n: len(fake_slack.calls_to("response_url")) == n, f"the answer to change {n}")

    expected = [f"Your idea #1 is now {name}." for name in ("Under review", "Planned", "In progress", "Implemented")]
    wait_for(lambda: texts(fake_slack, "UANA") == expected, "four status DMs, in order")
    wait_for(
        lambda: (
            fake_slack.calls_to("chat.update")
            and fake_slack.calls_to("chat.update")[-1]["text"].endswith("Implemented, 0 votes")
        ),
        "the idea's message shows its last status",
    )
    wait_for(lambda: all(m.status == "sent" for m in messages(live_ctx, "chat.update")), "no update left behind")


def test_a_429_with_retry_after_is_retried_by_the_process_alone(live_slack, live_ctx, fake_slack):
    fake_slack.fail("chat.postMessage", status=429, retry_after=2)  # waited out by the request's thread
    live_slack.command("/kudos", "<@UANA|ana> thanks for the cover", user="UBEN")
    wait_for(lambda: texts(fake_slack, "CKUDOS") and texts(fake_slack, "UANA"), "the celebration and the DM")

    fake_slack.fail("chat.postMessage", status=429, retry_after=5)  # longer than a request waits: the sweeper
    live_slack.command("/kudos", "<@UCARL|carl> thanks for the macro", user="UDAN")
    wait_for(lambda: len(texts(fake_slack, "CKUDOS")) == 2 and texts(fake_slack, "UCARL"), "the second ones too")
    assert sorted(m.attempts for m in messages(live_ctx)) == [1, 1, 2, 2]


def test_a_dropped_connection_is_retried_by_the_process_alone(live_slack, live_ctx, fake_slack):
    live_ctx.outbox.first_backoff = timedelta(seconds=1)  # not 15 s: the test shows who retries, not when
    fake_slack.fail("chat.postMessage", drop=True)
    live_slack.command("/kudos", "<@UANA|ana> thanks for the cover", user="UBEN")
    wait_for(lambda: texts(fake_slack, "CKUDOS") and texts(fake_slack, "UANA"), "the celebration and the DM")


def test_a_revoked_token_pauses_sending_says_so_and_resumes(live_app, live_slack, live_ctx, fake_slack):
    live_slack.command("/kudos", "help")  # Bolt's own auth.test, before Slack refuses the token
    health = wsgi_app(live_app, live_ctx)
    fake_slack.fail("chat.postMessage", error="token_revoked")
    fake_slack.fail("auth.test", error="token_revoked", times=10)  # the sweeper probes it every 0.2 s here

    live_slack.command("/kudos", "<@UANA|ana> thanks for the cover", user="UBEN")

    wait_for(lambda: live_ctx.outbox.token_refused == "token_revoked", "sending paused")
    status, body = call(health, "GET", "/healthz")
    assert status == 503 and body.startswith("Slack refuses the bot token (token_revoked): sending is paused, ")
    assert body.endswith(" message(s) waiting\n")
    assert [(m.status, m.attempts) for m in messages(live_ctx)] == [("pending", 0)] * 2  # kept, not failed

    wait_for(lambda: texts(fake_slack, "UANA"), "sending resumed once auth.test passed")
    assert texts(fake_slack, "CKUDOS")[-1] == texts(fake_slack, "CKUDOS")[0]  # refused once, then sent
    assert call(health, "GET", "/healthz") == (200, "ok\n")
