"""Scale-out on PostgreSQL: two `kaizen run --http` hosts and a scheduler, one database, one Slack.

    .venv/bin/python -m bench.scaleout [a|b|c|d ...]

Two `kaizen run --http` servers (2 gunicorn workers x 8 threads each, on two ports, as two hosts would
run them) share a fresh PostgreSQL database and one fake Slack Web API in this process, which knows
each process by its URL (`FakeSlack.api_url_for`) and limits posts to one a second per channel, as
Slack does. The bench spreads its signed requests round-robin over the two servers, as a load
balancer would. Each part starts afresh (database, fake Slack, servers):

(a) a burst of BURST kudos into one channel: the time from the first ack to the last celebration
    against the floor (BURST - 1 seconds at one a second), order, spacing, none twice;
(b) Slack answers one server's post 429 (Retry-After PAUSE s) and, as Slack does, refuses the method
    to everyone until then, while kudos keep coming into both: the 429s each server meets;
(c) the daily tip to FAN_OUT subscribers from `kaizen scheduler`, started before the tip is due (on
    a weekend in the team's zone no tip is due, and `kaizen jobs run daily-tip` runs it instead, its
    start-up included), while both servers take a kudos a second, chat.postMessage limited to
    PER_SECOND: the time from the tip's due time to the last DM against the floor (every post in that
    time / PER_SECOND); run twice: on a fresh database, where the first 429 teaches the pace, then on
    one holding the pace that run learned, as the next day's tip finds it;
(d) a burst like (a) during which one server dies: SIGKILL as its call for the KILL_AT-th celebration
    reaches Slack (the call is lost with it, its claim held), or SIGTERM (the call is answered; the
    server shuts down gracefully). The other server delivers the rest: how long after the signal the
    next celebration arrives, against the claim's hold (CLAIM_HOLD) plus 5 s, or at once.
PostgreSQL only: SQLite is one machine's database.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import cycle
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from bench import databases
from bench.latency import CHANNEL, Kaizen, wait_for_all
from bot.core.outbox import CLAIM_HOLD
from storage.db import make_session_factory
from storage.models import OutboxMessage, SlackPace
from storage.tips import TipSubscriber
from tests.conftest import base_env
from tests.fake_slack import Call, FakeSlack

BURST = 30
PAUSE = 5  # seconds: the Retry-After of (b)
FAN_OUT, PER_SECOND = 1000, 50
KILL_AT = 10
LEAD = 10  # seconds: (c) starts the scheduler at least this long before the tip is due
ZONE = "Europe/Paris"
SERVERS = ("a", "b")


class Topology:
    """A fresh PostgreSQL database, a fake Slack and two `kaizen run --http` servers on it."""

    def __init__(self, engine: Engine, workdir: str, fake: FakeSlack):
        self.engine, self.workdir, self.fake = engine, workdir, fake
        self.url = engine.url.render_as_string(hide_password=False)
        with ThreadPoolExecutor(len(SERVERS)) as pool:  # they start side by side, as two hosts would
            self.servers = list(pool.map(lambda name: Kaizen(fake, self.url, workdir, client=name), SERVERS))
        self.turns = cycle(self.servers)
        self.lock = threading.Lock()
        warm_up = ["W0", "W1", "W2", "W3"]  # the workers' first requests (Bolt's auth.test)
        for tag in warm_up:
            self.kudos(tag)
        wait_for_all(fake, warm_up)
        time.sleep(1.5)  # the channel's turn passes before the part starts

    def kudos(self, tag: str) -> float:
        """One /kudos to the next server in turn, as a round-robin load balancer; when it was acked."""
        with self.lock:
            server = next(self.turns)
        return server.kudos(tag)

    def burst(self, tags: list[str]) -> dict[str, float]:
        with ThreadPoolExecutor(10) as pool:
            return dict(zip(tags, pool.map(self.kudos, tags), strict=True))

    def written_order(self) -> list[str]:
        """The tags of the celebrations in the order the outbox wrote them."""
        with make_session_factory(self.engine)() as session:
            texts = session.scalars(
                select(OutboxMessage.payload["text"].as_string())
                .where(OutboxMessage.lane == CHANNEL)
                .order_by(OutboxMessage.id)
            )
            return [found.group(1) for text in texts if (found := re.search(r"\[(\w+)\]", text or ""))]

    def waiting(self) -> list[str]:
        """The kudos channel's messages still unsent, as the outbox sees them (for what went missing)."""
        with make_session_factory(self.engine)() as session:
            rows = session.scalars(
                select(OutboxMessage).where(OutboxMessage.lane == CHANNEL, OutboxMessage.status != "sent")
            )
            return [
                f"{row.id} {row.status} attempts={row.attempts} due={row.next_attempt_at:%H:%M:%S} "
                f"claimed_until={row.claimed_until and f'{row.claimed_until:%H:%M:%S}'} {row.last_error}"
                for row in rows
            ]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def run(part: Callable[[Topology], None], engine: Engine, prepare: Callable[[FakeSlack], None]) -> None:
    fake = FakeSlack().start()
    fake.limit_channels(per_second=1)
    prepare(fake)
    workdir = tempfile.mkdtemp(prefix="kaizen-scaleout-")  # kept: the processes' logs
    topology = Topology(engine, workdir, fake)
    try:
        part(topology)
    finally:
        topology.stop()
        fake.stop()
        print(f"    (the processes' logs: {workdir})")


def summary(found: dict[str, list[float]], written: list[str]) -> str:
    """Missing: written by the outbox, not delivered within the bench's wait; not written: the request's work
    failed (its log says why)."""
    unwritten = sum(1 for tag in found if tag not in written)
    lost = sum(1 for tag, times in found.items() if not times and tag in written)
    duplicated = sum(len(times) - 1 for times in found.values() if len(times) > 1)
    arrived = [tag for tag, _ in sorted(((tag, times[0]) for tag, times in found.items() if times), key=lambda x: x[1])]
    said = f"missing {lost}, duplicated {duplicated}, {order(arrived, [tag for tag in written if found.get(tag)])}"
    return f"{said}; NOT WRITTEN {unwritten}" if unwritten else said


def order(arrived: list[str], written: list[str]) -> str:
    """Whether they arrived in the order the outbox wrote them (its ids), and if not, which overtook which."""
    position = {tag: n for n, tag in enumerate(arrived)}
    overtook = {
        tag: [earlier for earlier in written[:n] if position[earlier] > position[tag]] for n, tag in enumerate(written)
    }
    if not any(overtook.values()):
        return "in the order written"
    said = "; ".join(f"{tag} before {', '.join(earlier)}" for tag, earlier in overtook.items() if earlier)
    return f"NOT in the order written (outbox ids): {said}"


def met_429(fake: FakeSlack, since: float = 0.0) -> str:
    """How many 429s each process met (and how many of them were posts into the kudos channel)."""
    met = [call for call in fake.rate_limited if call.at >= since]
    counts = Counter(call.client for call in met)
    into_channel = sum(1 for call in met if call.get("channel") == CHANNEL)
    said = ", ".join(f"{name} {counts[name]}" for name in sorted(set(counts) | set(SERVERS)))
    return f"{said} ({into_channel} into {CHANNEL})" if into_channel else said


# --- (a) ------------------------------------------------------------------------------------------
def burst_into_one_channel(topology: Topology) -> None:
    tags = [f"B{n}" for n in range(BURST)]
    acks = topology.burst(tags)
    found = wait_for_all(topology.fake, tags)
    times = sorted(t for ts in found.values() for t in ts)
    done, floor = times[-1] - min(acks.values()), float(BURST - 1)
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    print(f"(a) burst of {BURST} kudos into one channel, round-robin over both servers")
    print(
        f"    in Slack {done:.1f} s after the first ack; floor {floor:.0f} s: {done / floor:.3f}x the floor "
        f"(goal <= 1.05x); gaps {min(gaps):.2f}-{max(gaps):.2f} s"
    )
    print(f"    {summary(found, topology.written_order())}; 429s met: {met_429(topology.fake)}")
    for line in topology.waiting():
        print(f"    still waiting at {datetime.now(UTC):%H:%M:%S}: {line}")


# --- (b) ------------------------------------------------------------------------------------------
def shared_pause(topology: Topology) -> None:
    fake = topology.fake
    fake.hold_after_429 = True
    fake.fail("chat.postMessage", status=429, retry_after=PAUSE, client="a")
    met_before = len(fake.rate_limited)  # a 429 of the warm-up is not this one
    tags = [f"P{n}" for n in range(10)]
    topology.servers[0].kudos(tags[0])  # server a meets the 429
    deadline = time.monotonic() + 30
    while len(fake.rate_limited) == met_before and time.monotonic() < deadline:
        time.sleep(0.05)
    if len(fake.rate_limited) == met_before:
        raise SystemExit("(b): server a never met its 429")
    limited_at = fake.rate_limited[met_before].at
    for tag in tags[1:]:  # into both servers while the pause lasts
        topology.kudos(tag)
        time.sleep(0.3)
    found = wait_for_all(fake, tags)
    passed = [c.at - limited_at for c in fake.calls_to("chat.postMessage") if c.at > limited_at]
    print(f"(b) a 429 (Retry-After {PAUSE} s) answered to server a; 9 more kudos over both servers during it")
    print(
        f"    429s met after the first: {met_429(fake, since=limited_at + 0.001)} "
        f"(goal: none, the pause is shared); first post let through {min(passed):.2f} s after the 429"
    )
    print(f"    {summary(found, topology.written_order())}")


# --- (c) ------------------------------------------------------------------------------------------
LEARNED: dict[str, float] = {}  # the paces (c)'s first run learned: where its second run starts


def fan_out_at_the_pace_learned(topology: Topology) -> None:
    """(c) again, on a database holding the paces the first run learned, as the next day's run finds them."""
    with make_session_factory(topology.engine).begin() as session:
        now = datetime.now(UTC)
        session.add_all(SlackPace(method=method, per_second=pace, updated_at=now) for method, pace in LEARNED.items())
    fan_out(topology)


def fan_out(topology: Topology) -> None:
    fake, users = topology.fake, [f"U{n:06d}" for n in range(FAN_OUT)]
    with make_session_factory(topology.engine).begin() as session:
        session.add_all(TipSubscriber(user_id=user, subscribed_at=datetime.now(UTC)) for user in users)
        starting_pace = session.get(SlackPace, "chat.postMessage")
        starting_pace = f"{starting_pace.per_second:.1f}/s, learned by the run before" if starting_pace else "unknown"
    steady = threading.Event()
    kudos_tags: list[str] = []

    def take_requests() -> None:
        while not steady.wait(1.0):
            kudos_tags.append(f"K{len(kudos_tags)}")
            topology.kudos(kudos_tags[-1])

    requests = threading.Thread(target=take_requests, daemon=True)
    requests.start()
    time.sleep(3)  # the servers are busy when the job starts
    process, how, started = start_fan_out(topology)
    time.sleep(max(0.0, started - time.monotonic()))
    deadline = started + 20 * FAN_OUT / PER_SECOND
    subscribers = set(users)
    # One pass over the calls a poll: the fake answers Slack's calls in this process, between polls.
    while not subscribers <= {c["channel"] for c in fake.calls_to("chat.postMessage")} and time.monotonic() < deadline:
        time.sleep(0.1)
    last = max(
        (c.at for c in fake.calls_to("chat.postMessage") if c["channel"] in subscribers), default=time.monotonic()
    )
    steady.set()
    requests.join()
    process.terminate()
    process.wait(timeout=60)
    posts = [c for c in fake.calls_to("chat.postMessage") if started <= c.at <= last]
    tip = {"CTIPS", *users}
    first = min(c.at for c in posts if c["channel"] in tip)
    elapsed = last - started
    tip_floor, floor = (FAN_OUT + 1) / PER_SECOND, len(posts) / PER_SECOND
    print(f"(c) the daily tip to {FAN_OUT} subscribers by {how}, chat.postMessage limited to {PER_SECOND}/s,")
    print(f"    while both servers take a kudos a second; the pace at the start: {starting_pace}")
    print(
        f"    last DM {elapsed:.1f} s after the tip was due; {len(posts)} posts passed in that time "
        f"(the tip's {FAN_OUT + 1} and the kudos'): floor {floor:.1f} s, {elapsed / floor:.3f}x (goal <= 1.1x); "
        f"the tip's alone {tip_floor:.1f} s"
    )
    per_second = Counter(int(c.at - first) for c in posts if c.at >= first)
    rates = sorted(per_second[second] for second in range(int(last - first)))
    print(
        f"    the job's first post {first - started:.1f} s after that, its last {last - first:.1f} s after that; "
        f"posts a second in between: min {rates[0]}, median {rates[len(rates) // 2]}, max {rates[-1]}"
    )
    received = Counter(c["channel"] for c in fake.calls_to("chat.postMessage") if c["channel"] in subscribers)
    missing = sum(1 for user in users if not received[user])
    duplicated = sum(n - 1 for n in received.values() if n > 1)
    kudos_found = wait_for_all(fake, kudos_tags)
    senders = Counter(c.client for c in fake.calls_to("chat.postMessage") if c["channel"] in subscribers)
    sent_by = ", ".join(f"{name} {count}" for name, count in sorted(senders.items()))
    print(f"    DMs missing {missing}, duplicated {duplicated}; sent by {sent_by}; 429s met: {met_429(fake)}")
    print(f"    the {len(kudos_tags)} kudos meanwhile: {summary(kudos_found, topology.written_order())}")
    with make_session_factory(topology.engine).begin() as session:
        LEARNED.update((pace.method, pace.per_second) for pace in session.scalars(select(SlackPace)) if pace.per_second)
    print(f"    the pace learned: {LEARNED['chat.postMessage']:.1f}/s")


def start_fan_out(topology: Topology) -> tuple[subprocess.Popen, str, float]:
    """`kaizen scheduler`, running before the tip is due (at the next minute at least LEAD seconds
    away), or on a weekend in the team's zone, when no tip is due, `kaizen jobs run daily-tip` at once;
    with the (monotonic) time the fan-out was due: the scheduler's start is not part of it."""
    now = datetime.now(ZoneInfo(ZONE))
    weekday = now.weekday() < 5
    client = "scheduler" if weekday else "job"
    due = (now + timedelta(seconds=LEAD + 60)).replace(second=0, microsecond=0) if weekday else now
    env = {
        **os.environ,
        **base_env(topology.fake),
        "SLACK_API_URL": topology.fake.api_url_for(client),
        "DATABASE_URL": topology.url,
        "KAIZEN_ENV_FILE": os.devnull,
        "KAIZEN_TIMEZONE": ZONE,
        "KAIZEN_KUDOS_CHANNEL": CHANNEL,
        "KAIZEN_DAILY_TIP_AT": due.strftime("%H:%M"),
    }
    command = ["scheduler"] if weekday else ["jobs", "run", "daily-tip", "--force"]
    log = open(f"{topology.workdir}/kaizen-{client}.log", "w")  # noqa: SIM115 -- open for the process's lifetime
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *command], env=env, stdout=log, stderr=log, start_new_session=True
    )
    started = time.monotonic() + (due - datetime.now(ZoneInfo(ZONE))).total_seconds()
    how = "`kaizen jobs run daily-tip` (its start-up included)"
    if weekday:
        how = f"`kaizen scheduler` (running; the tip due at {due:%H:%M:%S})"
    return process, how, started


# --- (d) ------------------------------------------------------------------------------------------
def one_server_dies(sig: signal.Signals) -> Callable[[Topology], None]:
    def part(topology: Topology) -> None:
        fake, dying = topology.fake, topology.servers[0]
        signalled: list[float] = []

        def on_call(call: Call) -> bool:
            if signalled or call.client != dying.client or call.method != "chat.postMessage":
                return True
            if call.get("channel") != CHANNEL or len(fake.posts_to(CHANNEL)) < KILL_AT + 4:  # after the 4 warm-ups
                return True
            signalled.append(time.monotonic())
            if sig == signal.SIGTERM:  # gunicorn's graceful stop: this call is answered, the server winds down
                dying.process.send_signal(sig)
                return True
            os.killpg(dying.process.pid, sig)  # the master and its workers: this call dies with them
            dying.process.wait()
            return False

        fake.on_call = on_call
        tags = [f"D{n}" for n in range(BURST)]
        topology.burst(tags)
        found = wait_for_all(fake, tags, patience=CLAIM_HOLD.total_seconds() + BURST + 60)
        print(f"(d) burst of {BURST} kudos over both servers; server a gets {sig.name} at celebration {KILL_AT}")
        if not signalled:
            print("    server a sent no celebration after that: not signalled")
            return
        after = sorted(t - signalled[0] for ts in found.values() for t in ts if t > signalled[0])
        rest = len(after)
        bound = CLAIM_HOLD.total_seconds() + 5 if sig == signal.SIGKILL else 1 + 5
        print(
            f"    the next celebration {after[0]:.1f} s after the signal (bound {bound:.0f} s); the {rest} left "
            f"all in {after[-1]:.1f} s (at one a second, {after[-1] - after[0]:.1f} s after the first of them)"
        )
        print(f"    {summary(found, topology.written_order())}; 429s met: {met_429(fake)}")

    return part


def no_preparation(_fake: FakeSlack) -> None:
    pass


def limit_posts(fake: FakeSlack) -> None:
    fake.limit("chat.postMessage", per_second=PER_SECOND)


PARTS = {
    "a": [(burst_into_one_channel, no_preparation)],
    "b": [(shared_pause, no_preparation)],
    "c": [(fan_out, limit_posts), (fan_out_at_the_pace_learned, limit_posts)],
    "d": [(one_server_dies(signal.SIGKILL), no_preparation), (one_server_dies(signal.SIGTERM), no_preparation)],
}


def main(parts: list[str]) -> None:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"two `kaizen run --http` servers x 2 workers x 8 threads, one PostgreSQL, {os.cpu_count()} cores")
    print(f"(load average {load} at the start: other work on the machine slows every figure but (b) and (d))")
    for name in parts or PARTS:
        for part, prepare in PARTS[name]:
            with databases.postgresql() as engine:
                if engine is None:
                    raise SystemExit("bench.scaleout runs on PostgreSQL only: set KAIZEN_TEST_POSTGRES_URL")
                run(part, engine, prepare)


if __name__ == "__main__":
    main(sys.argv[1:])
