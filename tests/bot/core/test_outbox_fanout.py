from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.core.jobs import run_job
from storage.models import OutboxMessage
from storage.tips import TipSubscriber

SUBSCRIBERS = [f"U{n:05d}" for n in range(300)]


class FakeTime:
    """The sender's sleep, moving the test's clock along with it."""

    def __init__(self, clock):
        self.clock = clock
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.clock.advance(seconds=seconds)


@pytest.fixture
def subscribed(ctx, clock):
    clock.set(datetime(2026, 11, 20, 8, 30, tzinfo=UTC))  # Friday 09:30 in Paris
    with ctx.session_factory.begin() as session:
        session.add_all(TipSubscriber(user_id=user, subscribed_at=clock()) for user in SUBSCRIBERS)


def posts_by_channel(fake_slack) -> Counter:
    return Counter(call["channel"] for call in fake_slack.calls_to("chat.postMessage"))


def pending(ctx) -> int:
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).where(OutboxMessage.status == "pending"))


def test_daily_tip_waits_out_retry_after_and_reaches_everyone_once(ctx, fake_slack, clock, subscribed):
    time = FakeTime(clock)
    ctx.outbox.clock, ctx.outbox.sleep, ctx.outbox.workers = clock, time.sleep, 1
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=2)

    report = run_job(ctx, "daily-tip")

    assert posts_by_channel(fake_slack) == Counter(["CTIPS", *SUBSCRIBERS])  # each exactly once
    assert time.sleeps == [1.0, 1.0]  # Retry-After honoured, and nothing else waited for
    assert pending(ctx) == 0 and report.backlog.waiting == 0


def test_parallel_senders_through_429s_send_each_message_once_before_the_job_returns(
    ctx, fake_slack, clock, subscribed
):
    assert ctx.outbox.workers > 1
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=20)

    report = run_job(ctx, "daily-tip")

    assert posts_by_channel(fake_slack) == Counter(["CTIPS", *SUBSCRIBERS])
    assert pending(ctx) == 0 and report.backlog.waiting == 0


def test_a_fan_out_that_cannot_finish_says_how_many_wait_and_why(ctx, fake_slack, clock, subscribed):
    fake_slack.fail("chat.postMessage", status=503, times=10_000)  # Slack is down for the whole drain

    report = run_job(ctx, "daily-tip")

    assert report.backlog.waiting == len(SUBSCRIBERS) + 1 == pending(ctx)
    assert str(report.backlog).startswith(f"{len(SUBSCRIBERS) + 1} message(s) still waiting (301 × 503 internal_error)")
