"""Acknowledgement latency of /kudos: `kaizen run --http` against a bare Bolt app that only acks.

Both are served the same way (gunicorn, same workers and threads) and reached over loopback;
the bot talks to a fake Slack Web API in this process. Run: `.venv/bin/python bench/ack.py [N]`.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.fake_slack import FakeSlack  # noqa: E402
from tests.slack_requests import SIGNING_SECRET, signed_headers  # noqa: E402

CONCURRENCY = 10
WORKERS, THREADS = 2, 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, process: subprocess.Popen) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"server on {port} exited: {process.stderr.read().decode()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server on {port} did not become healthy")


def kudos_body(n: int, fake: FakeSlack, label: str) -> str:
    return urlencode(
        {
            "team_id": "T1",
            "channel_id": "CBENCH",
            "user_id": f"UGIVER{label}{n}",
            "command": "/kudos",
            "text": "<@UANA|ana> thanks for untangling the refund queue #teamwork",
            "response_url": fake.response_url(f"{label}{n}"),
            "trigger_id": f"trigger-{label}-{n}",
        }
    )


def hammer(port: int, requests: int, fake: FakeSlack, label: str) -> tuple[list[float], float]:
    local = threading.local()

    def one(n: int) -> float:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = kudos_body(n, fake, label)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
        start = time.perf_counter()
        local.connection.request("POST", "/slack/events", body=body, headers=headers)
        response = local.connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise SystemExit(f"{label}: HTTP {response.status}")
        return elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        latencies = list(pool.map(one, range(requests)))
    return latencies, time.perf_counter() - started


def wait_for_kudos(database_url: str, expected: int, patience: float = 120) -> tuple[int, int]:
    """Wait until the bot has recorded every kudos it acknowledged; (kudos stored, messages still queued)."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + patience
    with engine.connect() as connection:
        while True:
            stored = connection.execute(text("SELECT count(*) FROM kudos")).scalar()
            connection.rollback()
            if stored >= expected or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        queued = connection.execute(text("SELECT count(*) FROM outbox_messages WHERE status = 'pending'")).scalar()
    engine.dispose()
    return stored, queued


def summary(latencies: list[float], wall: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "rps": len(ordered) / wall,
    }


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    fake = FakeSlack().start()
    workdir = tempfile.mkdtemp(prefix="kaizen-bench-")
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db"),
        "KAIZEN_KUDOS_CHANNEL": "CKUDOS",
        "KAIZEN_ENV_FILE": "/dev/null",
    }
    kaizen_port, bare_port = free_port(), free_port()
    common = ["--port", None, "--workers", str(WORKERS), "--threads", str(THREADS)]
    log_file = open(f"{workdir}/kaizen.log", "w")  # noqa: SIM115 -- open for the servers' lifetime
    servers = {
        "kaizen": subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--http", *_with_port(common, kaizen_port)],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        ),
        "bare": subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "bare_app.py"), *_with_port(common, bare_port)],
            env={**env, "PYTHONPATH": str(ROOT)},
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        ),
    }
    try:
        wait_healthy(kaizen_port, servers["kaizen"])
        wait_healthy(bare_port, servers["bare"])
        hammer(bare_port, 200, fake, "warm-bare")
        hammer(kaizen_port, 200, fake, "warm-kaizen")
        results = {
            "bare": summary(*hammer(bare_port, requests, fake, "bare")),
            "kaizen": summary(*hammer(kaizen_port, requests, fake, "kaizen")),
        }
        drain_started = time.perf_counter()
        stored, queued = wait_for_kudos(env["DATABASE_URL"], requests + 200)
        drained = time.perf_counter() - drain_started
    finally:
        for process in servers.values():
            process.terminate()
            try:
                process.wait(timeout=60)  # the bot finishes the work it acknowledged first
            except subprocess.TimeoutExpired:
                process.kill()
        fake.stop()

    print(
        f"/kudos acknowledgement, {requests} signed requests per app, concurrency {CONCURRENCY}, "
        f"gunicorn {WORKERS} workers x {THREADS} threads, {os.cpu_count()} cores, DB {env['DATABASE_URL'][:30]}"
    )
    print(f"{'':8}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
    for name, figures in results.items():
        print(f"{name:8}{figures['p50_ms']:10.1f}{figures['p99_ms']:10.1f}{figures['rps']:10.0f}")
    bare, bot = results["bare"], results["kaizen"]
    print(
        f"{'ratio':8}{bot['p50_ms'] / bare['p50_ms']:10.2f}{bot['p99_ms'] / bare['p99_ms']:10.2f}"
        f"{bot['rps'] / bare['rps']:10.2f}"
    )
    print(
        f"kudos stored: {stored} of {requests + 200} acknowledged, all within {drained:.1f} s of the last ack; "
        f"{queued} messages wait for Slack's one-per-second-per-channel pace (each worker's sweeper sends them)"
    )


def _with_port(args: list, port: int) -> list[str]:
    return [str(port) if a is None else a for a in args]


if __name__ == "__main__":
    main()
