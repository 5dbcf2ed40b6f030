"""The real commands as subprocesses, against the fake Slack in this process: `kaizen run --http`
delivers every message it writes with no other process running, and `kaizen jobs run` returns
once what it wrote was delivered (or says what still waits, and why)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, text

from bot.features import tables
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.tips import TipSubscriber
from tests.conftest import base_env, wait_for
from tests.slack_requests import signed_headers

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def kaizen_env(fake_slack, tmp_path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        **base_env(fake_slack),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kaizen.db'}",
        "KAIZEN_ENV_FILE": os.devnull,
    }


@pytest.fixture
def started(tmp_path):
    """Start `kaizen …` in its own process group; every process of it is killed at the end."""
    processes = []

    def start(*args: str, env: dict[str, str]) -> subprocess.Popen:
        log = open(tmp_path / f"kaizen-{len(processes)}.log", "wb")  # noqa: SIM115 -- open for its lifetime
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args], env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
        )
        processes.append((process, log))
        return process

    yield start
    for process, log in processes:
        for sig, patience in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
            if process.poll() is not None:
                break
            os.killpg(process.pid, sig)  # gunicorn's workers too
            try:
                process.wait(timeout=patience)
            except subprocess.TimeoutExpired:
                continue
        log.close()


def get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read().decode()


def kudos(port: int, fake_slack, giver: str, recipient: str) -> None:
    command(port, fake_slack, giver, "/kudos", f"<@{recipient}|{recipient.lower()}> thanks for the help")


def command(port: int, fake_slack, user: str, name: str, text: str) -> None:
    """A slash command, as Slack posts it to `kaizen run --http`; its answers go to the response URL `user`."""
    body = urlencode(
        {
            "team_id": "T1",
            "channel_id": "CGENERAL",
            "user_id": user,
            "command": name,
            "text": text,
            "response_url": fake_slack.response_url(user),
            "trigger_id": f"trigger-{user}-{name}-{len(fake_slack.calls)}",
        }
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
    connection.request("POST", "/slack/events", body=body, headers=headers)
    assert connection.getresponse().status == 200


def pending(database_url: str) -> list[str]:
    """The messages still waiting, each as method, key, attempts, when due and last error (for a failure to show)."""
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        waiting = [f"{m.method} {m.key} attempts={m.attempts} due={m.next_attempt_at} {m.last_error}" for m in rows]
    engine.dispose()
    return waiting


def delivered(fake_slack, *recipients: str) -> bool:
    """Each recipient has their kudos DM."""
    return all(fake_slack.posts_to(recipient) for recipient in recipients)


def celebrated(fake_slack) -> list[str]:
    return [post["text"] for post in fake_slack.posts_to("CKUDOS")]


def test_run_http_alone_delivers_promptly_and_retries_429s_and_5xx(started, kaizen_env, fake_slack):
    port = free_port()
    server = started("run", "--http", "--port", str(port), env=kaizen_env)

    def healthy() -> bool:
        assert server.poll() is None, "kaizen run --http exited"
        try:
            return get(port, "/healthz") == (200, "ok\n")
        except OSError:
            return False

    wait_for(healthy, "kaizen run --http answered /healthz", timeout=60)

    kudos(port, fake_slack, "UBEN", "UANA")  # two in the same second, into one channel
    kudos(port, fake_slack, "UDAN", "UCARL")
    # Each step waits for all it wrote, so the next step's failure meets the next step's messages.
    wait_for(lambda: len(celebrated(fake_slack)) == 2 and delivered(fake_slack, "UANA", "UCARL"), "both kudos")

    fake_slack.fail("chat.postMessage", status=429, retry_after=2)
    kudos(port, fake_slack, "UEVE", "UFRED")
    wait_for(lambda: len(celebrated(fake_slack)) == 3 and delivered(fake_slack, "UFRED"), "the ones that met a 429")

    fake_slack.fail("chat.postMessage", status=500)
    kudos(port, fake_slack, "UGUS", "UHAL")  # retried 15 s later, by the sweeper of the worker that wrote it
    wait_for(lambda: len(celebrated(fake_slack)) == 4 and delivered(fake_slack, "UHAL"), "the ones that met a 500", 60)

    still_pending = partial(pending, kaizen_env["DATABASE_URL"])
    wait_for(lambda: not still_pending(), "every message sent (Home tabs too)", state=still_pending)
    for recipient in ("UANA", "UCARL", "UFRED", "UHAL"):
        assert len(fake_slack.posts_to(recipient)) == 1
    assert len(celebrated(fake_slack)) == 4  # each once


@pytest.fixture
def subscribers(kaizen_env) -> list[str]:
    engine = make_engine(kaizen_env["DATABASE_URL"])
    upgrade(engine)
    users = [f"U{n:03d}" for n in range(20)]
    with make_session_factory(engine).begin() as session:
        session.add_all(TipSubscriber(user_id=user, subscribed_at=datetime.now(UTC)) for user in users)
    engine.dispose()
    return users


def jobs_run(kaizen_env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "jobs", "run", *args],
        env=kaizen_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_jobs_run_daily_tip_delivers_to_every_subscriber_before_it_returns(kaizen_env, fake_slack, subscribers):
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, after=8)  # one 429, mid-way

    result = jobs_run(kaizen_env, "daily-tip")

    assert result.returncode == 0, result.stderr
    posts = Counter(post["channel"] for post in fake_slack.calls_to("chat.postMessage"))
    assert posts == Counter(["CTIPS", *subscribers])  # every one, once, before the command returned
    assert "still waiting" not in result.stdout
    assert pending(kaizen_env["DATABASE_URL"]) == []


def test_jobs_run_says_how_many_messages_wait_and_why_when_slack_refuses_the_token(kaizen_env, fake_slack, subscribers):
    fake_slack.fail("chat.postMessage", error="token_revoked", times=100)

    result = jobs_run(kaizen_env, "daily-tip")

    assert result.returncode == 0, result.stderr
    assert (
        "  21 message(s) still waiting (21 × Slack refuses the bot token (token_revoked): sending is paused); "
        "a running Kaizen process sends them when Slack allows" in result.stdout
    )
    assert len(pending(kaizen_env["DATABASE_URL"])) == 21


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_env(request, kaizen_env) -> dict[str, str]:
    """The same environment on SQLite (migrated by `kaizen run` itself) or on PostgreSQL (migrated, emptied)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        engine = make_engine(url)
        names = ", ".join(f'"{t.name}"' for t in tables().sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        kaizen_env = {**kaizen_env, "DATABASE_URL": url}
    return kaizen_env


def test_a_team_from_a_user_group_and_its_leads_digest_about_its_people_only(started, any_database_env, fake_slack):
    kaizen_env = any_database_env
    fake_slack.add_group("STIER1", "tier1-agents", ["UANA", "UBEN"], name="Tier 1 agents")
    for user in ("UANA", "UBEN", "UCARL", "UMARIA"):
        fake_slack.add_user(user)
    port = free_port()
    started("run", "--http", "--port", str(port), env=kaizen_env)
    wait_for(lambda: _answers(port), "kaizen run --http answered /healthz", timeout=60)

    command(
        port,
        fake_slack,
        "UADMIN",
        "/kaizen",
        "team add Tier 1 lead <@UMARIA|maria> members <!subteam^STIER1|@tier1-agents>",
    )
    wait_for(lambda: fake_slack.calls_to("response_url"), "the answer to /kaizen team add")
    assert fake_slack.calls_to("response_url")[0]["text"].startswith(
        ":white_check_mark: Team *Tier 1* created: 2 people"
    )
    kudos(port, fake_slack, "UCARL", "UANA")  # to one of Tier 1's people, from someone in no team
    kudos(port, fake_slack, "UANA", "UCARL")
    wait_for(lambda: delivered(fake_slack, "UANA", "UCARL"), "both kudos")

    for job in ("member-directory", "lead-digest"):
        result = jobs_run(kaizen_env, job)
        assert result.returncode == 0, result.stderr
    assert "team digest by DM to 1 team lead(s): UMARIA" in result.stdout

    [digest] = fake_slack.posts_to("UMARIA")
    shown = digest["text"] + json.dumps(digest["blocks"], ensure_ascii=False)
    assert "*Tier 1* — 2 people" in shown and "<@UBEN> (never)" in shown  # its gap
    assert "UCARL" not in shown  # never anyone outside the team
    [org_wide] = fake_slack.posts_to("ULEAD")
    assert "• *Tier 1* — 2 people, 1 kudos this week, 50% recognised in 30 days" in json.dumps(
        org_wide["blocks"], ensure_ascii=False
    )


def _answers(port: int) -> bool:
    try:
        return get(port, "/healthz") == (200, "ok\n")
    except OSError:
        return False
