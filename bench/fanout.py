"""The daily tip to 5,000 subscribers against a fake Slack that rate-limits chat.postMessage.

    .venv/bin/python -m bench.fanout [SUBSCRIBERS] [PER_SECOND]

Real sleeps and the real clock, on SQLite (and PostgreSQL when reachable). The job sends its
messages as soon as it commits, as under `kaizen scheduler`; what a 429 held back is sent by
sweeps run back to back. Reports the total time against the floor the limit allows
(messages / limit), duplicates and missing.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from bench import databases
from bot.core.context import build_context
from bot.core.jobs import run_job
from bot.core.settings import load_settings
from bot.features import FEATURES
from storage.models import OutboxMessage
from storage.tips import TipSubscriber
from tests.conftest import base_env
from tests.fake_slack import FakeSlack


def fan_out(engine: Engine, subscribers: int, per_second: int) -> None:
    fake = FakeSlack().start()
    fake.limit("chat.postMessage", per_second=per_second)
    ctx = build_context(load_settings(base_env(fake)), FEATURES, engine=engine)
    users = [f"U{n:06d}" for n in range(subscribers)]
    with ctx.session_factory.begin() as session:
        session.add_all(TipSubscriber(user_id=user, subscribed_at=datetime.now(UTC)) for user in users)

    started = time.monotonic()
    run_job(ctx, "daily-tip", force=True)
    while _pending(ctx):
        if not ctx.outbox.sweep().sent:
            time.sleep(0.05)  # what is left waits for its Retry-After
    elapsed = time.monotonic() - started
    fake.stop()

    posts = Counter(call["channel"] for call in fake.calls_to("chat.postMessage"))
    expected = ["CTIPS", *users]
    floor = len(expected) / per_second
    duplicates = sum(n - 1 for n in posts.values() if n > 1)
    missing = sum(1 for channel in expected if channel not in posts)
    print(f"{engine.dialect.name}: {len(expected)} messages, chat.postMessage limited to {per_second}/s")
    print(f"  total {elapsed:.1f} s, floor {floor:.1f} s: {elapsed / floor:.2f}x the floor")
    print(f"  duplicates {duplicates}, missing {missing}, sent again after a 429: {_retried(ctx)}")


def _pending(ctx) -> int:
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).where(OutboxMessage.status == "pending"))


def _retried(ctx) -> int:
    with ctx.session_factory() as session:
        return session.scalar(select(func.sum(OutboxMessage.attempts - 1)))


def main(subscribers: int = 5000, per_second: int = 50) -> None:
    logging.disable(logging.WARNING)  # one "will be retried" line per 429 is expected here
    for engine in databases.each():
        fan_out(engine, subscribers, per_second)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
