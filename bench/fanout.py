"""The daily tip to 5,000 subscribers against a fake Slack that rate-limits chat.postMessage.

    .venv/bin/python -m bench.fanout [SUBSCRIBERS] [PER_SECOND]

`kaizen jobs run daily-tip` as a subprocess, on SQLite (and PostgreSQL when reachable), with no
other process: it returns once every message is delivered, waiting out each 429's Retry-After.
Reports its total time (start-up included) against the floor the limit allows (messages / limit),
duplicates, missing, and what it said was still waiting.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from bench import databases
from storage.db import make_session_factory
from storage.models import OutboxMessage
from storage.tips import TipSubscriber
from tests.conftest import base_env
from tests.fake_slack import FakeSlack


def fan_out(engine: Engine, subscribers: int, per_second: int) -> None:
    fake = FakeSlack().start()
    fake.limit("chat.postMessage", per_second=per_second)
    users = [f"U{n:06d}" for n in range(subscribers)]
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.add_all(TipSubscriber(user_id=user, subscribed_at=datetime.now(UTC)) for user in users)
    env = {
        **os.environ,
        **base_env(fake),
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "KAIZEN_ENV_FILE": os.devnull,
    }

    started = time.monotonic()
    job = subprocess.run(
        [sys.executable, "-m", "bot", "jobs", "run", "daily-tip", "--force"], env=env, capture_output=True, text=True
    )
    elapsed = time.monotonic() - started
    fake.stop()
    if job.returncode != 0:
        raise SystemExit(job.stderr[-2000:])

    posts = Counter(call["channel"] for call in fake.calls_to("chat.postMessage"))
    expected = ["CTIPS", *users]
    floor = len(expected) / per_second
    duplicates = sum(n - 1 for n in posts.values() if n > 1)
    missing = sum(1 for channel in expected if channel not in posts)
    waiting = [line.strip() for line in job.stdout.splitlines() if "still waiting" in line] or ["nothing"]
    print(f"{engine.dialect.name}: {len(expected)} messages, chat.postMessage limited to {per_second}/s")
    print(f"  kaizen jobs run took {elapsed:.1f} s, floor {floor:.1f} s: {elapsed / floor:.2f}x the floor")
    print(f"  duplicates {duplicates}, missing {missing}, sent again after a 429: {_retried(sessions)}")
    print(f"  still waiting when it returned: {waiting[0]}")


def _retried(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.sum(OutboxMessage.attempts - 1)))


def main(subscribers: int = 5000, per_second: int = 50) -> None:
    for engine in databases.each():
        fan_out(engine, subscribers, per_second)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
