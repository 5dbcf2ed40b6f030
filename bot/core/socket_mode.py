"""Socket Mode that stays connected: `kaizen run` reconnects on its own after a drop, a refused
connection, a Socket Mode server restart or Slack's `disconnect` message, with backoff, and says so.

Each connection is one slack_sdk `websocket_client.SocketModeClient` (the websocket-client package),
which sees a closed socket at once, with its own reconnecting switched off: the keeper here decides
when to connect again, and opens each connection with a new URL. Why not the built-in client that
Bolt's `SocketModeHandler` uses: it reads an end of stream (the server gone) as "no data yet", so it
spins on the dead socket while its monitor's pings fail with BrokenPipeError, and drops it only after
five failures in a row, one per ping interval: 50 s with Bolt's default, measured against a local
server killed and restarted. And not websocket_client's own reconnecting either: it runs from three
threads (the receiver, a monitor, the `disconnect` handler), each opening a connection of its own
(measured: two apps.connections.open calls at start and two for one `disconnect`, and once a 10 s
wait before the new connection was read), and while the server is down it tries every half second.
"""

from __future__ import annotations

import json
import logging
import threading
import time

from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.websocket_client import SocketModeClient
from websocket import WebSocketException

from bot.core.outbox import TRANSIENT_ERRORS

log = logging.getLogger(__name__)
# slack_sdk's client logs "A new session has been established" at each attempt, even a failed one; the
# keeper says what happened. Its warnings and errors still show.
SDK_LOG = log.getChild("slack_sdk")
SDK_LOG.setLevel(logging.WARNING)

FIRST_BACKOFF = 1.0  # seconds before the second attempt, doubling at each failure up to MAX_BACKOFF
MAX_BACKOFF = 60.0
OPEN_WITHIN = 30.0  # a connection not open by then counts as a failed attempt
PING_EVERY = 10.0  # seconds between the client's pings; no pong for PINGS_UNANSWERED of them: a silent drop
PINGS_UNANSWERED = 3


class Connection(SocketModeClient):
    """One Socket Mode connection. `ended` is set once it closed (`lost`, and `why`) or Slack asked
    for a new one (`refresh` says why; it stays open meanwhile)."""

    def __init__(self, app: App, app_token: str, ping_every: float) -> None:
        self.opened, self.lost, self.ended = threading.Event(), threading.Event(), threading.Event()
        self.opened_at = 0.0
        self.why = "closed"
        self.refresh: str | None = None
        super().__init__(
            app_token,
            web_client=app.client,
            logger=SDK_LOG,
            auto_reconnect_enabled=False,
            ping_interval=ping_every,
            on_open_listeners=[self._note_opened],
            on_message_listeners=[self._note_disconnect],
            on_error_listeners=[self._note_error],
            on_close_listeners=[self._note_closed],
        )
        self.socket_mode_request_listeners.append(lambda client, request: _dispatch(app, client, request))

    @property
    def is_open(self) -> bool:
        return self.opened.is_set() and not self.lost.is_set()

    def silent_for(self) -> float:
        """Seconds since the server last answered a ping (or since the connection opened)."""
        session = self.current_session
        last_pong = session.last_pong_tm if session is not None else 0.0
        return time.time() - max(last_pong or 0.0, self.opened_at)

    def connect_to_new_endpoint(self, force: bool = False) -> None:
        """slack_sdk's answer to a `disconnect` message (its own reconnecting being off, the only
        caller): the keeper opens the next connection, then closes this one."""
        self.refresh = self.refresh or "disconnect"
        self.ended.set()

    def close_at_once(self) -> None:
        """Close within a second or so, for a process that stops: a close frame to the server, then the
        socket shut, which wakes the thread reading it (slack_sdk's close() alone leaves that thread in
        websocket-client's select for up to 10 s, measured), then slack_sdk's close()."""
        socket = self.current_session.sock if self.current_session is not None else None
        if socket is not None and socket.connected:
            try:
                socket.send_close()
            except (OSError, WebSocketException) as error:
                log.debug("Socket Mode: no close frame sent (%s)", error)
            socket.abort()
        self.close()

    def _note_opened(self, _ws) -> None:
        self.opened_at = time.time()  # as websocket-client times its pongs
        self.opened.set()

    def _note_disconnect(self, _ws, raw: str) -> None:
        if '"disconnect"' in raw:
            message = json.loads(raw)
            if message.get("type") == "disconnect":
                self.refresh = f"disconnect, {message.get('reason', 'no reason given')}"

    def _note_error(self, _ws, error: Exception) -> None:
        self.why = f"{type(error).__name__}: {error}"

    def _note_closed(self, _ws) -> None:
        self.lost.set()
        self.ended.set()


def _dispatch(app: App, client: SocketModeClient, request: SocketModeRequest) -> None:
    """Bolt's handling of an envelope, acknowledged on the connection it came over."""
    send_response(client, request, run_bolt_app(app, request), time.time())


class SocketModeKeeper:
    """Keeps one Socket Mode connection open for the Bolt app; `run()` blocks until `stop()`."""

    def __init__(
        self,
        app: App,
        app_token: str,
        *,
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        ping_every: float = PING_EVERY,
    ) -> None:
        self.app = app
        self.app_token = app_token
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.ping_every = ping_every
        self.current: Connection | None = None  # the open connection, or one Slack asked to replace
        self.stopping = threading.Event()

    def problem(self) -> str | None:
        """For /readyz: None while a connection is open."""
        current = self.current
        return None if current is not None and current.is_open else "socket disconnected"

    def stop(self) -> None:
        """End run(): it closes the connection before it returns (SIGTERM: no new request comes in)."""
        self.stopping.set()
        current = self.current
        if current is not None:
            current.ended.set()

    def run(self) -> None:
        """Connect; whenever the connection ends, connect again (at once, then backing off while
        attempts fail); when Slack asks for a new connection, open it before closing the old one."""
        failures, connected_before = 0, False
        while not self.stopping.is_set():
            if self.current is not None and self.current.lost.is_set():
                self._replace_with(None)  # at once: its client would try its old URL again
            if failures:
                delay = min(self.first_backoff * 2 ** (failures - 1), self.max_backoff)
                log.info("Socket Mode: connecting again in %g s (attempt %d)", delay, failures + 1)
                if self.stopping.wait(delay):
                    break
            else:
                log.info("Socket Mode: connecting%s", " again" if connected_before else "")
            connection = self._open(first_ever=not connected_before)
            if connection is None:
                failures += 1
                continue
            log.info("Socket Mode: connected%s", f" again after {failures + 1} attempt(s)" if connected_before else "")
            self._replace_with(connection)
            if self.stopping.is_set():  # stop() came while it opened: it did not see this connection
                break
            failures, connected_before = 0, True
            self._wait_until_over(connection)
            if connection.refresh and not connection.lost.is_set():
                log.info("Socket Mode: Slack asked for a new connection (%s)", connection.refresh)
            elif not self.stopping.is_set():
                log.warning("Socket Mode: the connection was lost (%s); reconnecting", connection.why)
        last, self.current = self.current, None
        if last is not None:
            last.close_at_once()  # before run() returns
            log.info("Socket Mode: connection closed")

    def _wait_until_over(self, connection: Connection) -> None:
        """Until the connection closes, Slack asks for a new one, or it goes silent: a connection
        dropped on the way (a NAT, a network change) may never say it closed."""
        silent_after = self.ping_every * PINGS_UNANSWERED
        while not connection.ended.wait(self.ping_every):
            if connection.silent_for() > silent_after:
                connection.why = f"no answer to pings for {silent_after:g} s"
                connection.lost.set()
                connection.ended.set()

    def _open(self, *, first_ever: bool) -> Connection | None:
        """A new connection, open; None if this attempt failed (logged)."""
        connection = Connection(self.app, self.app_token, self.ping_every)
        try:
            connection.connect()  # asks Slack for a URL (apps.connections.open); connects on its own thread
        except SlackApiError as error:
            status, code = error.response.status_code, error.response.get("error")
            if first_ever and status < 500 and code not in TRANSIENT_ERRORS:
                _close_soon(connection)
                raise  # a wrong app token, say: `kaizen run` stops and says why
            connection.why = f"apps.connections.open answered {status} {code}"
        except OSError as error:  # URLError too
            connection.why = f"cannot reach Slack: {error}"
        else:
            deadline = time.monotonic() + OPEN_WITHIN
            while not (connection.opened.wait(0.1) or connection.lost.is_set() or self.stopping.is_set()):
                if time.monotonic() > deadline:
                    connection.why = f"not open within {OPEN_WITHIN:.0f} s"
                    break
            if connection.is_open:
                return connection
        if not self.stopping.is_set():
            log.warning("Socket Mode: could not connect (%s)", connection.why)
        _close_soon(connection)
        return None

    def _replace_with(self, connection: Connection | None) -> None:
        previous, self.current = self.current, connection
        if previous is not None:
            _close_soon(previous)


def _close_soon(connection: Connection) -> None:
    """Close on a thread of its own: closing waits for the connection's threads, which may take seconds."""
    threading.Thread(target=connection.close, name="kaizen-socket-close", daemon=True).start()
