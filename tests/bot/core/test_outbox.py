import threading
from datetime import timedelta

from sqlalchemy import select

from bot.core.context import build_context
from bot.core.outbox import CLAIM_HOLD, post_message, revise_message, update_message
from bot.features import FEATURES
from storage import outbox as store
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


def posted_texts(fake_slack, channel):
    return [call["text"] for call in fake_slack.posts_to(channel)]


def test_a_short_retry_after_is_waited_out_by_the_thread_that_wrote_it(ctx, fake_slack):
    fake_slack.fail("chat.postMessage", status=429, retry_after=2)
    post(ctx, "m1")
    assert posted_texts(fake_slack, "CKUDOS") == ["hello"]
    assert row(ctx, "m1").status == "sent" and row(ctx, "m1").attempts == 2


def test_a_longer_retry_after_is_left_to_the_sweeper_which_is_woken_and_told_when(ctx, fake_slack, clock):
    fake_slack.fail("chat.postMessage", status=429, retry_after=4)
    post(ctx, "m1")
    assert row(ctx, "m1").status == "pending" and ctx.outbox.wake.is_set()
    assert ctx.outbox.next_sweep_in() == 4.0


def test_one_channel_gets_its_messages_in_the_order_written_a_second_apart(ctx, fake_slack):
    with ctx.transaction() as session:
        for n in range(3):
            post_message(session, f"part:{n}", channel="CKUDOS", text=f"part {n}", blocks=None, now=ctx.now())
        post_message(session, "dm", channel="UANA", text="a DM", blocks=None, now=ctx.now())

    assert posted_texts(fake_slack, "CKUDOS") == ["part 0", "part 1", "part 2"]
    assert posted_texts(fake_slack, "UANA") == ["a DM"]
    sent = [row(ctx, f"part:{n}").sent_at for n in range(3)]
    assert all(later - earlier >= timedelta(seconds=1) for earlier, later in zip(sent, sent[1:], strict=False))


def test_order_holds_across_retries_and_other_channels_do_not_wait(ctx, fake_slack, clock):
    fake_slack.fail("chat.postMessage", status=503)
    post(ctx, "first", text="first")  # due again in 15 s
    with ctx.transaction() as session:
        post_message(session, "second", channel="CKUDOS", text="second", blocks=None, now=ctx.now())
        post_message(session, "elsewhere", channel="CIDEAS", text="elsewhere", blocks=None, now=ctx.now())
    assert posted_texts(fake_slack, "CKUDOS") == [] and posted_texts(fake_slack, "CIDEAS") == ["elsewhere"]

    clock.advance(seconds=10)
    assert ctx.outbox.sweep().sent == 0  # "second" is due, but "first" is before it
    clock.advance(seconds=5)
    ctx.outbox.sweep()
    assert posted_texts(fake_slack, "CKUDOS") == ["first", "second"]


def test_a_5xx_on_the_first_part_holds_back_the_second(ctx, fake_slack, clock):
    fake_slack.fail("chat.postMessage", status=500)
    with ctx.transaction() as session:
        for n in (1, 2):
            post_message(session, f"part:{n}", channel="CKUDOS", text=f"part {n}", blocks=None, now=ctx.now())
    assert posted_texts(fake_slack, "CKUDOS") == []
    clock.advance(seconds=15)
    ctx.outbox.sweep()
    assert posted_texts(fake_slack, "CKUDOS") == ["part 1", "part 2"]


def test_an_update_being_sent_is_not_dropped_so_the_newer_one_follows_it(ctx, fake_slack, clock):
    post(ctx, "idea:1:post", channel="CIDEAS", text="v0")
    clock.advance(seconds=5)
    with ctx.session_factory.begin() as session:
        update_message(session, "idea:1:update:1", of="idea:1:post", text="v1", blocks=None, now=ctx.now())
    with ctx.session_factory.begin() as session:  # another sender is sending v1 right now
        [v1_id] = store.ids_for_keys(session, ["idea:1:update:1"])
        assert store.claim(session, v1_id, clock(), timedelta(minutes=2), timedelta(seconds=1)) is not None
    with ctx.transaction() as session:
        update_message(session, "idea:1:update:2", of="idea:1:post", text="v2", blocks=None, now=ctx.now())
    assert row(ctx, "idea:1:update:1") is not None and fake_slack.calls_to("chat.update") == []

    with ctx.session_factory.begin() as session:  # v1 reached Slack
        store.mark_sent(session, v1_id, clock(), {})
    clock.advance(seconds=1)
    ctx.outbox.sweep()
    assert [call["text"] for call in fake_slack.calls_to("chat.update")] == ["v2"]


def test_a_revised_message_never_sends_its_old_words_unless_they_are_already_on_their_way(ctx, fake_slack, clock):
    def revise(of, text):
        with ctx.transaction() as session:
            revise_message(session, f"{of}:revised", of=of, text=text, blocks=None, now=ctx.now())

    fake_slack.fail("chat.postMessage", status=500)
    post(ctx, "waiting", channel="UANA", text="old words")  # waits, as Slack failed
    with ctx.transaction() as session:  # an update of it waits too, with the old words
        update_message(session, "waiting:update", of="waiting", text="old words, edited", blocks=None, now=ctx.now())
    revise("waiting", "new words")
    post(ctx, "sent", channel="UBEN", text="old words")
    with ctx.session_factory.begin() as session:  # a third one is being sent right now
        post_message(session, "in-flight", channel="UCAL", text="old words", blocks=None, now=ctx.now())
        session.flush()
        [in_flight] = store.ids_for_keys(session, ["in-flight"])
        assert store.claim(session, in_flight, clock(), timedelta(minutes=2), timedelta(seconds=1)) is not None
    revise("sent", "new words")
    revise("in-flight", "new words")
    with ctx.session_factory.begin() as session:  # it reached Slack
        store.mark_sent(session, in_flight, clock(), {"channel": "UCAL", "ts": "1.1"})

    clock.advance(seconds=20)
    ctx.outbox.sweep()

    assert [(c["channel"], c["text"]) for c in fake_slack.calls_to("chat.postMessage")] == [
        ("UBEN", "old words"),  # sent before it was revised
        ("UANA", "new words"),
    ]
    assert [(c["channel"], c["text"]) for c in fake_slack.calls_to("chat.update")] == [
        ("UBEN", "new words"),
        ("UCAL", "new words"),
    ]
    assert row(ctx, "waiting:update") is None and row(ctx, "waiting:revised") is None


def test_a_refused_token_pauses_sending_keeps_every_message_and_resumes(ctx, fake_slack, clock, caplog):
    fake_slack.fail("chat.postMessage", error="token_revoked")
    post(ctx, "m1", text="one")
    post(ctx, "m2", channel="CIDEAS", text="two")

    assert ctx.outbox.token_refused == "token_revoked"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # m2 was not even tried
    assert [(row(ctx, key).status, row(ctx, key).attempts) for key in ("m1", "m2")] == [("pending", 0)] * 2
    assert str(ctx.outbox.backlog()).startswith(
        "2 message(s) still waiting (2 × Slack refuses the bot token (token_revoked): sending is paused)"
    )
    clock.advance(minutes=5)
    assert ctx.outbox.sweep().sent == 0
    assert len([r for r in caplog.records if "refuses the bot token" in r.message]) == 1  # said once

    fake_slack.fail("auth.test", error="token_revoked")
    assert not ctx.outbox.check_token() and ctx.outbox.token_refused
    assert ctx.outbox.check_token() and ctx.outbox.token_refused is None
    assert ctx.outbox.sweep().sent == 2
    assert posted_texts(fake_slack, "CKUDOS") == ["one", "one"]  # refused, then sent
    assert posted_texts(fake_slack, "CIDEAS") == ["two"]


def test_an_unexpected_error_is_an_attempt_releases_the_claim_and_gives_up_after_24_hours(
    ctx, fake_slack, clock, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(ctx.outbox.client, "api_call", broken)
    post(ctx, "m1")
    message = row(ctx, "m1")
    assert (message.status, message.attempts, message.claimed_until) == ("pending", 1, None)
    assert message.last_error == "- unexpected RuntimeError: a bug"
    assert message.next_attempt_at == clock() + timedelta(seconds=15)
    while row(ctx, "m1").status == "pending":
        clock.set(row(ctx, "m1").next_attempt_at)
        ctx.outbox.sweep()
    assert clock() - row(ctx, "m1").created_at >= timedelta(hours=24) and row(ctx, "m1").status == "failed"


def test_a_stopping_sender_gives_back_the_claim_it_waits_with_and_claims_nothing_more(ctx, fake_slack):
    with ctx.transaction(deliver=False) as session:
        for user in ("UANA", "UBEN"):
            post_message(session, f"dm:{user}", channel=user, text="hi", blocks=None, now=ctx.now())
    sender = ctx.outbox
    sender.workers = 1
    sender.paces.rate_limited("chat.postMessage", 5, sender.clock())  # a 429 a moment ago
    sender.sleep = lambda _seconds: sender.stop()  # SIGTERM while the first DM, claimed, waits its turn

    backlog = sender.drain(["dm:UANA", "dm:UBEN"])

    assert fake_slack.calls_to("chat.postMessage") == []
    for key in ("dm:UANA", "dm:UBEN"):  # as they were: due now, for whichever sender comes next
        message = row(ctx, key)
        assert (message.status, message.claimed_until, message.attempts) == ("pending", None, 0)
        assert message.next_attempt_at == message.created_at
    assert str(backlog).startswith("2 message(s) still waiting (2 × Kaizen was stopped before sending them)")
    assert sender.sweep().sent == 0 and sender.wait_for_sends(0) == 0


def test_a_fan_out_is_left_to_the_process_draining_it_and_to_any_sender_once_it_stops(
    ctx, fake_slack, settings, engine, clock
):
    other = build_context(settings, FEATURES, engine=engine, clock=clock)  # an HTTP worker, say
    users = [f"U{n:02d}" for n in range(12)]  # more than the drain's 8 senders claim at once
    with ctx.transaction(deliver=False) as session:
        for user in users:
            post_message(session, f"dm:{user}", channel=user, text="tip", blocks=None, now=ctx.now())
    swept_meanwhile, first, first_seen = [], threading.Lock(), threading.Event()

    def first_call(call) -> bool:  # while the drain's first DM reaches Slack: the other's sweep, then SIGTERM
        if first.acquire(blocking=False):
            swept_meanwhile.append(other.outbox.sweep().sent)
            ctx.outbox.stop()
            first_seen.set()
        else:  # the drain's other DMs under way are answered after it: none frees a sender for more before
            first_seen.wait(timeout=10)
        return True

    fake_slack.on_call = first_call
    backlog = ctx.outbox.drain([f"dm:{user}" for user in users])

    assert swept_meanwhile == [0]  # its sweeper left the fan-out to the process sending it
    left = backlog.waiting
    assert left > 0 and other.outbox.sweep().sent == left  # what the stopped drain left: anyone's, at once
    assert sorted(call["channel"] for call in fake_slack.calls_to("chat.postMessage")) == users


def test_a_fan_out_left_reserved_by_a_process_that_died_is_swept_once_the_reservation_ends(ctx, fake_slack, clock):
    with ctx.transaction(deliver=False) as session:
        post_message(session, "dm:UANA", channel="UANA", text="tip", blocks=None, now=ctx.now())
        session.flush()
        store.reserve(session, store.ids_for_keys(session, ["dm:UANA"]), until=ctx.now() + CLAIM_HOLD)  # then SIGKILL

    assert ctx.outbox.sweep().sent == 0
    clock.advance(seconds=CLAIM_HOLD.total_seconds() + 1)
    assert ctx.outbox.sweep().sent == 1
