"""The pace of each Web API method: learned from Slack's 429s, kept in the database, shared by every
process (bot.core.outbox.Paces). Times are given, never read from a clock."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core import outbox
from bot.core.context import build_context
from bot.core.outbox import PACE_CALM, PACE_MARGIN, PACE_STEP, PACE_WINDOW, Paces, post_message
from bot.features import FEATURES
from storage.models import OutboxMessage, SlackPace
from tests.conftest import OutboxTime

METHOD = "chat.postMessage"
START = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def learned(ctx) -> Paces:
    """A sender that made 10 calls in half a second, then met a 429 with Retry-After: 1 at 0.5 s."""
    paces = Paces(ctx.session_factory)
    for n in range(10):
        assert paces.take_turn(METHOD, at(n * 0.05), longest_wait=0.0) == 0.0  # no pace yet: as they come
        paces.call_passed(METHOD, at(n * 0.05))
    paces.rate_limited(METHOD, 1.0, at(0.5))
    return paces


def send_at_pace(paces: Paces, start: float, until: float, every: float = 0.0) -> float:
    """Calls that pass, each at its turn (and at least `every` seconds apart), from `start` to `until`;
    returns when the last one passed."""
    moment = start
    while moment < until:
        moment += paces.take_turn(METHOD, at(moment), longest_wait=10.0)
        paces.call_passed(METHOD, at(moment))
        moment += every
    return moment


def per_second(paces: Paces) -> float:
    return paces.methods[METHOD].per_second


def test_a_429_pauses_the_method_for_retry_after_and_teaches_the_pace_that_passed(ctx):
    paces = learned(ctx)

    assert paces.take_turn(METHOD, at(0.5), longest_wait=5.0) == pytest.approx(1.0)  # Retry-After, exactly
    turns = [paces.take_turn(METHOD, at(0.5), longest_wait=5.0) for _ in range(2)]
    assert turns == pytest.approx([1.102, 1.204])  # 10 passed in the second: a little under, 1.02/10 s apart
    assert paces.take_turn("views.publish", at(0.5), longest_wait=0.0) == 0.0  # other methods go on
    # A call on its way when the 429 came, that Slack let pass, was allowed too: 11 passed.
    paces.call_passed(METHOD, at(0.52))
    assert per_second(paces) == pytest.approx(11 / PACE_MARGIN)
    # A turn further off than the caller would wait is not taken.
    assert paces.take_turn(METHOD, at(0.5), longest_wait=1.0) == paces.take_turn(METHOD, at(0.5), longest_wait=1.0)


def test_calls_a_stall_bunched_up_still_keep_to_the_pace_within_a_second(ctx):
    paces = learned(ctx)  # 9.8 a second: no more than 10 start within PACE_WINDOW
    # Turns were taken 0.1 s apart, then the machine stalled: the workers all wake at 3.0.
    assert [paces.clear_to_call(METHOD, at(3.0)) for _ in range(10)] == [0.0] * 10
    assert paces.clear_to_call(METHOD, at(3.0)) == pytest.approx(PACE_WINDOW)
    assert paces.clear_to_call(METHOD, at(3.0 + PACE_WINDOW)) == 0.0


def test_each_later_429_lowers_the_pace_once(ctx):
    paces = learned(ctx)
    paces.rate_limited(METHOD, 1.0, at(0.6))  # a call on its way before the pause: no lower
    assert per_second(paces) == pytest.approx(10 / PACE_MARGIN)

    moment = send_at_pace(paces, 0.6, until=3.5)
    paces.rate_limited(METHOD, 1.0, at(moment))  # at that pace: a little too fast
    assert per_second(paces) == pytest.approx(10 / PACE_MARGIN**2)

    # Clearly fewer passed in the last second than the pace allows (Slack's limit fell): that.
    resumed = moment + 1.0
    for n in range(4):
        paces.call_passed(METHOD, at(resumed + 0.2 + n * 0.25))
    paces.rate_limited(METHOD, 1.0, at(resumed + 1.1))
    assert per_second(paces) == pytest.approx(4 / PACE_MARGIN)


def test_the_pace_rises_a_step_after_a_calm_spell_of_calls_at_that_pace(ctx):
    paces = learned(ctx)
    send_at_pace(paces, 0.5, until=0.5 + PACE_CALM + 1.0)
    assert per_second(paces) == pytest.approx(10 / PACE_MARGIN * (1 + PACE_STEP))


def test_a_pace_kept_from_an_earlier_run_rises_only_after_a_calm_spell_of_this_runs_calls(ctx):
    learned(ctx)
    tomorrow = 24 * 3600.0
    next_run = Paces(ctx.session_factory)  # the next day's job starts at the pace kept, long unchanged
    moment = send_at_pace(next_run, tomorrow, until=tomorrow + PACE_CALM - 1.0)
    assert per_second(next_run) == pytest.approx(10 / PACE_MARGIN)  # no rise at its first calls
    send_at_pace(next_run, moment, until=tomorrow + PACE_CALM + 1.0)
    assert per_second(next_run) == pytest.approx(10 / PACE_MARGIN * (1 + PACE_STEP))


def test_processes_sending_at_the_pace_together_raise_it_after_a_calm_spell(ctx):
    first = learned(ctx)
    second = Paces(ctx.session_factory)  # another process: each makes half the calls, neither alone at the pace
    moment = 1.5
    while moment < 1.5 + PACE_CALM + 1.0:
        for paces in (first, second):
            turn = moment + paces.take_turn(METHOD, at(moment), longest_wait=10.0)
            paces.call_passed(METHOD, at(turn))
        moment = turn
    assert per_second(first) == pytest.approx(10 / PACE_MARGIN * (1 + PACE_STEP))


def test_a_method_called_now_and_then_does_not_creep_up(ctx):
    sparse = learned(ctx)
    send_at_pace(sparse, 0.5, until=0.5 + 3 * PACE_CALM, every=2.0)
    assert per_second(sparse) == pytest.approx(10 / PACE_MARGIN)


def test_the_pace_one_sender_learned_is_where_another_process_starts_and_follows(ctx):
    first = learned(ctx)
    with ctx.session_factory() as session:
        kept = session.get(SlackPace, METHOD)
    assert kept.per_second == pytest.approx(10 / PACE_MARGIN) and kept.paused_until == at(1.5)

    other = Paces(ctx.session_factory)  # another process on the same database, or the next job run
    assert other.take_turn(METHOD, at(0.6), longest_wait=5.0) == pytest.approx(0.9)  # paused there too
    assert other.take_turn(METHOD, at(0.6), longest_wait=5.0) == pytest.approx(0.9 + PACE_MARGIN / 10)

    first.rate_limited(METHOD, 5.0, at(2.0))  # a 429 the other did not meet
    assert other.take_turn(METHOD, at(2.1), longest_wait=10.0) == pytest.approx(4.9)
    assert per_second(other) == pytest.approx(10 / PACE_MARGIN**2)


def test_processes_take_their_turns_from_one_pace_not_each_at_it(ctx):
    first = learned(ctx)  # 10 / 1.02 a second, paused until 1.5
    second = Paces(ctx.session_factory)  # another HTTP worker, or the scheduler, sending at the same time
    turns = [paces.take_turn(METHOD, at(1.5), longest_wait=5.0) for _ in range(3) for paces in (first, second)]
    assert turns == pytest.approx([n * PACE_MARGIN / 10 for n in range(6)], abs=1e-6)  # together at the pace


def test_a_429_met_in_the_pause_another_process_began_lowers_the_pace_no_more(ctx):
    second = Paces(ctx.session_factory)
    second.refresh(at(0.3))  # it read the shared paces just before the first process met its 429
    learned(ctx)  # a 429 at 0.5 taught 10 / 1.02 a second, and paused the method until 1.5

    second.rate_limited(METHOD, 1.0, at(0.55))  # its own call, on its way in that pause, answered 429

    assert per_second(second) == pytest.approx(10 / PACE_MARGIN)
    with ctx.session_factory() as session:
        assert session.get(SlackPace, METHOD).per_second == pytest.approx(10 / PACE_MARGIN)


def post(context, key, channel):
    with context.transaction() as session:
        post_message(session, key, channel=channel, text="hello", blocks=None, now=context.now())


def test_a_429_met_by_one_sender_holds_back_the_senders_of_other_processes(ctx, fake_slack, settings, engine, clock):
    other = build_context(settings, FEATURES, engine=engine, clock=clock)  # another process, same database
    OutboxTime(clock).drive(other.outbox)
    fake_slack.fail(METHOD, status=429, retry_after=30)

    post(ctx, "m1", channel="C1")  # answered 429
    post(other, "m2", channel="C2")

    assert fake_slack.calls_to(METHOD) == []  # the other process did not ask Slack either
    with ctx.session_factory() as session:
        waiting = {m.key: m.next_attempt_at for m in session.scalars(select(OutboxMessage))}
    assert waiting == {"m1": clock() + timedelta(seconds=30), "m2": clock() + timedelta(seconds=30)}

    clock.advance(seconds=30)
    assert other.outbox.sweep().sent == 2
    assert sorted(call["channel"] for call in fake_slack.calls_to(METHOD)) == ["C1", "C2"]


def test_a_sender_calls_at_its_turn_however_long_taking_the_turn_took(ctx, fake_slack, clock):
    outbox_time, slept = OutboxTime(clock), []
    outbox_time.drive(ctx.outbox)

    def slow_take(method, now, longest_wait):  # the turn is 0.3 s off; taking it took 0.1 s (a busy database)
        outbox_time.sleep(0.1)
        return 0.3

    def sleep(seconds):
        slept.append(seconds)
        outbox_time.sleep(seconds)

    ctx.outbox.paces.take_turn, ctx.outbox.sleep = slow_take, sleep
    post(ctx, "m1", channel="C1")

    assert slept == [pytest.approx(0.2)]  # not 0.3 more: that call would be late, and bunch with the next
    assert outbox_time.now() == clock() + timedelta(seconds=0.3) and len(fake_slack.calls_to(METHOD)) == 1


def test_senders_starting_together_each_wait_for_the_pace_kept_while_one_reads_it(ctx, monkeypatch):
    learned(ctx)  # kept: 10 / 1.02 a second
    paces = Paces(ctx.session_factory)  # the next run's: its senders start at once
    reading, read_on = threading.Event(), threading.Event()

    def slow_read(session):  # SQLite's writers queue at the start of a run
        reading.set()
        read_on.wait(timeout=5)
        return read_kept(session)

    read_kept = outbox.store.paces
    monkeypatch.setattr(outbox.store, "paces", slow_read)
    turns = []

    def sender() -> None:
        turns.append(paces.take_turn(METHOD, at(2.0), longest_wait=10.0))

    first, second = threading.Thread(target=sender), threading.Thread(target=sender)
    first.start()
    reading.wait(timeout=5)
    second.start()  # while the first reads the pace kept
    second.join(timeout=0.2)
    read_on.set()
    first.join(), second.join()

    assert sorted(turns) == pytest.approx([0.0, PACE_MARGIN / 10])  # one after the other, not both at once
