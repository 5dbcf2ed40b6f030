"""The outbox: every Slack message the bot sends is a row first, sent after commit.

Services call `post_message` / `post_to_group` / `update_message` / `enqueue` inside their
transaction. After the commit, `OutboxSender.deliver` sends those rows from the thread that wrote
them, waiting out a short pause (a channel's turn, a Retry-After of a few seconds); what would
wait longer is left to the `Sweeper`, a light thread every serving process runs, which sends each
row when it is due. A job or a CLI command `drain`s what it wrote before it returns. Each row is
claimed before it is sent, so two senders never send the same row, whichever processes they are in.
A sender that `stop`s (SIGTERM) claims nothing more and gives back each claim it has not used, so
another process sends those rows at once rather than when the claim expires (CLAIM_HOLD).

Order: the rows of one lane (a channel, a person's DM, a Home tab) go out one at a time, in the order
written, at least LANE_SPACING apart (Slack allows about one message a second per channel); the
database keeps that across threads, processes and retries (storage.outbox.claim).
"""

from __future__ import annotations

import base64
import logging
import math
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy.orm import Session, sessionmaker

from bot.core import metrics
from bot.core.logs import ContextPool
from storage import outbox as store
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

OUTBOX_KEYS = "outbox_keys"  # session.info entry: keys written in this transaction
GROUP_LANE = "group:"  # + the users of a group DM (post_to_group)
# Payload entry naming the builder (OutboxSender.builders) that completes the payload when it is sent:
# for what must show the latest state, not the state at commit (a Home tab), and is costly to build.
BUILT_WHEN_SENT = "built_when_sent"
RETRY_FOR = timedelta(hours=24)
CLAIM_HOLD = timedelta(minutes=2)
FIRST_BACKOFF = timedelta(seconds=15)  # after a 5xx or a dropped connection; doubling up to MAX_BACKOFF
MAX_BACKOFF = timedelta(minutes=30)
LANE_SPACING = timedelta(seconds=1)
# Slack answers these with ok=false but they pass; anything else with ok=false is final...
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# ...except these, which say the token is refused: sending pauses until Slack accepts it again.
TOKEN_ERRORS = {"invalid_auth", "token_revoked", "token_expired", "account_inactive", "not_authed"}
# How long, in all, a send may wait for its turn and for Retry-After before it is left for later:
REQUEST_PATIENCE = 3.0  # on a request's work thread, which should get on with the next request
SWEEP_PATIENCE = 60.0  # in a sweep, a job's fan-out or a drain (a whole method paused by a 429, say)
DRAIN_FOR = 600.0  # a drain waits this long in all for messages that cannot go yet, then says why
POLL = 0.2  # how soon to look again when a lane's message is being sent by another sender
IDLE = 5.0  # how often an idle sweeper looks for what other processes left due
PROBE_TOKEN_EVERY = 30.0  # while Slack refuses the token
# A method's pace (Paces): learned from 429s, kept in the database for every process.
PACE_MARGIN = 1.02  # a little under what passed before a 429, and that much slower at each 429 after
PACE_STEP = 0.01  # a pace rises by this share of itself...
PACE_CALM = 20.0  # ...each time this many seconds of calls at that pace passed without a 429
PACE_BUSY = 0.9  # calls go "at that pace" when the last second had at least this share of it
PACE_SHARED = 0.5  # a 429 when less than this share of the pace passed (every process's calls): the limit fell
PACE_WINDOW = 1.01  # no more calls start in this many seconds than the pace allows in one (rounded up)
PACE_REFRESH = 0.5  # how often a process that sends reads the paces the others wrote


@dataclass(frozen=True)
class Outgoing:
    """One Web API call owed to Slack, before it is written: `enqueue_all` writes many in one statement."""

    key: str
    method: str
    payload: dict[str, Any]
    lane: str | None = None
    updates_key: str | None = None
    not_before: datetime | None = None
    private: bool = False


def enqueue(
    session: Session,
    key: str,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    lane: str | None = None,
    updates_key: str | None = None,
    not_before: datetime | None = None,
    private: bool = False,
) -> None:
    """Owe Slack one Web API call; `key` is unique, so the same message is never written twice.
    `lane` (default: the payload's channel) keeps its order with the other messages of that lane;
    a `private` message's payload is forgotten once sent (or given up on)."""
    enqueue_all(session, [Outgoing(key, method, payload, lane, updates_key, not_before, private)], now)


def enqueue_all(session: Session, messages: Iterable[Outgoing], now: datetime) -> None:
    """Owe Slack these calls, written in one statement (a job's thousands of DMs, in a short transaction)."""
    rows = [
        {
            "key": message.key,
            "method": message.method,
            "payload": message.payload,
            "lane": message.lane or message.payload.get("channel"),
            "updates_key": message.updates_key,
            "created_at": now,
            "next_attempt_at": message.not_before or now,
            "private": message.private,
        }
        for message in messages
    ]
    store.add_messages(session, rows)
    session.info.setdefault(OUTBOX_KEYS, []).extend(row["key"] for row in rows)


def message_to(channel: str, key: str, *, text: str, blocks: list[dict] | None, private: bool = False) -> Outgoing:
    """A post in a channel, or a DM when `channel` is a person's ID (Slack opens their DM)."""
    payload: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False}
    if blocks:
        payload["blocks"] = blocks
    return Outgoing(key, "chat.postMessage", payload, private=private)


def message_to_group(users: list[str], key: str, *, text: str, blocks: list[dict] | None) -> Outgoing:
    """A post into the group DM of `users`, which is opened (conversations.open) when it is sent; the
    group's messages keep their order in a lane of their own."""
    payload: dict[str, Any] = {"users": ",".join(users), "text": text, "unfurl_links": False}
    if blocks:
        payload["blocks"] = blocks
    return Outgoing(key, "chat.postMessage", payload, lane=GROUP_LANE + ",".join(sorted(users)))


def post_message(
    session: Session,
    key: str,
    *,
    channel: str,
    text: str,
    blocks: list[dict] | None,
    now: datetime,
    private: bool = False,
) -> None:
    enqueue_all(session, [message_to(channel, key, text=text, blocks=blocks, private=private)], now)


def post_to_group(
    session: Session, key: str, *, users: list[str], text: str, blocks: list[dict] | None, now: datetime
) -> None:
    enqueue_all(session, [message_to_group(users, key, text=text, blocks=blocks)], now)


def update_message(session: Session, key: str, *, of: str, text: str, blocks: list[dict] | None, now: datetime) -> None:
    """Edit the message posted under key `of`, after it and in its lane; an unsent older update of
    it is replaced."""
    store.drop_pending(session, updates_key=of, now=now)
    post = store.by_key(session, of)
    payload: dict[str, Any] = {"text": text}
    if blocks:
        payload["blocks"] = blocks
    enqueue(session, key, "chat.update", payload, now, lane=post.lane if post else None, updates_key=of)


def revise_message(session: Session, key: str, *, of: str, text: str, blocks: list[dict] | None, now: datetime) -> None:
    """Make the message written under key `of` say this instead, where words must not reach Slack
    again (what an admin hid): rewritten while it waits to be sent, else edited (update_message)."""
    store.drop_pending(session, updates_key=of, now=now)
    if not store.rewrite_unsent(session, of, {"text": text, "blocks": blocks}, now):
        update_message(session, key, of=of, text=text, blocks=blocks, now=now)


def describe(message: OutboxMessage) -> str:
    """What a message is, in a few words for an admin: "a post in <#C1>", "a DM to <@U1>", "a group DM
    of <@U1> and <@U2>", "the Home tab of <@U1>", "an update of a post in <#C1>". Its lane says where
    it goes, even once a private message's payload is forgotten."""
    payload, lane = message.payload, message.lane or message.payload.get("channel") or ""
    if message.method == "views.publish":
        return f"the Home tab of <@{payload.get('user_id', '?')}>"
    if message.method == "chat.postEphemeral":
        return f"a note only <@{payload.get('user', '?')}> sees, in <#{lane}>"
    where = _place(lane)
    kinds = {"chat.postMessage": where, "chat.update": f"an update of {where}", "files.uploadV2": f"a file, as {where}"}
    return kinds.get(message.method, f"{message.method}: {where}")


def _place(lane: str) -> str:
    if lane.startswith(GROUP_LANE):
        users = [f"<@{user}>" for user in lane.removeprefix(GROUP_LANE).split(",")]
        return f"a group DM of {', '.join(users[:-1])} and {users[-1]}"
    if lane.startswith(("C", "G")):
        return f"a post in <#{lane}>"
    if lane.startswith(("U", "W")):
        return f"a DM to <@{lane}>"
    return "a DM" if lane.startswith("D") else "a message"


class NotYetPosted(Exception):
    """An update whose message has not been posted yet."""


class NeverPosted(Exception):
    """An update of a message that was never posted (Slack refused it, or it was dropped)."""


class Outcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"  # for good: Slack refused it, or 24 hours of retries
    RETRYING = "retrying"  # an attempt failed; it is due again later
    LEFT = "left"  # not tried now: its turn or its Retry-After is further off than the sender would wait
    HELD = "held"  # its whole method is paused longer than the sender would wait (a long Retry-After)
    PAUSED = "paused"  # Slack refuses the token
    GONE = "gone"  # nothing to do: sent, refused or dropped already, or another sender has it
    RATE_LIMITED = "rate-limited"  # a 429: waited out if patience allows, else reported as RETRYING
    STOPPED = "stopped"  # not sent: the sender is stopping (a claim it took is given back)


@dataclass
class SweepResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held_for: float = 0.0  # seconds a paused method still holds back what is due


@dataclass
class Backlog:
    """What a drain could not deliver: how many messages still wait, how many Slack refused, and why."""

    reasons: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)

    @property
    def waiting(self) -> int:
        return sum(self.reasons.values())

    def __bool__(self) -> bool:
        return bool(self.reasons or self.refused)

    def __str__(self) -> str:
        said = []
        if self.reasons:
            why = "; ".join(f"{count} × {reason}" for reason, count in self.reasons.most_common())
            later = "a running Kaizen process sends them when Slack allows"
            said.append(f"{self.waiting} message(s) still waiting ({why}); {later}")
        if self.refused:
            why = "; ".join(f"{count} × {reason}" for reason, count in self.refused.most_common())
            said.append(f"{sum(self.refused.values())} message(s) refused by Slack ({why})")
        return "; ".join(said)


@dataclass
class _Pace:
    """One method's pace, as this process knows it."""

    per_second: float | None = None  # None: no 429 taught it yet, so calls go as fast as they come
    paused_until: float = 0.0  # seconds since the epoch, like the rest
    changed_at: float = 0.0  # its last decrease or increase
    learning_until: float = 0.0  # a pace just learned from what passed: calls on their way that pass count too
    seen: datetime | None = None  # when the shared pace this one follows was written
    passed: deque[float] = field(default_factory=deque)  # its calls of the last second
    queued_since: float | None = None  # since then every turn taken waited behind another's (any process's)
    busy_since: float = 0.0  # since then its calls came less than a second apart (this process's)
    started: deque[float] = field(default_factory=deque)  # when its calls of the last PACE_WINDOW started


class Paces:
    """How fast to call each Web API method, learned from Slack's 429s and shared through the database
    (storage.outbox.save_pace) by every thread and every process:

    - a 429 pauses its whole method for exactly Retry-After, in every process: each reads the shared
      paces every PACE_REFRESH seconds while it sends, and writes its own only when it changes;
    - the first 429 teaches the pace: the calls that passed in the second before it, in every process,
      a little under (PACE_MARGIN); a later 429 at that pace lowers it by PACE_MARGIN (multiplicative
      decrease), or to what passed if that was far less (PACE_SHARED: the limit fell);
    - each PACE_CALM seconds of calls at that pace without a 429 raise it by PACE_STEP of itself
      (additive increase), so a pace a 429 pushed too low, or a limit that grew, is found again.

    The next process (the next `kaizen jobs run`) starts at the pace learned instead of bursting into
    Slack's limit. Each call takes a turn, so threads never call at the same moment; at a learned pace
    the turns are kept in the database, so the processes sending at once (HTTP workers' sweepers, the
    scheduler's fan-out) keep to the pace together, not each at it.
    """

    def __init__(self, session_factory: sessionmaker) -> None:
        self.session_factory = session_factory
        self.lock = threading.Lock()
        self.methods: dict[str, _Pace] = defaultdict(_Pace)
        self.refreshed_at: float | None = None
        self.refreshing = threading.Lock()  # one thread reads the shared paces; the others wait for them

    def take_turn(self, method: str, now: datetime, longest_wait: float) -> float:
        """Seconds until this method's next turn; the turn is taken if that is at most `longest_wait`.
        At a learned pace the turns are the database's, shared by every process (storage.outbox.take_turn)."""
        self.refresh(now)
        at = now.timestamp()
        with self.lock:
            pace = self.methods[method]
            start = max(at, pace.paused_until)
            if pace.per_second is None or start - at > longest_wait:
                return start - at
            spacing = 1.0 / pace.per_second
        with self.session_factory.begin() as session:
            turn = store.take_turn(session, method, start, spacing, latest=at + longest_wait)
        if turn is None:
            return start - at
        with self.lock:
            pace.queued_since = (pace.queued_since or at) if turn > start else None
        return turn - at

    def clear_to_call(self, method: str, now: datetime) -> float:
        """Seconds to wait before calling (0.0: call now; the call is counted). Turns are spaced at the
        pace, but a stall (a busy machine, a slow database) makes calls late and bunches them up: no
        more than the pace allows in a second start within PACE_WINDOW, whatever the turns said."""
        at = now.timestamp()
        with self.lock:
            pace = self.methods[method]
            started = pace.started
            while started and started[0] <= at - PACE_WINDOW:
                started.popleft()
            if pace.per_second and len(started) >= math.ceil(pace.per_second):
                return started[0] + PACE_WINDOW - at
            started.append(at)
            return 0.0

    def held_for(self, now: datetime) -> float:
        """How long the longest-paused method is still paused."""
        at = now.timestamp()
        with self.lock:
            return max([pace.paused_until - at for pace in self.methods.values()], default=0.0)

    def call_passed(self, method: str, now: datetime) -> None:
        at = now.timestamp()
        changed = False
        with self.lock:
            pace = self.methods[method]
            passed = _last_second(pace.passed, at)
            if not passed:
                pace.busy_since = at
            passed.append(at)
            if at < pace.learning_until and pace.per_second:  # on its way when the 429 came, and allowed
                pace.per_second += 1 / PACE_MARGIN
                changed = True
            # Raised only while calls go at that pace: a method called now and then would creep up unchecked.
            # At that pace: this process's calls alone, or the turns of all of them queued for a second.
            queued = pace.queued_since is not None and at - pace.queued_since >= 1.0
            at_pace = pace.per_second is not None and (queued or len(passed) >= PACE_BUSY * pace.per_second)
            # The calm counts only while calls went: a pace kept since yesterday rises only after PACE_CALM more.
            if at_pace and at - max(pace.changed_at, pace.busy_since) >= PACE_CALM:
                pace.per_second *= 1 + PACE_STEP
                pace.changed_at = at
            elif not changed:
                return
        self._save(method, now)

    def rate_limited(self, method: str, retry_after: float, now: datetime) -> None:
        at = now.timestamp()
        # A 429 another process met a moment ago paused the method already: this one lowers the pace no more.
        self.refresh(now, at_once=True)
        with self.session_factory.begin() as session:  # every process's calls count in what Slack allows
            passed_everywhere = store.sent_since(session, method, now - timedelta(seconds=1))
        with self.lock:
            pace = self.methods[method]
            resumed_at, pace.paused_until = pace.paused_until, max(pace.paused_until, at + retry_after)
            if at >= resumed_at:  # else a call that was on its way when an earlier 429 paused the method
                # This process's calls count at once; the others' once their senders recorded them.
                passed = max(len(_last_second(pace.passed, at)), passed_everywhere)
                # What passed in a whole second without a pause is about what Slack allows.
                allowed = passed if passed and at - resumed_at >= 1.0 else None
                if allowed and (pace.per_second is None or allowed < PACE_SHARED * pace.per_second):
                    pace.per_second = allowed / PACE_MARGIN
                    pace.learning_until = pace.paused_until
                elif pace.per_second is not None:
                    pace.per_second /= PACE_MARGIN
                pace.changed_at = at
        self._save(method, now)

    def refresh(self, now: datetime, *, at_once: bool = False) -> None:
        """Follow what other processes learned (a pause, a new pace), every PACE_REFRESH seconds."""
        at = now.timestamp()
        # Held while reading: a sender that started with the others must not call as if no pace were kept.
        with self.refreshing:
            if not at_once and self.refreshed_at is not None and 0.0 <= at - self.refreshed_at < PACE_REFRESH:
                return
            with self.session_factory.begin() as session:
                shared = store.paces(session)
            with self.lock:
                self.refreshed_at = at
                for row in shared:
                    pace = self.methods[row.method]
                    if row.paused_until is not None:
                        pace.paused_until = max(pace.paused_until, row.paused_until.timestamp())
                    if pace.seen is None or row.updated_at > pace.seen:
                        pace.per_second, pace.seen = row.per_second, row.updated_at
                        pace.changed_at = max(pace.changed_at, row.updated_at.timestamp())

    def _save(self, method: str, now: datetime) -> None:
        with self.lock:
            pace = self.methods[method]
            pace.seen = now
            per_second, paused_until = pace.per_second, datetime.fromtimestamp(pace.paused_until, UTC)
        # Outside the lock, and outside any transaction of the caller's: SQLite writes one at a time.
        with self.session_factory.begin() as session:
            store.save_pace(session, method, per_second, paused_until, now)


def _last_second(calls: deque[float], at: float) -> deque[float]:
    while calls and calls[0] <= at - 1.0:
        calls.popleft()
    return calls


class OutboxSender:
    def __init__(
        self,
        session_factory: sessionmaker,
        client: WebClient,
        clock: Callable[[], datetime],
        *,
        sleep: Callable[[float], object] | None = None,
        workers: int = 8,
    ) -> None:
        self.session_factory = session_factory
        self.client = client
        self.clock = clock
        self.stopping = threading.Event()  # set by stop(): sending is over for this sender
        self.sleep = sleep or self.stopping.wait  # so a stop cuts every wait short
        # Waiting out Slack's pauses, sends overlap this many at a time (a job's fan-out, the sweep).
        self.workers = workers
        self.first_backoff = FIRST_BACKOFF
        self.paces = Paces(session_factory)
        self.token_refused: str | None = None  # Slack's error while it refuses the token: sending pauses
        self.wake = threading.Event()  # set when something was left for the sweeper
        self.sends = 0  # how many of this sender's threads are sending a row (or waiting for its turn)
        self.sends_changed = threading.Condition()
        # name: (session, payload) -> the payload to send; a feature registers its own (Feature.on_context).
        self.builders: dict[str, Callable[[Session, dict[str, Any]], dict[str, Any]]] = {}

    def stop(self) -> None:
        """Send nothing more: a send under way finishes, a row waiting for its turn is given back unsent
        (its claim released, so another process sends it at once), and drains and sweeps return."""
        self.stopping.set()
        self.wake.set()

    def wait_for_sends(self, within: float) -> int:
        """After stop(): wait up to `within` seconds for the sends under way to finish; how many still
        are then (each keeps its claim: the row is sent again once the claim expires)."""
        with self.sends_changed:
            self.sends_changed.wait_for(lambda: self.sends == 0, within)
            if self.sends:
                log.warning("Stopped with %d message(s) still being sent: retried after %s", self.sends, CLAIM_HOLD)
            return self.sends

    def deliver(self, keys: Iterable[str]) -> None:
        """Send these just-committed messages now, in order, each waiting out a short pause; what
        would wait longer is left for the sweeper, which is woken."""
        keys = list(keys)
        if not keys:
            return
        with self.session_factory.begin() as session:
            ids = store.ids_for_keys(session, keys)
        outcomes = [self._send(message_id, REQUEST_PATIENCE) for message_id in ids]
        if any(outcome not in (Outcome.SENT, Outcome.FAILED, Outcome.GONE) for outcome in outcomes):
            self.wake.set()

    def drain(self, keys: Iterable[str]) -> Backlog:
        """Send these messages (a job's fan-out, what a CLI command wrote) until each is sent or
        refused, waiting out Slack's pauses at its pace; give up on what still waits after a long
        pause (Slack down, the token refused) and say why."""
        keys = list(keys)
        if not keys:
            return Backlog()
        with self.session_factory.begin() as session:
            ids = written = store.ids_for_keys(session, keys)
        try:
            self._drain_ids(ids)
        finally:  # what is left (this process stopped, Slack paused long): any process's sweeper's again
            with self.session_factory.begin() as session:
                left = store.waiting(session, written)
                store.reserve(session, [message.id for message in left], until=None)
        backlog = self.backlog([message.id for message in left])
        with self.session_factory.begin() as session:
            backlog.refused.update(message.last_error or "refused" for message in store.refused(session, written))
        return backlog

    def _drain_ids(self, ids: list[int]) -> None:
        waited = 0.0
        while ids:
            # Other processes' sweepers leave them to this one meanwhile: they would only crowd the machine.
            with self.session_factory.begin() as session:
                store.reserve(session, ids, until=self.clock() + CLAIM_HOLD)
            outcomes = self._send_paced(ids, SWEEP_PATIENCE)
            with self.session_factory.begin() as session:
                left = store.waiting(session, ids)
            ids = [message.id for message in left]
            if not ids or self.token_refused or self.stopping.is_set():
                return
            if any(outcome in (Outcome.SENT, Outcome.FAILED) for outcome in outcomes):
                continue
            soonest = min(message.next_attempt_at for message in left)
            wait = max((soonest - self.clock()).total_seconds(), POLL)
            if wait > SWEEP_PATIENCE or waited + wait > DRAIN_FOR:
                return
            self.sleep(wait)
            waited += wait

    def waiting(self) -> int:
        """How many messages wait to be sent."""
        with self.session_factory.begin() as session:
            return store.count_waiting(session)

    def backlog(self, ids: list[int] | None = None) -> Backlog:
        """What waits (of `ids`, or all) and why."""
        if ids == []:
            return Backlog()
        with self.session_factory.begin() as session:
            left = store.waiting(session, ids)
        if self.token_refused:
            return Backlog(
                Counter({f"Slack refuses the bot token ({self.token_refused}): sending is paused": len(left)})
            )
        if self.stopping.is_set():
            return Backlog(Counter({"Kaizen was stopped before sending them": len(left)}))
        return Backlog(Counter(message.last_error or "waiting for its turn" for message in left))

    def sweep(self, limit: int = 1000) -> SweepResult:
        """Send every message that is due, oldest first, pacing to Slack's limits, until none is due
        (`limit` at a time, so a 5,000-DM fan-out does not wait for the next sweep)."""
        result = SweepResult()
        while not (self.token_refused or self.stopping.is_set()) and (ids := self._due_ids(limit)):
            outcomes = Counter(self._send_paced(ids, SWEEP_PATIENCE))
            result.sent += outcomes[Outcome.SENT]
            result.failed += outcomes[Outcome.FAILED]
            result.retrying += outcomes[Outcome.RETRYING]
            if outcomes[Outcome.HELD]:
                result.held_for = self.paces.held_for(self.clock())
                break
            if not (outcomes[Outcome.SENT] or outcomes[Outcome.FAILED] or outcomes[Outcome.RETRYING]):
                break  # what is due waits for its turn: the next sweep
        return result

    def next_sweep_in(self) -> float:
        """Seconds until a message is due (IDLE at most, POLL at least)."""
        with self.session_factory.begin() as session:
            due = store.next_due(session, self.clock())
        if due is None:
            return IDLE
        return min(max((due - self.clock()).total_seconds(), POLL), IDLE)

    def check_token(self) -> bool:
        """While Slack refuses the token, ask it again (auth.test); sending resumes once it accepts it."""
        try:
            self.client.auth_test()
        except SlackApiError as error:
            log.debug("Slack still refuses the token: %s", error.response.get("error"))
            return False
        except OSError:
            return False
        if self.token_refused:
            log.warning("Slack accepts the bot token again: the outbox resumes sending")
        self.token_refused = None
        return True

    def _send_paced(self, ids: list[int], patience: float) -> list[Outcome]:
        """Send these messages, `workers` at a time, each waiting out Slack's pauses up to `patience`;
        all stop when a whole method is held back longer, or Slack refuses the token."""
        queue = iter(ids)  # shared by the workers: each message is taken once
        stop = threading.Event()

        def work() -> list[Outcome]:
            outcomes = []
            for message_id in queue:
                if stop.is_set():
                    break
                outcomes.append(self._send(message_id, patience))
                if outcomes[-1] in (Outcome.HELD, Outcome.PAUSED, Outcome.STOPPED):
                    stop.set()
            return outcomes

        workers = min(self.workers, len(ids))
        with ContextPool(workers) as pool:  # its lines say which job or request the sends are for
            runs = [pool.submit(work) for _ in range(workers)]
        return [outcome for run in runs for outcome in run.result()]

    def _due_ids(self, limit: int) -> list[int]:
        with self.session_factory.begin() as session:
            return store.due_ids(session, self.clock(), limit)

    def _send(self, message_id: int, patience: float) -> Outcome:
        """Send one message, waiting up to `patience` seconds in all for its turn (in its lane, in its
        method's pace) and for a Retry-After; what would have to wait longer is left for later."""
        with self.sends_changed:
            self.sends += 1
        try:
            return self._send_counted(message_id, patience)
        finally:
            with self.sends_changed:
                self.sends -= 1
                self.sends_changed.notify_all()

    def _send_counted(self, message_id: int, patience: float) -> Outcome:
        waited, rate_limited = 0.0, False
        while not self.token_refused:
            if self.stopping.is_set():
                return Outcome.STOPPED
            now = self.clock()
            with self.session_factory.begin() as session:
                message = store.claim(session, message_id, now, CLAIM_HOLD, LANE_SPACING)
                if message is None:
                    claimable_at = store.claimable_at(session, message_id, now, LANE_SPACING)
                    if claimable_at is None:
                        return Outcome.GONE
                    wait = max((claimable_at - now).total_seconds(), POLL)
                    if waited + wait > patience:
                        return Outcome.RETRYING if rate_limited else Outcome.LEFT
                else:
                    try:
                        payload = self._payload_for(session, message)
                    except NotYetPosted:
                        store.mark_retry(session, message.id, now + timedelta(seconds=5), "waiting for the post")
                        return Outcome.RETRYING
                    except NeverPosted:
                        store.mark_failed(session, message.id, "the message it updates was never posted")
                        metrics.count_failed(message.method, None, "never_posted")
                        return Outcome.FAILED
            if message is None:
                self.sleep(wait)
                waited += wait
                continue
            # The claim is committed: no other sender takes this row while we wait for Slack.
            asked = self.clock()
            pause = self.paces.take_turn(message.method, asked, patience - waited)
            turn = asked + timedelta(seconds=pause)
            if pause > patience - waited:
                with self.session_factory.begin() as session:
                    store.release(session, message.id, turn)
                return Outcome.HELD
            if (until_turn := (turn - self.clock()).total_seconds()) > 0:  # taking it took a moment (a busy database)
                self.sleep(until_turn)
            waited += pause
            while not self.stopping.is_set() and (late := self.paces.clear_to_call(message.method, self.clock())) > 0:
                self.sleep(late)
                waited += late
            if self.stopping.is_set():  # not sent: given back as it was, due at once for another sender
                with self.session_factory.begin() as session:
                    store.release(session, message.id, message.next_attempt_at)
                return Outcome.STOPPED
            outcome = self._attempt(message, payload)
            if outcome is not Outcome.RATE_LIMITED:
                return outcome
            rate_limited = True  # due again after Retry-After: wait for it above, if patience allows
        return Outcome.PAUSED

    def _attempt(self, message: OutboxMessage, payload: dict[str, Any]) -> Outcome:
        try:
            response = self._call(message.method, payload)
        except SlackApiError as error:
            response = error.response
            return self._failed(
                message, response.status_code, response.get("error"), response.headers, method_answered(response)
            )
        except OSError as error:  # no connection, reset, timeout (URLError is an OSError)
            return self._failed(message, None, f"connection: {error}", {})
        except Exception as error:  # a surprise (a bug, the SDK): an attempt like any other, retried for 24 h
            log.exception("Sending outbox message %s (%s) failed unexpectedly", message.key, message.method)
            return self._failed(message, None, f"unexpected {type(error).__name__}: {error}", {})
        self.paces.call_passed(message.method, self.clock())
        with self.session_factory.begin() as session:
            store.mark_sent(session, message.id, self.clock(), _result_of(response))
        metrics.OUTBOX_SENT.labels(message.method).inc()
        return Outcome.SENT

    def _payload_for(self, session: Session, message: OutboxMessage) -> dict[str, Any]:
        payload = dict(message.payload)
        if BUILT_WHEN_SENT in payload:  # built in the claim's transaction: it shows what is committed now
            payload = self.builders[payload.pop(BUILT_WHEN_SENT)](session, payload)
        if message.updates_key:
            post = store.by_key(session, message.updates_key)
            if post is None or post.status == "failed":
                raise NeverPosted(message.updates_key)
            if post.status != "sent" or not post.result:
                raise NotYetPosted(message.updates_key)
            payload.update(channel=post.result["channel"], ts=post.result["ts"])
        return payload

    def _call(self, method: str, payload: dict[str, Any]):
        if method == "files.uploadV2":
            return self.client.files_upload_v2(**self._upload_arguments(payload))
        if "users" in payload:
            payload = self._group_arguments(payload)
        return self.client.api_call(method, json=payload)

    def _group_arguments(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A row written by post_to_group names its users: their group DM is opened here, at send
        time (opening it again on a retry gives the same conversation)."""
        arguments = dict(payload)
        arguments["channel"] = self.client.conversations_open(users=arguments.pop("users"))["channel"]["id"]
        return arguments

    def _upload_arguments(self, payload: dict[str, Any]) -> dict[str, Any]:
        """files_upload_v2 wants bytes and a channel ID: the row keeps base64 (JSON) and may name a
        user, whose DM is opened here, at send time."""
        arguments = dict(payload)
        if "content_base64" in arguments:
            arguments["content"] = base64.b64decode(arguments.pop("content_base64"))
        if arguments.get("channel", "").startswith(("U", "W")):
            arguments["channel"] = self.client.conversations_open(users=arguments["channel"])["channel"]["id"]
        return arguments

    def _failed(
        self, message: OutboxMessage, status: int | None, error: str | None, headers, answered_by: str | None = None
    ) -> Outcome:
        """`answered_by`: the call Slack answered, which may be a step of the row's (conversations.open
        for a group post, files.getUploadURLExternal for an upload)."""
        now = self.clock()
        description = f"{status or '-'} {error or ''}".strip()
        if error in TOKEN_ERRORS:
            with self.session_factory.begin() as session:
                store.release(session, message.id, message.next_attempt_at, description)
            self._refuse_token(error)
            return Outcome.PAUSED
        if status == 429:  # the whole method pauses at once, in this process and (through the database) the others
            metrics.SLACK_RATELIMITED.labels(message.method).inc()
            self.paces.rate_limited(message.method, _retry_after(headers), now)
        transient = status is None or status == 429 or status >= 500 or error in TRANSIENT_ERRORS
        with self.session_factory.begin() as session:
            if not transient:
                answered = answered_by or message.method
                log.error("Slack refused outbox message %s: %s answered %s", message.key, answered, description)
                store.mark_failed(session, message.id, description)
                metrics.count_failed(message.method, status, error)
                return Outcome.FAILED
            if now - message.created_at >= RETRY_FOR:
                log.error("Giving up on outbox message %s after %s: %s", message.key, RETRY_FOR, description)
                store.mark_failed(session, message.id, description)
                metrics.count_failed(message.method, status, error)
                return Outcome.FAILED
            if status == 429:
                delay = timedelta(seconds=_retry_after(headers))
            else:
                delay = min(self.first_backoff * 2 ** min(message.attempts - 1, 10), MAX_BACKOFF)
            log.warning("Outbox message %s will be retried in %s: %s", message.key, delay, description)
            store.mark_retry(session, message.id, now + delay, description)
        return Outcome.RATE_LIMITED if status == 429 else Outcome.RETRYING

    def _refuse_token(self, error: str) -> None:
        if self.token_refused is None:  # said once, not once per message
            log.error(
                "Slack refuses the bot token (%s): the outbox pauses, keeping every message, and resumes when "
                "Slack accepts the token again. Check SLACK_BOT_TOKEN and that the app is still installed.",
                error,
            )
        self.token_refused = error


class Sweeper:
    """A light thread that sends what is due, in every process that serves Slack: what a request's
    thread left (a long Retry-After, a busy channel, a retry after a 5xx or a dropped connection),
    and what other processes left behind. It sleeps until the next message is due, or until woken."""

    def __init__(self, sender: OutboxSender, *, probe_token_every: float = PROBE_TOKEN_EVERY) -> None:
        self.sender = sender
        self.probe_token_every = probe_token_every
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="kaizen-outbox-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.sender.wake.set()
        self.thread.join()

    def _run(self) -> None:
        sender = self.sender
        while not (self.stopping.is_set() or sender.stopping.is_set()):
            sender.wake.clear()
            try:
                if sender.token_refused and not sender.check_token():
                    delay = self.probe_token_every
                else:
                    held_for = sender.sweep().held_for
                    delay = max(sender.next_sweep_in(), min(held_for, IDLE))
            except Exception:  # the database is down, say: keep the thread, try again shortly
                log.exception("The outbox sweep failed")
                delay = IDLE
            sender.wake.wait(delay)


def method_answered(response: SlackResponse) -> str:
    """The Web API method a response is from ("conversations.open")."""
    return response.api_url.rsplit("/", 1)[-1]


def _retry_after(headers) -> float:
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0]
    try:
        return max(1.0, float(value))
    except (TypeError, ValueError):
        return 30.0


def _result_of(response) -> dict[str, Any]:
    data = response.data if hasattr(response, "data") else {}
    return {k: data[k] for k in ("channel", "ts") if isinstance(data, dict) and k in data}


def utc_now() -> datetime:
    return datetime.now(UTC)
