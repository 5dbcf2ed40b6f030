"""The outbox: every Slack message the bot sends is a row first, sent after commit.

Services call `post_message` / `post_to_group` / `update_message` / `enqueue` inside their transaction.
`OutboxSender.deliver` sends those rows right after the commit; `OutboxSender.sweep`
(a scheduled job) sends whatever is still due: retries after a 429, a 5xx, a dropped
connection or a restart. Each row is claimed before it is sent, so two senders never
send the same row. A job's fan-out (`deliver(..., wait=True)`) and the sweep send a few
rows at a time and wait for Slack's pace (see _Throttle); a Slack request's thread never waits.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from storage import outbox as store
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

OUTBOX_KEYS = "outbox_keys"  # session.info entry: keys written in this transaction
RETRY_FOR = timedelta(hours=24)
CLAIM_HOLD = timedelta(minutes=2)
MAX_BACKOFF = timedelta(minutes=30)
# Slack answers these with ok=false but they pass; anything else with ok=false is final.
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# A pause longer than this is not waited out in a sweep: the next sweep picks the rows up.
LONGEST_WAIT_IN_SWEEP = 60.0
CHANNEL_SPACING = 1.0  # Slack allows about one message a second per channel
PACE_KEPT_FOR = 60.0  # after a 429, then full speed again until the next one
PACE_MARGIN = 1.05  # keep a little under the pace that passed


def enqueue(
    session: Session,
    key: str,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    updates_key: str | None = None,
    not_before: datetime | None = None,
) -> None:
    """Owe Slack one Web API call; `key` is unique, so the same message is never written twice."""
    store.add_message(session, key, method, payload, now, updates_key, not_before)
    session.info.setdefault(OUTBOX_KEYS, []).append(key)


def post_message(
    session: Session, key: str, *, channel: str, text: str, blocks: list[dict] | None, now: datetime
) -> None:
    payload: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False}
    if blocks:
        payload["blocks"] = blocks
    enqueue(session, key, "chat.postMessage", payload, now)


def post_to_group(
    session: Session, key: str, *, users: list[str], text: str, blocks: list[dict] | None, now: datetime
) -> None:
    """Post into the group DM of `users`, which is opened (conversations.open) when it is sent."""
    payload: dict[str, Any] = {"users": ",".join(users), "text": text, "unfurl_links": False}
    if blocks:
        payload["blocks"] = blocks
    enqueue(session, key, "chat.postMessage", payload, now)


def update_message(session: Session, key: str, *, of: str, text: str, blocks: list[dict] | None, now: datetime) -> None:
    """Edit the message posted under key `of`; an unsent older update of it is replaced."""
    store.drop_pending(session, updates_key=of)
    payload: dict[str, Any] = {"text": text}
    if blocks:
        payload["blocks"] = blocks
    enqueue(session, key, "chat.update", payload, now, updates_key=of)


class NotYetPosted(Exception):
    """An update whose message has not been posted yet."""


class NeverPosted(Exception):
    """An update of a message that was never posted (Slack refused it, or it was dropped)."""


@dataclass
class SweepResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


class _Throttle:
    """How fast to call Slack, shared by every thread of one sender:

    - a 429 pauses its whole Web API method for Retry-After;
    - after a 429 the method keeps the pace that passed (the calls in the second before it) for
      PACE_KEPT_FOR, so a fan-out runs at Slack's limit instead of bursting into it every second;
    - a channel gets about one message a second.
    Each call takes a turn per method and per channel, so threads never call at the same moment.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.paused_until: dict[str, float] = {}
        self.pace: dict[str, tuple[float, float]] = {}  # method: (seconds between calls, kept until)
        self.next_turn: dict[str, float] = {}  # by method, and by "#channel"
        self.passed: dict[str, deque[float]] = defaultdict(deque)  # method: its calls of the last second

    def take_turn(self, method: str, channel: str | None, now: float, *, wait: bool) -> tuple[float, bool]:
        """(seconds to wait, whether the whole method is held back). The turn is taken when it is
        now, or when the caller will `wait` for it."""
        with self.lock:
            spacing, kept_until = self.pace.get(method, (0.0, 0.0))
            method_start = max(now, self.paused_until.get(method, now), self.next_turn.get(method, now))
            start = max(method_start, self.next_turn.get("#" + channel, now)) if channel else method_start
            if wait or start <= now:
                self.next_turn[method] = method_start + (spacing if now < kept_until else 0.0)
                if channel:
                    self.next_turn["#" + channel] = start + CHANNEL_SPACING
            return start - now, method_start > now

    def call_passed(self, method: str, now: float) -> None:
        with self.lock:
            self._last_second(method, now).append(now)

    def rate_limited(self, method: str, retry_after: float, now: float) -> None:
        with self.lock:
            self.paused_until[method] = max(self.paused_until.get(method, now), now + retry_after)
            passed = len(self._last_second(method, now))
            if passed:  # nothing passed: Slack is busy with someone else, and Retry-After says enough
                self.pace[method] = (PACE_MARGIN / passed, now + PACE_KEPT_FOR)

    def _last_second(self, method: str, now: float) -> deque[float]:
        calls = self.passed[method]
        while calls and calls[0] <= now - 1.0:
            calls.popleft()
        return calls


class OutboxSender:
    def __init__(
        self,
        session_factory: sessionmaker,
        client: WebClient,
        clock: Callable[[], datetime],
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        workers: int = 4,
    ) -> None:
        self.session_factory = session_factory
        self.client = client
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        # Waiting out Slack's pauses, sends overlap this many at a time (a job's fan-out, the sweep).
        self.workers = workers
        self.throttle = _Throttle()

    def deliver(self, keys: Iterable[str], *, wait: bool = False) -> None:
        """Send these just-committed messages now; what fails stays due for the sweep.

        Without `wait` (a Slack request's thread) in order and without waiting: what Slack's pacing
        holds back is left to the sweep. With it (a job's fan-out), as the sweep sends.
        """
        keys = list(keys)
        if not keys:
            return
        with self.session_factory.begin() as session:
            ids = store.ids_for_keys(session, keys)
        if wait:
            self._send_paced(ids)
            return
        for message_id in ids:
            if self._send_one(message_id, wait=False) == "stop":
                break  # Slack asked us to slow down: the rest stay due, and the sweep sends them at its pace

    def sweep(self, limit: int = 1000) -> SweepResult:
        """Send every message that is due, oldest first, pacing to Slack's limits, until none is due
        (`limit` at a time, so a 5,000-DM fan-out does not wait for the next sweep)."""
        result = SweepResult()
        while ids := self._due_ids(limit):
            outcomes = self._send_paced(ids)
            for outcome in filter(None, outcomes):
                if outcome != "stop":
                    setattr(result, outcome, getattr(result, outcome) + 1)
            if "stop" in outcomes:
                break
        return result

    def _send_paced(self, ids: list[int]) -> list[str | None]:
        """Send these messages, `workers` at a time, each waiting out Slack's pauses; all stop
        when one would have to wait longer than LONGEST_WAIT_IN_SWEEP."""
        queue = iter(ids)  # shared by the workers: each message is taken once
        stop = threading.Event()

        def work() -> list[str | None]:
            outcomes = []
            for message_id in queue:
                if stop.is_set():
                    break
                outcomes.append(self._send_one(message_id, wait=True))
                if outcomes[-1] == "stop":
                    stop.set()
            return outcomes

        with ThreadPoolExecutor(self.workers) as pool:
            runs = [pool.submit(work) for _ in range(self.workers)]
        return [outcome for run in runs for outcome in run.result()]

    def _due_ids(self, limit: int) -> list[int]:
        with self.session_factory.begin() as session:
            return store.due_ids(session, self.clock(), limit)

    def _send_one(self, message_id: int, *, wait: bool) -> str | None:
        with self.session_factory.begin() as session:
            message = store.claim(session, message_id, self.clock(), CLAIM_HOLD)
            if message is None:
                return None
            try:
                payload = self._payload_for(session, message)
            except NotYetPosted:
                store.mark_retry(session, message.id, self.clock() + timedelta(seconds=5), "waiting for the post")
                return "retrying"
            except NeverPosted:
                store.mark_failed(session, message.id, "the message it updates was never posted")
                return "failed"
        # The claim is committed: no other sender takes this row while we wait for Slack.
        channel = payload.get("channel") if message.method == "chat.postMessage" else None
        pause, whole_method = self.throttle.take_turn(message.method, channel, self.monotonic(), wait=wait)
        if pause > 0:
            if not wait or pause > LONGEST_WAIT_IN_SWEEP:
                with self.session_factory.begin() as session:
                    later = self.clock() + timedelta(seconds=pause)
                    store.mark_retry(session, message.id, later, message.last_error or "paced")
                # A method held back stops this round; one busy channel delays only its own message.
                return "stop" if whole_method else None
            self.sleep(pause)
        try:
            response = self._call(message.method, payload)
        except SlackApiError as error:
            response = error.response
            return self._failed(message, response.status_code, response.get("error"), response.headers)
        except OSError as error:  # no connection, reset, timeout (URLError is an OSError)
            return self._failed(message, None, f"connection: {error}", {})
        self.throttle.call_passed(message.method, self.monotonic())
        with self.session_factory.begin() as session:
            store.mark_sent(session, message.id, self.clock(), _result_of(response))
        return "sent"

    def _payload_for(self, session: Session, message: OutboxMessage) -> dict[str, Any]:
        payload = dict(message.payload)
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

    def _failed(self, message: OutboxMessage, status: int | None, error: str | None, headers) -> str:
        now = self.clock()
        description = f"{status or '-'} {error or ''}".strip()
        transient = status is None or status == 429 or status >= 500 or error in TRANSIENT_ERRORS
        with self.session_factory.begin() as session:
            if not transient:
                log.error("Slack refused outbox message %s (%s): %s", message.key, message.method, description)
                store.mark_failed(session, message.id, description)
                return "failed"
            if now - message.created_at >= RETRY_FOR:
                log.error("Giving up on outbox message %s after %s: %s", message.key, RETRY_FOR, description)
                store.mark_failed(session, message.id, description)
                return "failed"
            if status == 429:
                delay = timedelta(seconds=_retry_after(headers))
                self.throttle.rate_limited(message.method, delay.total_seconds(), self.monotonic())
            else:
                delay = min(timedelta(seconds=15 * 2 ** min(message.attempts - 1, 10)), MAX_BACKOFF)
            log.warning("Outbox message %s will be retried in %s: %s", message.key, delay, description)
            store.mark_retry(session, message.id, now + delay, description)
        return "retrying"


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
