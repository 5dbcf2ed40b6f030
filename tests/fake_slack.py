"""A fake Slack Web API on 127.0.0.1:<random port>: records every call and answers like Slack.

Point a WebClient at `fake.api_url` (SLACK_API_URL). Failures can be scripted per method:
`fake.fail("chat.postMessage", status=429, retry_after=1)`, `status=500`, or `drop=True`
(the connection is closed with no answer), `after=N` calls that pass, `client="a"` for one process's calls
only. `fake.limit("chat.postMessage", per_second=50)` answers 429 with Retry-After once more than that many
calls arrive within a second; `fake.limit_channels(per_second=1)` does the same for the posts into each
channel (Slack allows about one message a second per channel). With `fake.hold_after_429`, a method
answered 429 stays refused to every caller until its Retry-After has passed, as Slack's limits do.

Several processes can share one fake as Slack's one workspace: give each `fake.api_url_for(name)`, and
each call records that `client` (`fake.rate_limited` keeps the calls answered 429, so a test can count
who met them). `fake.on_call(call)`, when set, sees each Web API call before it is answered and may
return False to drop it unanswered and unrecorded, as if it never reached Slack.

Like Slack, every answer names the scopes the token was granted in `X-OAuth-Scopes`: `fake.scopes`
(the fixture grants what the manifest asks for; a test can take one away).
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Call:
    method: str  # Web API method, or "response_url" for a POST to a command's response_url
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    client: str | None = None  # which process called: the name in fake.api_url_for(name)

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


@dataclass
class Failure:
    status: int = 500
    retry_after: int | None = None
    drop: bool = False
    error: str | None = None  # an ok=false answer with HTTP 200


class FakeSlack:
    BOT_USER_ID = "UKAIZENBOT"
    WORKSPACE_URL = "https://kaizen-test.slack.com/"  # what auth.test says the workspace is at

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)  # channel → its messages
        self.private_channels: set[str] = set()  # conversations.info says is_private (G… IDs always are)
        self.view_hash = True  # views.* answer with the view's hash (Slack does, though nothing requires it)
        self.socket_mode_url: str | None = None  # what apps.connections.open answers (tests/fake_socket_mode.py)
        self.channels: dict[str, dict[str, Any]] = {}  # what conversations.info says beyond the defaults
        self.unknown_users: set[str] = set()  # users.info: user_not_found (other U… IDs are people)
        self.scopes: set[str] = set()  # granted to the token: every answer's X-OAuth-Scopes header
        self.groups: dict[str, dict[str, Any]] = {}  # user groups (usergroups.list), by ID
        # By (method, client), client None for any caller; None in the deque: a call that passes.
        self._failures: dict[tuple[str, str | None], deque[Failure | None]] = defaultdict(deque)
        self._limits: dict[str, int] = {}
        self._window: dict[str, deque[float]] = defaultdict(deque)
        self._channel_limit: tuple[int, tuple[str, ...]] | None = None  # (per second, methods it applies to)
        self._channel_window: dict[str, deque[float]] = defaultdict(deque)
        self.hold_after_429 = False
        self._held_until: dict[str, float] = {}  # method: refused to everyone until then (hold_after_429)
        self.rate_limited: list[Call] = []  # the calls answered 429
        self.on_call: Callable[[Call], bool] | None = None
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    # --- set-up -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def api_url_for(self, client: str) -> str:
        """The Web API URL for one process: the same workspace, with its calls marked as that `client`'s."""
        return f"{self.base_url}/as/{client}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.base_url}/response/{name}"

    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        is_bot: bool = False,
        deleted: bool = False,
        guest: str | None = None,  # "multi" (is_restricted) or "single" (is_ultra_restricted)
        email: str | None = None,
    ) -> None:
        """A user users.info and users.list know (users.info also answers for any other U… ID); one with an
        `email` is also found by users.lookupByEmail."""
        self.users[user_id] = {
            "id": user_id,
            "name": name or user_id.lower(),
            "is_bot": is_bot,
            "deleted": deleted,
            "is_restricted": guest == "multi",
            "is_ultra_restricted": guest == "single",
        }
        if email:
            self.users[user_id]["email"] = email

    def add_channel(
        self,
        channel_id: str,
        *,
        private: bool = False,
        name: str | None = None,
        member: bool = True,
        archived: bool = False,
        exists: bool = True,
    ) -> None:
        """How conversations.info describes a channel; any other channel is public (unless G…), named
        after its ID, not archived, and has the bot as a member. One that does not exist is
        channel_not_found."""
        if private:
            self.private_channels.add(channel_id)
        self.channels[channel_id] = {"name": name, "is_member": member, "is_archived": archived, "exists": exists}

    def add_group(
        self, group_id: str, handle: str, members: list[str], *, name: str | None = None, disabled: bool = False
    ) -> None:
        """A user group usergroups.list and usergroups.users.list know (again, to change it); a disabled one
        is listed by neither, as Slack does without include_disabled."""
        self.groups[group_id] = {
            "id": group_id,
            "team_id": "T1",
            "is_usergroup": True,
            "handle": handle,
            "name": name or handle.replace("-", " ").capitalize(),
            "date_delete": 1700000000 if disabled else 0,
            "users": list(members),
            "user_count": len(members),
        }

    def add_message(self, channel: str, ts: str, text: str, *, user: str, thread_ts: str | None = None) -> None:
        """A message conversations.history / conversations.replies answer with."""
        message = {"type": "message", "ts": ts, "text": text, "user": user}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.messages[channel].append(message)

    def fail(self, method: str, *, times: int = 1, after: int = 0, client: str | None = None, **failure: Any) -> None:
        with self._lock:
            self._failures[method, client].extend([None] * after + [Failure(**failure) for _ in range(times)])

    def limit(self, method: str, per_second: int) -> None:
        self._limits[method] = per_second

    def limit_channels(self, per_second: int = 1, methods: tuple[str, ...] = ("chat.postMessage",)) -> None:
        """Answer 429 (Retry-After: 1) to a post into a channel that took `per_second` posts in the last second."""
        self._channel_limit = (per_second, methods)

    # --- what was called ------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posts_to(self, channel: str) -> list[Call]:
        return [c for c in self.calls_to("chat.postMessage") if c.get("channel") == channel]

    def modal(self) -> dict | None:
        """The view a modal shows last: the one views.open opened, or the views.update that replaced it."""
        views = [c for c in self.calls_to("views.open") + self.calls_to("views.update")]
        return max(views, key=lambda c: c.at)["view"] if views else None

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    # --- answering ------------------------------------------------------------------
    def _answer(
        self, method: str, params: dict[str, Any], client: str | None = None
    ) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        call = Call(method, params, client=client)
        if self.on_call is not None and not self.on_call(call):
            return -1, {}, None
        with self._lock:
            now = time.monotonic()
            held_until = self._held_until.get(method, 0.0)
            if now < held_until:  # hold_after_429: refused until the Retry-After already given has passed
                failure = Failure(status=429, retry_after=math.ceil(held_until - now))
            else:
                failure = self._scripted_failure(method, client) or self._over_a_limit(method, params, now)
                if failure is not None and failure.status == 429 and self.hold_after_429:
                    self._held_until[method] = now + (failure.retry_after or 0)
            if failure is not None and failure.status == 429:
                self.rate_limited.append(call)
            if failure is None or failure.error:
                self.calls.append(call)
        if failure is not None:
            if failure.drop:
                return -1, {}, None
            if failure.error:
                return 200, {}, {"ok": False, "error": failure.error}
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            body = {"ok": False, "error": "ratelimited" if failure.status == 429 else "internal_error"}
            return failure.status, headers, body
        return 200, {"X-OAuth-Scopes": ",".join(sorted(self.scopes))}, self._ok(method, params)

    def _scripted_failure(self, method: str, client: str | None) -> Failure | None:
        for queue in (self._failures[method, client], self._failures[method, None]):
            if queue:
                return queue.popleft()
        return None

    def _over_a_limit(self, method: str, params: dict[str, Any], now: float) -> Failure | None:
        """A 429 if this call is over the method's limit or its channel's."""
        windows = []
        if method in self._limits:
            windows.append((self._window[method], self._limits[method]))
        if self._channel_limit and method in self._channel_limit[1] and params.get("channel"):
            windows.append((self._channel_window[params["channel"]], self._channel_limit[0]))
        for window, per_second in windows:
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= per_second:
                return Failure(status=429, retry_after=1)
        for window, _ in windows:
            window.append(now)
        return None

    def _ok(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": self.BOT_USER_ID,
                "bot_id": "BKAIZEN",
                "team_id": "T1",
                "user": "kaizen",
                "url": self.WORKSPACE_URL,
            }
        if method == "apps.connections.open":  # Socket Mode's URL for the app-level token
            url = self.socket_mode_url or f"wss://wss-primary.slack.test/link/?ticket={next(self._ts)}"
            return {"ok": True, "url": url}
        if method == "users.info":
            user_id = params.get("user", "")
            user = self.users.get(user_id)
            if user is None and user_id.startswith(("U", "W")) and user_id not in self.unknown_users:
                user = {"id": user_id, "name": user_id.lower(), "is_bot": False, "deleted": False}
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": _user_object(user)}
        if method == "users.list":
            # The users added with add_user, in pages of `limit`; the cursor is where the next page starts.
            users = [_user_object(user) for _, user in sorted(self.users.items())]
            start = int(params.get("cursor") or 0)
            end = start + int(params.get("limit") or 1000)
            next_cursor = str(end) if end < len(users) else ""
            return {"ok": True, "members": users[start:end], "response_metadata": {"next_cursor": next_cursor}}
        if method == "users.lookupByEmail":
            email = params.get("email", "").lower()
            user = next((u for u in self.users.values() if u.get("email", "").lower() == email), None)
            return {"ok": True, "user": _user_object(user)} if user else {"ok": False, "error": "users_not_found"}
        if method == "usergroups.list":
            with_users = str(params.get("include_users")).lower() in ("1", "true")
            groups = [
                g if with_users else {k: v for k, v in g.items() if k != "users"}
                for g in self.groups.values()
                if not g["date_delete"]
            ]
            return {"ok": True, "usergroups": groups}
        if method == "usergroups.users.list":
            group = self.groups.get(params.get("usergroup", ""))
            if group is None or group["date_delete"]:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": group["users"]}
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"{1700000000 + next(self._ts)}.000100"
            return {"ok": True, "channel": params.get("channel"), "ts": ts}
        if method == "conversations.info":
            channel = params.get("channel", "")
            private = channel in self.private_channels or channel.startswith("G")
            known = self.channels.get(channel, {})
            if not known.get("exists", True):
                return {"ok": False, "error": "channel_not_found"}
            return {
                "ok": True,
                "channel": {
                    "id": channel,
                    "name": known.get("name") or channel.lower(),
                    "is_channel": not private,
                    "is_private": private,
                    "is_member": known.get("is_member", True),
                    "is_archived": known.get("is_archived", False),
                },
            }
        if method in ("views.open", "views.update", "views.push"):
            view_id = params.get("view_id") or f"V{params.get('trigger_id')}"
            view = {"id": view_id, **({"hash": f"{view_id}-{next(self._ts)}"} if self.view_hash else {})}
            return {"ok": True, "view": view}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + params.get("users", "")}}
        if method == "chat.getPermalink":
            message = "p" + str(params.get("message_ts", "1")).replace(".", "")
            return {"ok": True, "permalink": f"https://example.slack.com/archives/{params.get('channel')}/{message}"}
        if method == "conversations.history":
            # The channel's own messages (not thread replies), newest first, up to `latest`.
            latest = float(params.get("latest") or "inf")
            inclusive = str(params.get("inclusive")).lower() in ("1", "true")
            found = [
                m
                for m in self.messages[params.get("channel", "")]
                if m.get("thread_ts", m["ts"]) == m["ts"]
                and (float(m["ts"]) < latest or (inclusive and float(m["ts"]) == latest))
            ]
            found.sort(key=lambda m: float(m["ts"]), reverse=True)
            return {"ok": True, "messages": found[: int(params.get("limit") or 100)]}
        if method == "conversations.replies":
            # The whole thread the message `ts` is in, parent first.
            messages = self.messages[params.get("channel", "")]
            target = next((m for m in messages if m["ts"] == params.get("ts")), None)
            if target is None:
                return {"ok": False, "error": "thread_not_found"}
            thread = target.get("thread_ts", target["ts"])
            found = [m for m in messages if m["ts"] == thread or m.get("thread_ts") == thread]
            return {"ok": True, "messages": sorted(found, key=lambda m: float(m["ts"]))}
        if method == "files.getUploadURLExternal":
            return {"ok": True, "upload_url": f"{self.base_url}/upload/F{next(self._ts)}", "file_id": "F123"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": "F123", "title": params.get("files", "")}]}
        return {"ok": True}

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = urlparse(self.path).path
                if path.startswith("/upload/"):
                    with fake._lock:
                        fake.calls.append(Call("file_upload", {"path": path, "bytes": raw}))
                    return self._send(200, {}, None, b"OK")
                params = _parse_body(raw, self.headers.get("Content-Type", ""))
                params.update({k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()})
                if path.startswith("/response/"):
                    with fake._lock:
                        fake.calls.append(Call("response_url", params))
                    return self._send(200, {}, None, b"ok")
                client, _, method = path.removeprefix("/as/").rpartition("/api/")
                status, headers, body = fake._answer(method, params, client or None)
                if status == -1:  # drop the connection without a word
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                return self._send(status, headers, body)

            do_GET = do_POST

            def _send(self, status: int, headers: dict[str, str], body: dict | None, raw: bytes | None = None):
                payload = raw if raw is not None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if raw is None else "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def _user_object(user: dict[str, Any]) -> dict[str, Any]:
    profile = {"display_name": user["name"], **({"email": user["email"]} if "email" in user else {})}
    return {**{k: v for k, v in user.items() if k != "email"}, "profile": profile}


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        return json.loads(raw)
    if "multipart" in content_type:
        return {"multipart": True}
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
    for key in ("blocks", "view", "attachments"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params
