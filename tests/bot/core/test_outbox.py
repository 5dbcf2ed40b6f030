import threading
from datetime import timedelta

from sqlalchemy import select

from bot.core.context import build_context
from bot.core.outbox import post_message, update_message
from bot.features import FEATURES
from storage.models import OutboxMessage
from tests.conftest import OutboxTime


def post(ctx, key, channel="CKUDOS", text="hello"):
    with ctx.transaction() as session:
        post_message(session, key, channel=channel, text=text, blocks=None, now=ctx.now())


def row(ctx, key) -> OutboxMessage:
    with ctx.session_factory() as session:
        return session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))


def test_sent_after_commit_once(ctx, fake_slack):
    post(ctx, "m1")
    assert [c["text"] for c in fake_slack.calls_to("chat.postMessage")] == ["hello"]
    assert row(ctx, "m1").status == "sent" and row(ctx, "m1").result["ts"]
    assert ctx.outbox.sweep().sent == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_rolled_back_transaction_sends_nothing(ctx, fake_slack):
    try:
        with ctx.transaction() as session:
            post_message(session, "m1", channel="C1", text="x", blocks=None, now=ctx.now())
            raise RuntimeError
    except RuntimeError:
        pass
    assert fake_slack.calls_to("chat.postMessage") == [] and row(ctx, "m1") is None


def test_429_honours_retry_after(ctx, fake_slack, clock):
    fake_slack.fail("chat.postMessage", status=429, retry_after=7)
    post(ctx, "m1")
    message = row(ctx, "m1")
    assert message.status == "pending" and message.next_attempt_at == clock() + timedelta(seconds=7)
    assert "429" in message.last_error

    clock.advance(seconds=6)
    assert ctx.outbox.sweep().sent == 0
    clock.advance(seconds=1)
    assert ctx.outbox.sweep().sent == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1 and row(ctx, "m1").status == "sent"


def test_5xx_and_dropped_connections_back_off_then_send_once(ctx, fake_slack, clock):
    fake_slack.fail("chat.postMessage", status=500)
    fake_slack.fail("chat.postMessage", drop=True)
    post(ctx, "m1")  # first try: 500
    assert row(ctx, "m1").next_attempt_at == clock() + timedelta(seconds=15)
    clock.advance(seconds=15)
    assert ctx.outbox.sweep().retrying == 1  # second try: connection dropped
    assert "connection" in row(ctx, "m1").last_error
    assert row(ctx, "m1").next_attempt_at == clock() + timedelta(seconds=30)
    clock.advance(seconds=30)
    assert ctx.outbox.sweep().sent == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_pending_messages_survive_a_restart(ctx, fake_slack, settings, engine, clock):
    fake_slack.fail("chat.postMessage", status=503, times=2)
    post(ctx, "m1")
    post(ctx, "m2", channel="CIDEAS")
    assert fake_slack.calls_to("chat.postMessage") == []

    restarted = build_context(settings, FEATURES, engine=engine, clock=clock)  # a new process, same database
    OutboxTime(clock).drive(restarted.outbox)
    clock.advance(minutes=1)
    assert restarted.outbox.sweep().sent == 2
    assert sorted(c["channel"] for c in fake_slack.calls_to("chat.postMessage")) == ["CIDEAS", "CKUDOS"]


def test_keeps_retrying_for_24_hours_then_gives_up(ctx, fake_slack, clock):
    fake_slack.fail("chat.postMessage", status=500, times=1000)
    post(ctx, "m1")
    attempts = 1
    while row(ctx, "m1").status == "pending":
        clock.set(row(ctx, "m1").next_attempt_at)
        ctx.outbox.sweep()
        attempts += 1
    assert row(ctx, "m1").status == "failed"
    assert clock() - row(ctx, "m1").created_at >= timedelta(hours=24)
    assert attempts > 40  # backoff is capped at 30 minutes


def test_a_final_slack_error_is_not_retried(ctx, fake_slack, clock):
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    post(ctx, "m1")
    assert row(ctx, "m1").status == "failed" and "channel_not_found" in row(ctx, "m1").last_error
    clock.advance(hours=1)
    assert ctx.outbox.sweep().sent == 0


def test_two_senders_send_each_message_once(ctx, fake_slack, settings, engine, clock):
    fake_slack.fail("chat.postMessage", status=500, times=30)
    for n in range(30):
        post(ctx, f"m{n}", channel=f"C{n}")
    clock.advance(minutes=1)
    other = build_context(settings, FEATURES, engine=engine, clock=clock)
    OutboxTime(clock).drive(other.outbox)
    barrier = threading.Barrier(2)

    def sweep(sender):
        barrier.wait()
        sender.sweep()

    threads = [threading.Thread(target=sweep, args=(s,)) for s in (ctx.outbox, other.outbox)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    channels = [c["channel"] for c in fake_slack.calls_to("chat.postMessage")]
    assert sorted(channels) == sorted(f"C{n}" for n in range(30))


def test_an_update_waits_for_its_post_and_only_the_latest_is_sent(ctx, fake_slack, clock):
    fake_slack.fail("chat.postMessage", status=500)
    post(ctx, "idea:1:post", channel="CIDEAS", text="v0")
    for n in (1, 2):
        with ctx.transaction() as session:
            update_message(session, f"idea:1:update:{n}", of="idea:1:post", text=f"v{n}", blocks=None, now=ctx.now())
    assert fake_slack.calls_to("chat.update") == []

    clock.advance(seconds=15)
    ctx.outbox.sweep()  # sends the post
    clock.advance(seconds=5)
    ctx.outbox.sweep()  # then the update, now that the post has a ts
    [posted] = fake_slack.calls_to("chat.postMessage")
    [updated] = fake_slack.calls_to("chat.update")
    assert (
        updated["text"] == "v2"
        and updated["channel"] == "CIDEAS"
        and updated["ts"] == row(ctx, "idea:1:post").result["ts"]
    )


def test_an_update_of_a_post_slack_refused_fails_instead_of_waiting_forever(ctx, fake_slack, clock):
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    post(ctx, "idea:1:post", channel="CGONE")
    with ctx.transaction() as session:
        update_message(session, "idea:1:update:1", of="idea:1:post", text="v1", blocks=None, now=ctx.now())
    assert row(ctx, "idea:1:update:1").status == "failed"
    clock.advance(minutes=5)
    assert ctx.outbox.sweep().sent == 0 and fake_slack.calls_to("chat.update") == []
