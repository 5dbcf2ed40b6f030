"""SIGTERM in the middle of a fan-out, against a fake Slack that rate-limits chat.postMessage.

    .venv/bin/python -m bench.shutdown [MESSAGES] [PER_SECOND] [ROUNDS] [jobs|http]

On SQLite (and PostgreSQL when reachable), ROUNDS times each: `kaizen jobs run daily-tip` to MESSAGES
subscribers, and `kaizen run --http` (2 gunicorn workers) whose sweepers send MESSAGES DMs written
before it started. Once a tenth of them went out, SIGTERM; reports how long the process took to exit
and its status, how many rows it left unsent and how many of those were still claimed, then how long
one sweep (the next process) took to send the rest, and duplicates and missing ones in the end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime

from slack_sdk import WebClient
from sqlalchemy import Engine, delete, select

from bench import databases
from bot.core.outbox import OutboxSender, post_message, utc_now
from storage.db import make_session_factory
from storage.models import OutboxMessage
from storage.tips import TipSubscriber
from tests.conftest import base_env
from tests.fake_slack import FakeSlack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_mid_fan_out(engine: Engine, command: str, messages: int, per_second: int) -> str:
    fake = FakeSlack().start()
    fake.limit("chat.postMessage", per_second=per_second)
    users = [f"U{n:06d}" for n in range(messages)]
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.execute(delete(OutboxMessage))
        session.execute(delete(TipSubscriber))
        if command == "jobs":
            session.add_all(TipSubscriber(user_id=user, subscribed_at=datetime.now(UTC)) for user in users)
        else:
            for user in users:
                post_message(session, f"bench:{user}", channel=user, text="hi", blocks=None, now=datetime.now(UTC))
    env = {
        **os.environ,
        **base_env(fake),
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "KAIZEN_ENV_FILE": os.devnull,
    }
    args = ["jobs", "run", "daily-tip", "--force"]
    if command == "http":
        args = ["run", "--http", "--port", str(free_port())]
    log = tempfile.TemporaryFile()  # noqa: SIM115 -- read after the process ends
    process = subprocess.Popen([sys.executable, "-m", "bot", *args], env=env, stdout=log, stderr=log)

    def sent() -> Counter[str]:
        return Counter(call["channel"] for call in fake.calls_to("chat.postMessage") if call["channel"] in wanted)

    wanted = set(users)
    while sum(sent().values()) < messages // 10:
        time.sleep(0.01)
    process.terminate()
    signalled = time.monotonic()
    status = process.wait(timeout=60)
    stop = time.monotonic() - signalled
    log.seek(0)
    said = [line for line in log.read().decode().splitlines() if "Stopped with" in line or "Error" in line]
    log.close()
    with sessions() as session:
        unsent = list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")))
    claimed = sum(1 for row in unsent if row.claimed_until is not None)

    fake.limit("chat.postMessage", per_second=100_000)
    client = WebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])
    started = time.monotonic()
    OutboxSender(sessions, client, utc_now).sweep()
    sweep = time.monotonic() - started
    fake.stop()
    posts = sent()
    duplicates = sum(n - 1 for n in posts.values() if n > 1)
    missing = sum(1 for user in users if user not in posts)
    return (
        f"exit {status} {stop:.2f} s after SIGTERM; unsent {len(unsent)}, still claimed {claimed}; "
        f"one sweep sent the rest in {sweep:.1f} s; duplicates {duplicates}, missing {missing}"
    ) + "".join(f"\n    it said: {line}" for line in said[:3])


def main(messages: int = 1000, per_second: int = 50, rounds: int = 3, only: str = "") -> None:
    for engine in databases.each():
        for command, name in (("jobs", "kaizen jobs run daily-tip"), ("http", "kaizen run --http")):
            if only and command != only:
                continue
            print(f"{engine.dialect.name}, {name}, {messages} messages at {per_second}/s:")
            for _ in range(rounds):
                print("  " + stop_mid_fan_out(engine, command, messages, per_second))


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:4]), *sys.argv[4:5])
