"""Who a Slack user ID is, from users.info, cached for a while per process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

SLACKBOT = "USLACKBOT"


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    is_bot: bool
    deleted: bool

    @property
    def is_person(self) -> bool:
        return not (self.is_bot or self.deleted)


class UserDirectory:
    def __init__(self, client: WebClient, ttl_seconds: float = 600, monotonic: Callable[[], float] = time.monotonic):
        self.client = client
        self.ttl = ttl_seconds
        self.monotonic = monotonic
        self._cache: dict[str, tuple[float, SlackUser | None]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> SlackUser | None:
        """The user, or None when Slack does not know the ID. Other Slack errors propagate."""
        with self._lock:
            cached = self._cache.get(user_id)
        if cached and self.monotonic() - cached[0] < self.ttl:
            return cached[1]
        user = self._fetch(user_id)
        with self._lock:
            self._cache[user_id] = (self.monotonic(), user)
        return user

    def _fetch(self, user_id: str) -> SlackUser | None:
        try:
            info = self.client.users_info(user=user_id)["user"]
        except SlackApiError as error:
            if error.response.get("error") == "user_not_found":
                return None
            raise
        profile = info.get("profile") or {}
        return SlackUser(
            id=info["id"],
            name=profile.get("display_name") or info.get("real_name") or info.get("name") or info["id"],
            is_bot=bool(info.get("is_bot")) or info["id"] == SLACKBOT,
            deleted=bool(info.get("deleted")),
        )
