"""The daily tip to S subscribers against a fake Slack that allows R chat.postMessage a second.

    .venv/bin/python -m bench.fanout                          # both cases: 300 at 20/s, 5,000 at 50/s
    .venv/bin/python -m bench.fanout SUBSCRIBERS PER_SECOND [RUNS]

`kaizen jobs run daily-tip --force` as a subprocess, on SQLite and on PostgreSQL (when reachable), with
no other process: it returns once every message is delivered. Each database gets RUNS runs (default 2):
the first starts knowing nothing of Slack's pace, the next ones start from the pace the database kept.
Each run reports its total time (the process's start included) against the floor the limit allows
(messages / limit), how long the process took to make its first call (start-up) and to exit after
its last, the answers 429, duplicates and missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import Engine

from bench import databases
from storage.db import make_session_factory
from storage.tips import TipSubscriber
from tests.conftest import base_env
from tests.fake_slack import FakeSlack

CASES = ((300, 20), (5000, 50))


def fan_out(engine: Engine, users: list[str], per_second: int, run: int) -> None:
    fake = FakeSlack().start()
    fake.limit("chat.postMessage", per_second=per_second)
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

    calls = fake.calls_to("chat.postMessage")
    posts = Counter(call["channel"] for call in calls)
    expected = ["CTIPS", *users]
    floor = len(expected) / per_second
    duplicates = sum(n - 1 for n in posts.values() if n > 1)
    missing = sum(1 for channel in expected if channel not in posts)
    start_up = calls[0].at - started if calls else float("nan")
    exit_after = started + elapsed - calls[-1].at if calls else float("nan")
    waiting = [line.strip() for line in job.stdout.splitlines() if "still waiting" in line]
    print(
        f"  run {run}: {elapsed:5.1f} s, floor {floor:5.1f} s, {elapsed / floor:.3f}x the floor "
        f"(start-up {start_up:.2f} s, exit {exit_after:.2f} s); 429 answers {len(fake.rate_limited)}; "
        f"duplicates {duplicates}, missing {missing}" + (f"; {waiting[0]}" if waiting else "")
    )


def case(engine: Engine, subscribers: int, per_second: int, runs: int) -> None:
    users = [f"U{n:06d}" for n in range(subscribers)]
    with make_session_factory(engine).begin() as session:
        session.add_all(TipSubscriber(user_id=user, subscribed_at=datetime.now(UTC)) for user in users)
    print(f"{engine.dialect.name}: S = {subscribers + 1} messages, chat.postMessage limited to R = {per_second}/s")
    for run in range(1, runs + 1):
        fan_out(engine, users, per_second, run)


def main(cases=CASES, runs: int = 2) -> None:
    for subscribers, per_second in cases:
        for engine in databases.each():
            case(engine, subscribers, per_second, runs)


if __name__ == "__main__":
    arguments = [int(arg) for arg in sys.argv[1:4]]
    if len(arguments) >= 2:
        main([tuple(arguments[:2])], *arguments[2:])
    else:
        main()
