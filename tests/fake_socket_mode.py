"""A fake Slack Socket Mode server on 127.0.0.1 (the `websockets` package's server), where the fake
Slack's apps.connections.open sends the bot. A test sends envelopes as Slack does and reads the bot's
acknowledgements; `stop()` is the server gone as a killed process goes (every connection dropped with
no close frame), and `start()` brings it back on the same port."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.sync.server import Server, ServerConnection, serve

HELLO = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}


class FakeSocketMode:
    def __init__(self) -> None:
        self.port = 0  # chosen by the system at the first start, kept after
        self.server: Server | None = None
        self.connections: list[ServerConnection] = []
        self.history: list[tuple[str, int]] = []  # ("opened" | "closed", the connection's number from 1)
        self.acks: dict[str, dict[str, Any]] = {}  # envelope_id: what the bot answered
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    def start(self) -> FakeSocketMode:
        self.server = serve(self._serve, "127.0.0.1", self.port)
        self.port = self.server.socket.getsockname()[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        assert self.server is not None
        self.server.socket.close()  # refuses new connections at once
        for connection in self.open_connections():
            connection.socket.shutdown(socket.SHUT_RDWR)  # the peer reads an end of stream, as from a killed process
        self.server.shutdown()
        self.server = None

    def go_silent(self) -> None:
        """The open connections stay open but answer nothing, not even pings: a connection dropped on
        the way (a NAT forgot it, a network changed), which no one closes."""
        for connection in self.open_connections():
            send = connection.protocol.send_frame
            connection.protocol.send_frame = lambda frame, send=send: (
                None if frame.opcode is Opcode.PONG else send(frame)
            )

    def open_connections(self) -> list[ServerConnection]:
        with self.lock:
            return [c for c in self.connections if c.state is State.OPEN]

    def send(self, message: dict[str, Any]) -> None:
        """To the newest open connection, as Slack sends to one of an app's connections."""
        self.open_connections()[-1].send(json.dumps(message))

    def command(self, command: str, text: str, *, user: str, response_url: str) -> str:
        """A slash command as a Socket Mode envelope; returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        payload = {
            "team_id": "T1",
            "channel_id": "CGENERAL",
            "user_id": user,
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": f"trigger-{envelope_id}",
        }
        self.send(
            {"envelope_id": envelope_id, "type": "slash_commands", "accepts_response_payload": True, "payload": payload}
        )
        return envelope_id

    def _serve(self, connection: ServerConnection) -> None:
        with self.lock:
            self.connections.append(connection)
            number = len(self.connections)
            self.history.append(("opened", number))
        connection.send(json.dumps(HELLO))
        try:
            for raw in connection:
                message = json.loads(raw)
                if "envelope_id" in message:
                    with self.lock:
                        self.acks[message["envelope_id"]] = message
        except ConnectionClosed:
            pass
        with self.lock:
            self.history.append(("closed", number))
