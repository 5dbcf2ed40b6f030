"""The real commands as subprocesses, against the fake Slack in this process: `kaizen run --http`
delivers every message it writes with no other process running, `kaizen run` (Socket Mode) comes
back on its own when its Socket Mode server goes away and returns, and `kaizen jobs run` returns
once what it wrote was delivered (or says what still waits, and why)."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk import WebClient
from sqlalchemy import select, text

from bot.core.outbox import OutboxSender, post_message, utc_now
from bot.core.settings import WEEKDAYS
from bot.features import tables
from storage.db import make_engine, make_session_factory
from storage.goals import Goal
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.tips import TipSubscriber
from tests.conftest import base_env, wait_for
from tests.fake_socket_mode import FakeSocketMode
from tests.help_desk import ZENDESK_PATH, ZENDESK_SECRET, rating, zendesk_headers
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


def kudos(port: int, fake_slack, giver: str, recipient: str, text: str = "thanks for the help") -> None:
    command(port, fake_slack, giver, "/kudos", f"<@{recipient}|{recipient.lower()}> {text}" if recipient else text)


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
            "trigger_id": f"trigger-{user}-{uuid.uuid4().hex}",
        }
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
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


def wait_until_healthy(server: subprocess.Popen, port: int) -> None:
    def healthy() -> bool:
        assert server.poll() is None, "kaizen exited"
        try:
            return get(port, "/healthz") == (200, "ok\n")
        except OSError:
            return False

    wait_for(healthy, "kaizen answered /healthz", timeout=60)


def run_http(started, kaizen_env) -> int:
    """Start `kaizen run --http` (gunicorn) and wait until it answers; its port."""
    port = free_port()
    wait_until_healthy(started("run", "--http", "--port", str(port), env=kaizen_env), port)
    return port


def test_run_http_alone_delivers_promptly_and_retries_429s_and_5xx(started, kaizen_env, fake_slack):
    port = run_http(started, kaizen_env)

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


def raw_post(port: int, head: str, body: bytes = b"") -> bytes:
    """POST /slack/events with the headers in `head`, then `body` as it is (chunks and all): the status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(f"POST /slack/events HTTP/1.1\r\nHost: kaizen\r\n{head}\r\n".encode() + body)
        return connection.makefile("rb").readline().strip()


def test_run_http_refuses_a_slack_body_over_1_mb_unread_and_reads_chunked_ones_up_to_it(
    started, kaizen_env, fake_slack
):
    port = run_http(started, kaizen_env)

    assert raw_post(port, "Content-Length: 52428800\r\n") == b"HTTP/1.1 413 Request Entity Too Large"
    over_1_mb = 1024 * 1024 + 1
    chunk = f"{over_1_mb:x}\r\n".encode() + b"x" * over_1_mb + b"\r\n0\r\n\r\n"
    assert raw_post(port, "Transfer-Encoding: chunked\r\n", chunk) == b"HTTP/1.1 413 Request Entity Too Large"

    body = urlencode(
        {
            "team_id": "T1",
            "channel_id": "CGENERAL",
            "user_id": "UBEN",
            "command": "/kudos",
            "text": "<@UANA|ana> thanks for the help",
            "response_url": fake_slack.response_url("UBEN"),
            "trigger_id": "trigger-chunked",
        }
    ).encode()
    head = "".join(f"{name}: {value}\r\n" for name, value in signed_headers(body.decode()).items())
    head += "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
    halves = (body[:100], body[100:])
    chunks = b"".join(f"{len(half):x}\r\n".encode() + half + b"\r\n" for half in halves) + b"0\r\n\r\n"
    assert raw_post(port, head, chunks) == b"HTTP/1.1 200 OK"  # gunicorn decodes it, Bolt verifies it
    wait_for(lambda: delivered(fake_slack, "UANA"), "the kudos sent in chunks")


@pytest.fixture
def socket_mode(fake_slack):
    """A Socket Mode server, where the fake Slack's apps.connections.open sends the bot."""
    server = FakeSocketMode().start()
    fake_slack.socket_mode_url = server.url
    yield server
    if server.server is not None:
        server.stop()


def test_run_in_socket_mode_comes_back_on_its_own_when_the_socket_mode_server_went_away(
    started, kaizen_env, fake_slack, socket_mode, tmp_path
):
    port = free_port()
    fake_slack.add_user("UANA", "ana", email="ana@example.com")
    env = {**kaizen_env, "SLACK_APP_TOKEN": "xapp-test", "KAIZEN_ZENDESK_SECRET": ZENDESK_SECRET}
    server = started("run", "--port", str(port), env=env)
    log = tmp_path / "kaizen-0.log"

    def readyz() -> tuple[int, str] | None:
        assert server.poll() is None, "kaizen run exited:\n" + log.read_text()
        try:
            return get(port, "/readyz")
        except OSError:
            return None

    def logged(line: str) -> int:
        return log.read_text().count(line)

    wait_for(lambda: readyz() == (200, "ok\n"), "connected: /readyz answers 200", timeout=60, state=readyz)

    socket_mode.stop()  # gone as a killed process goes: no close frame, the port refuses connections
    wait_for(lambda: readyz() == (503, "socket disconnected\n"), "/readyz says the socket is down", state=readyz)
    wait_for(lambda: logged("Socket Mode: could not connect") >= 2, "two attempts, each logged", state=log.read_text)
    # Meanwhile a help desk thanks Ana on --port: what that writes goes out over the Web API all the same.
    body = rating("4711")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(
        "POST", ZENDESK_PATH, body, {"Content-Type": "application/json", **zendesk_headers(body, datetime.now(UTC))}
    )
    assert connection.getresponse().status == 200
    wait_for(lambda: fake_slack.posts_to("UANA"), "the compliment's DM, written while the socket was down")

    socket_mode.start()  # back, on the same port
    # The next attempt comes after the backoff reached meanwhile (1 s, 2 s, 4 s…): a loaded machine may take a while.
    wait_for(lambda: logged("Socket Mode: connected again") == 1, "connected again", timeout=60, state=log.read_text)
    wait_for(lambda: readyz() == (200, "ok\n"), "/readyz answers 200 again", state=readyz)
    envelope = socket_mode.command(
        "/kudos", "<@UBEN|ben> thanks for the cover", user="UCARL", response_url=fake_slack.response_url("UCARL")
    )
    wait_for(lambda: envelope in socket_mode.acks, "the command's envelope acknowledged over the new connection")
    wait_for(lambda: delivered(fake_slack, "UBEN") and celebrated(fake_slack), "the command answered")

    text = log.read_text()
    assert "Socket Mode: the connection was lost (WebSocketConnectionClosedException" in text
    assert re.search(r"Socket Mode: connecting again in \d+ s \(attempt 2\)", text)
    assert len(socket_mode.open_connections()) == 1


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


def requests_by_worker(shared: Path) -> dict[str, float]:
    """What each gunicorn worker counted in kaizen_requests_total, by its pid (from its own file)."""
    counted: dict[str, float] = {}
    for path in shared.glob("counter_*.db"):
        pid = path.stem.removeprefix("counter_")
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            if json.loads(key)[1] == "kaizen_requests_total":
                counted[pid] = counted.get(pid, 0) + value
    return counted


def scraped_requests(port: int) -> float:
    status, page = get(port, "/metrics")
    assert status == 200
    [family] = [f for f in text_string_to_metric_families(page) if f.name == "kaizen_requests"]
    return sum(sample.value for sample in family.samples if sample.labels == {"kind": "command"})


def test_metrics_sum_the_counts_of_both_gunicorn_workers_and_the_log_is_json(started, kaizen_env, fake_slack, tmp_path):
    shared = tmp_path / "metrics"
    shared.mkdir()
    stale = MmapedDict(str(shared / "counter_1.db"))  # counts a run before this one left behind
    stale.write_value(mmap_key("kaizen_requests", "kaizen_requests_total", ["kind"], ["command"], "x"), 1000.0, 0.0)
    stale.close()
    env = {**kaizen_env, "PROMETHEUS_MULTIPROC_DIR": str(shared), "KAIZEN_LOG_FORMAT": "json"}
    port = free_port()
    server = started("run", "--http", "--workers", "2", "--port", str(port), env=env)
    wait_until_healthy(server, port)
    assert not (shared / "counter_1.db").exists()

    sent = 0
    with ThreadPoolExecutor(4) as pool:  # four at once, so both workers take some

        def both_workers_served() -> bool:
            nonlocal sent
            list(pool.map(lambda n: kudos(port, fake_slack, f"U{sent + n}", "", "help"), range(4)))
            sent += 4
            assert sent <= 400, f"one worker took every request: {requests_by_worker(shared)}"
            return len(requests_by_worker(shared)) == 2

        wait_for(both_workers_served, "both workers served requests", timeout=120)

    by_worker = requests_by_worker(shared)
    assert sum(by_worker.values()) == sent and all(0 < n < sent for n in by_worker.values()), by_worker
    for _ in range(6):  # whichever worker answers the scrape, it sums both
        assert scraped_requests(port) == sent
    server.terminate()
    server.wait(timeout=30)
    log = (tmp_path / "kaizen-0.log").read_text()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in lines), log
    assert "xoxb-" not in log


def test_the_scheduler_serves_its_jobs_metrics_on_its_port(started, kaizen_env, fake_slack):
    port = free_port()
    server = started("scheduler", "--port", str(port), env=kaizen_env)
    wait_until_healthy(server, port)

    def member_directory_ran() -> bool:
        status, page = get(port, "/metrics")
        samples = [s for family in text_string_to_metric_families(page) for s in family.samples]
        return status == 200 and any(
            s.name == "kaizen_job_runs_total"
            and s.labels == {"job": "member-directory", "outcome": "ran"}
            and s.value == 1
            for s in samples
        )

    wait_for(member_directory_ran, "the scheduler's start-up run of member-directory counted at /metrics")


@pytest.fixture
def postgres_env(kaizen_env, postgres_url) -> dict[str, str]:
    """The environment on the tests' PostgreSQL database (migrated, emptied); skipped when it is unreachable."""
    engine = make_engine(postgres_url)
    names = ", ".join(f'"{t.name}"' for t in tables().sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return {**kaizen_env, "DATABASE_URL": postgres_url}


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_env(request, kaizen_env) -> dict[str, str]:
    """The same environment on SQLite (migrated by `kaizen run` itself) or on PostgreSQL (migrated, emptied)."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_env")
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


# --- SIGTERM in the middle of a fan-out -----------------------------------------------------
SLOW_PACE = 20  # chat.postMessage calls a second the fake Slack lets through, so a fan-out takes seconds
STOP_WITHIN = 10  # seconds from SIGTERM to the exit, as the README promises


def outbox_rows(database_url: str) -> list[OutboxMessage]:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    engine.dispose()
    return rows


def dms_to(fake_slack, users: list[str]) -> Counter[str]:
    """How many messages each of `users` was sent."""
    wanted = set(users)
    return Counter(post["channel"] for post in fake_slack.calls_to("chat.postMessage") if post["channel"] in wanted)


def stopped_with_claims_given_back(process: subprocess.Popen, database_url: str) -> list[OutboxMessage]:
    """SIGTERM `process`, see it exit 0 in time, and return the rows it left unsent: none of them claimed."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_WITHIN) == 0
    unsent = [row for row in outbox_rows(database_url) if row.status == "pending"]
    assert unsent, "the fan-out was over before SIGTERM came: nothing shows what a stop leaves"
    assert [row.key for row in unsent if row.claimed_until is not None] == []
    return unsent


def next_process_sweeps(database_url: str, fake_slack) -> None:
    """What the next Kaizen process does first: one sweep sends whatever is due now. A row whose claim
    was not given back is not due until the claim expires, two minutes on."""
    fake_slack.limit("chat.postMessage", 10_000)
    engine = make_engine(database_url)
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url, retry_handlers=[])
    OutboxSender(make_session_factory(engine), client, utc_now).sweep()
    engine.dispose()


def test_sigterm_to_jobs_run_mid_fan_out_exits_0_and_the_next_process_sends_the_rest_once(
    started, any_database_env, fake_slack, tmp_path
):
    env, users = any_database_env, [f"U{n:03d}" for n in range(200)]
    engine = make_engine(env["DATABASE_URL"])
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        session.add_all(TipSubscriber(user_id=user, subscribed_at=datetime.now(UTC)) for user in users)
    engine.dispose()
    fake_slack.limit("chat.postMessage", SLOW_PACE)

    job = started("jobs", "run", "daily-tip", env=env)
    wait_for(lambda: sum(dms_to(fake_slack, users).values()) >= 20, "the fan-out under way")
    unsent = stopped_with_claims_given_back(job, env["DATABASE_URL"])

    assert set(dms_to(fake_slack, users).values()) == {1}  # none twice so far
    said = (tmp_path / "kaizen-0.log").read_text()
    assert f"{len(unsent)} message(s) still waiting ({len(unsent)} × Kaizen was stopped before sending them)" in said
    next_process_sweeps(env["DATABASE_URL"], fake_slack)
    assert dms_to(fake_slack, users) == Counter(users)  # every one, once
    assert len(fake_slack.posts_to("CTIPS")) == 1
    assert pending(env["DATABASE_URL"]) == []


def test_sigterm_to_a_gunicorn_worker_then_to_kaizen_run_http_mid_fan_out_loses_and_doubles_nothing(
    started, kaizen_env, fake_slack, tmp_path
):
    users = [f"U{n:03d}" for n in range(400)]
    engine = make_engine(kaizen_env["DATABASE_URL"])
    upgrade(engine)
    with make_session_factory(engine).begin() as session:  # a fan-out another process wrote
        for user in users:
            post_message(session, f"fan-out:{user}", channel=user, text="hello", blocks=None, now=datetime.now(UTC))
    engine.dispose()
    fake_slack.limit("chat.postMessage", SLOW_PACE)
    log = tmp_path / "kaizen-0.log"
    port = free_port()
    server = started("run", "--http", "--workers", "1", "--port", str(port), env=kaizen_env)
    wait_until_healthy(server, port)

    def sent() -> int:
        return sum(dms_to(fake_slack, users).values())

    def workers() -> list[str]:
        return re.findall(r"Booting worker with pid: (\d+)", log.read_text())

    # The worker's sweeper sends the fan-out; gunicorn replaces a worker that was sent SIGTERM alone.
    wait_for(lambda: sent() >= 20, "the worker sending the fan-out")
    [first] = workers()
    os.kill(int(first), signal.SIGTERM)
    wait_for(lambda: len(workers()) == 2, "a new worker", state=log.read_text)
    wait_for(lambda: sent() >= 100, "the new worker sending the rest")
    said = log.read_text()  # it ended by itself, in time: not killed, and with status 0
    assert f"Worker (pid:{first}) was sent SIGKILL" not in said and f"Worker (pid:{first}) exited with code" not in said
    # Then SIGTERM to `kaizen run --http` itself (gunicorn's master), mid-way through the new worker's sending.
    stopped_with_claims_given_back(server, kaizen_env["DATABASE_URL"])

    assert set(dms_to(fake_slack, users).values()) == {1}
    next_process_sweeps(kaizen_env["DATABASE_URL"], fake_slack)
    assert dms_to(fake_slack, users) == Counter(users)
    assert pending(kaizen_env["DATABASE_URL"]) == []


@pytest.mark.parametrize("command", ["run", "scheduler"])
def test_sigterm_to_the_scheduler_mid_fan_out_closes_the_socket_and_exits_0(
    command, started, kaizen_env, fake_slack, socket_mode
):
    """`kaizen run` (Socket Mode) or `kaizen scheduler`, whose catch-up at start sends the goal check-ins
    scheduled a minute ago to 300 people."""
    users = [f"U{n:03d}" for n in range(300)]
    engine = make_engine(kaizen_env["DATABASE_URL"])
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        now = datetime.now(UTC)
        session.add_all(Goal(owner_id=user, number=1, title="Ship it", created_at=now) for user in users)
    engine.dispose()
    fake_slack.limit("chat.postMessage", SLOW_PACE)
    due = datetime.now(ZoneInfo(kaizen_env["KAIZEN_TIMEZONE"])) - timedelta(minutes=1)
    env = {**kaizen_env, "KAIZEN_CHECKIN_AT": f"{WEEKDAYS[due.weekday()]} {due:%H:%M}", "SLACK_APP_TOKEN": "xapp-test"}

    process = started(command, env=env)
    if command == "run":
        wait_for(socket_mode.open_connections, "connected to Socket Mode", timeout=60)
    wait_for(lambda: sum(dms_to(fake_slack, users).values()) >= 20, "the check-ins under way", timeout=60)
    stopped_with_claims_given_back(process, env["DATABASE_URL"])

    if command == "run":
        assert ("closed", 1) in socket_mode.history and socket_mode.open_connections() == []
    assert set(dms_to(fake_slack, users).values()) == {1}
    next_process_sweeps(env["DATABASE_URL"], fake_slack)
    assert dms_to(fake_slack, users) == Counter(users)


def test_two_http_servers_on_one_postgresql_deliver_a_burst_into_one_channel_once_each_in_order_and_spaced(
    started, postgres_env, fake_slack
):
    """Two hosts behind a round-robin load balancer: each writes what it is asked, either sends it."""
    fake_slack.limit_channels(per_second=1)  # as Slack: a post less than a second after the last one is refused
    servers = []
    for host in ("a", "b"):
        port = free_port()
        env = {**postgres_env, "SLACK_API_URL": fake_slack.api_url_for(host)}
        servers.append((started("run", "--http", "--port", str(port), "--workers", "1", env=env), port))
    for server, port in servers:
        wait_until_healthy(server, port)
    engine = make_engine(postgres_env["DATABASE_URL"])
    sessions = make_session_factory(engine)

    def written() -> list[str]:
        with sessions() as session:
            query = select(OutboxMessage.payload).where(OutboxMessage.lane == "CKUDOS").order_by(OutboxMessage.id)
            return [re.search(r"\[(\d+)\]", payload["text"]).group(1) for payload in session.scalars(query)]

    for n in range(6):  # each written once the one before it is: their order is the channel's
        kudos(servers[n % 2][1], fake_slack, f"UGIVER{n}", f"URECIPIENT{n}", f"thanks for the cover [{n}]")
        wait_for(lambda n=n: len(written()) == n + 1, f"kudos {n} written", timeout=60)

    recipients = [f"URECIPIENT{n}" for n in range(6)]
    wait_for(lambda: delivered(fake_slack, *recipients), "every DM", timeout=120)
    wait_for(lambda: len(celebrated(fake_slack)) >= 6, "every celebration", timeout=120)
    still_pending = partial(pending, postgres_env["DATABASE_URL"])
    wait_for(lambda: not still_pending(), "every message sent", timeout=60, state=still_pending)
    engine.dispose()

    posts = fake_slack.posts_to("CKUDOS")
    assert [re.search(r"\[(\d+)\]", post["text"]).group(1) for post in posts] == [str(n) for n in range(6)]
    assert {post.client for post in fake_slack.calls_to("chat.postMessage")} == {"a", "b"}  # both hosts sent
    assert all(later.at - earlier.at >= 1.0 for earlier, later in zip(posts, posts[1:], strict=False))
    assert fake_slack.rate_limited == []  # Slack never had to refuse a post into the channel
    for recipient in recipients:
        assert len(fake_slack.posts_to(recipient)) == 1
