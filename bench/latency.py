"""From the acknowledgement of /kudos to its celebration reaching Slack, with `kaizen run --http` alone.

    .venv/bin/python -m bench.latency [SECONDS] [BURST]

`kaizen run --http` (2 workers x 8 threads, as by default) against a fake Slack Web API in this
process, on SQLite (and PostgreSQL when reachable); no scheduler and no other process. Two loads:
- steady: one kudos a second for SECONDS (60), each into the kudos channel: p50/p99 of the time from
  the ack to the celebration's arrival;
- burst: BURST (30) kudos at once into that one channel: Slack takes about one message a second per
  channel, so the floor is BURST - 1 seconds from the first ack to the last celebration.
Each kudos has its own giver and recipient; lost and duplicated celebrations are counted.
"""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from bench import databases
from bench.ack import free_port, wait_healthy
from tests.fake_slack import FakeSlack
from tests.slack_requests import SIGNING_SECRET, signed_headers

CHANNEL = "CKUDOS"
PATIENCE = 120  # seconds to wait for the last celebration before counting it lost


class Kaizen:
    """`kaizen run --http` on a free port, talking to `fake` (as `client`, when several processes share it)."""

    def __init__(self, fake: FakeSlack, database_url: str, workdir: str, *, client: str | None = None):
        self.port = free_port()
        self.client = client
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url_for(client) if client else fake.api_url,
            "DATABASE_URL": database_url,
            "KAIZEN_KUDOS_CHANNEL": CHANNEL,
            "KAIZEN_ENV_FILE": os.devnull,
        }
        self.log = open(f"{workdir}/kaizen-{client or 'http'}.log", "w")  # noqa: SIM115 -- open for its lifetime
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--http", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )
        self.fake = fake
        self.local = threading.local()
        wait_healthy(self.port, self.process)

    def kudos(self, tag: str) -> float:
        """Send one signed /kudos; the time its acknowledgement arrived."""
        body = urlencode(
            {
                "team_id": "T1",
                "channel_id": "CBENCH",
                "user_id": f"UG{tag}",
                "command": "/kudos",
                "text": f"<@UR{tag}|r{tag}> thanks for the cover [{tag}]",
                "response_url": self.fake.response_url(tag),
                "trigger_id": f"trigger-{tag}",
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
        try:
            response = self._post(body, headers)
        except (http.client.RemoteDisconnected, ConnectionError):  # the server closed an idle connection
            del self.local.connection
            response = self._post(body, headers)
        if response.status != 200:
            raise SystemExit(f"/kudos {tag}: HTTP {response.status}")
        return time.monotonic()

    def _post(self, body: str, headers: dict[str, str]) -> http.client.HTTPResponse:
        if not hasattr(self.local, "connection"):
            self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.local.connection.request("POST", "/slack/events", body=body, headers=headers)
        response = self.local.connection.getresponse()
        response.read()
        return response

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def arrivals(fake: FakeSlack, tags: list[str]) -> dict[str, list[float]]:
    """When each tagged kudos's celebration reached the fake Slack (more than one: a duplicate)."""
    found: dict[str, list[float]] = {tag: [] for tag in tags}
    for call in fake.posts_to(CHANNEL):
        for tag in tags:
            if f"[{tag}]" in call["text"]:
                found[tag].append(call.at)
    return found


def wait_for_all(fake: FakeSlack, tags: list[str], patience: float = PATIENCE) -> dict[str, list[float]]:
    deadline = time.monotonic() + patience
    while True:
        found = arrivals(fake, tags)
        if all(found.values()) or time.monotonic() > deadline:
            time.sleep(2)  # a duplicate would come late
            return arrivals(fake, tags)
        time.sleep(0.1)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def report(name: str, acks: dict[str, float], found: dict[str, list[float]]) -> list[float]:
    latencies = [found[tag][0] - acks[tag] for tag in acks if found[tag]]
    lost = sum(1 for times in found.values() if not times)
    duplicated = sum(len(times) - 1 for times in found.values() if len(times) > 1)
    print(
        f"  {name}: {len(acks)} kudos, ack → celebration p50 {statistics.median(latencies):.2f} s, "
        f"p99 {percentile(latencies, 0.99):.2f} s, max {max(latencies):.2f} s; lost {lost}, duplicated {duplicated}"
    )
    return latencies


def steady(kaizen: Kaizen, fake: FakeSlack, seconds: int) -> None:
    tags, acks = [f"S{n}" for n in range(seconds)], {}
    start = time.monotonic()
    for n, tag in enumerate(tags):
        time.sleep(max(0.0, start + n - time.monotonic()))
        acks[tag] = kaizen.kudos(tag)
    report("steady, one kudos a second", acks, wait_for_all(fake, tags))


def burst(kaizen: Kaizen, fake: FakeSlack, size: int) -> None:
    tags = [f"B{n}" for n in range(size)]
    with ThreadPoolExecutor(10) as pool:
        acks = dict(zip(tags, pool.map(kaizen.kudos, tags), strict=True))
    found = wait_for_all(fake, tags)
    report(f"burst of {size} into one channel", acks, found)
    times = sorted(t for ts in found.values() for t in ts)
    done, floor = times[-1] - min(acks.values()), float(size - 1)
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    print(
        f"    all celebrated {done:.1f} s after the first ack; floor {floor:.0f} s (one a second): "
        f"{done / floor:.2f}x the floor; closest two {min(gaps):.2f} s apart"
    )


def main(seconds: int = 60, size: int = 30) -> None:
    for engine in databases.each():
        url = engine.url.render_as_string(hide_password=False)
        fake = FakeSlack().start()
        with tempfile.TemporaryDirectory(prefix="kaizen-latency-") as workdir:
            kaizen = Kaizen(fake, url, workdir)
            try:
                kaizen.kudos("W0")  # Bolt's first auth.test; the channel's turn passes before the rest
                time.sleep(2)
                print(f"{engine.dialect.name}: kaizen run --http alone, 2 workers x 8 threads, {os.cpu_count()} cores")
                steady(kaizen, fake, seconds)
                time.sleep(2)
                burst(kaizen, fake, size)
            finally:
                kaizen.stop()
                fake.stop()
        posts = Counter(call["channel"] for call in fake.calls_to("chat.postMessage"))
        print(f"    DMs: {sum(1 for c in posts if c.startswith('UR'))} recipients of {seconds + size + 1} DMed")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
