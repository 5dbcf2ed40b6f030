"""The outbox: every Slack message the bot sends is a row first, sent after commit.

Services call `post_message` / `update_message` / `enqueue` inside their transaction.
`OutboxSender.deliver` sends those rows right after the commit; `OutboxSender.sweep`
(a scheduled job) sends whatever is still due: retries after a 429, a 5xx, a dropped
connection or a restart. Each row is claimed before it is sent, so two senders never
send the same row.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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


def enqueue(
    session: Session,
    key: str,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    updates_key: str | None = None,
) -> None:
    """Owe Slack one Web API call; `key` is unique, so the same message is never written twice."""
    store.add_message(session, key, method, payload, now, updates_key)
    session.info.setdefault(OUTBOX_KEYS, []).append(key)


def post_message(
    session: Session, key: str, *, channel: str, text: str, blocks: list[dict] | None, now: datetime
) -> None:
    payload: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False}
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


@dataclass
class SweepResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass
class _Pauses:
    """Slack told us to wait (429 Retry-After): per Web API method, shared by every thread."""

    until: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pause(self, method: str, seconds: float, clock: Callable[[], float]) -> None:
        with self.lock:
            self.until[method] = max(self.until.get(method, 0.0), clock() + seconds)

    def remaining(self, method: str, clock: Callable[[], float]) -> float:
        with self.lock:
            return max(0.0, self.until.get(method, 0.0) - clock())


class OutboxSender:
    def __init__(
        self,
        session_factory: sessionmaker,
        client: WebClient,
        clock: Callable[[], datetime],
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session_factory = session_factory
        self.client = client
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self.pauses = _Pauses()
        self.last_post_to: dict[str, float] = {}

    def deliver(self, keys: Iterable[str]) -> None:
        """Send these just-committed messages now; what fails stays due for the sweep."""
        keys = list(keys)
        if not keys:
            return
        with self.session_factory.begin() as session:
            ids = store.ids_for_keys(session, keys)
        for message_id in ids:
            if self._send_one(message_id, wait=False) == "stop":
                break  # Slack asked us to slow down: the rest stay due, and the sweep sends them at its pace

    def sweep(self, limit: int = 1000) -> SweepResult:
        """Send every message that is due, oldest first, pacing to Slack's limits, until none is due
        (`limit` at a time, so a 5,000-DM fan-out does not wait for the next sweep)."""
        result = SweepResult()
        while ids := self._due_ids(limit):
            for message_id in ids:
                outcome = self._send_one(message_id, wait=True)
                if outcome == "stop":
                    return result
                if outcome:
                    setattr(result, outcome, getattr(result, outcome) + 1)
        return result

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
        # The claim is committed: no other sender takes this row while we wait for Slack.
        backoff = self.pauses.remaining(message.method, self.monotonic)
        pause = max(backoff, self._channel_pace(message.method, payload))
        if pause > 0:
            if not wait or pause > LONGEST_WAIT_IN_SWEEP:
                with self.session_factory.begin() as session:
                    later = self.clock() + timedelta(seconds=pause)
                    store.mark_retry(session, message.id, later, message.last_error or "paced")
                # A 429 holds back the whole method; one busy channel only this message.
                return "stop" if backoff > 0 else None
            self.sleep(pause)
        try:
            response = self._call(message.method, payload)
        except SlackApiError as error:
            response = error.response
            return self._failed(message, response.status_code, response.get("error"), response.headers)
        except OSError as error:  # no connection, reset, timeout (URLError is an OSError)
            return self._failed(message, None, f"connection: {error}", {})
        with self.session_factory.begin() as session:
            store.mark_sent(session, message.id, self.clock(), _result_of(response))
        return "sent"

    def _channel_pace(self, method: str, payload: dict[str, Any]) -> float:
        """Seconds to wait so that one channel gets at most one message per second."""
        channel = payload.get("channel")
        if method != "chat.postMessage" or not channel:
            return 0.0
        return self.last_post_to.get(channel, -1e9) + 1.0 - self.monotonic()

    def _payload_for(self, session: Session, message: OutboxMessage) -> dict[str, Any]:
        payload = dict(message.payload)
        if message.updates_key:
            post = store.by_key(session, message.updates_key)
            if post is None or post.status != "sent" or not post.result:
                raise NotYetPosted(message.updates_key)
            payload.update(channel=post.result["channel"], ts=post.result["ts"])
        return payload

    def _call(self, method: str, payload: dict[str, Any]):
        if method == "chat.postMessage" and payload.get("channel"):
            self.last_post_to[payload["channel"]] = self.monotonic()
        if method == "files.uploadV2":
            return self.client.files_upload_v2(**self._upload_arguments(payload))
        return self.client.api_call(method, json=payload)

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
                self.pauses.pause(message.method, delay.total_seconds(), self.monotonic)
            else:
                delay = min(timedelta(seconds=15 * 2 ** (message.attempts - 1)), MAX_BACKOFF)
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
