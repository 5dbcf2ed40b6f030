"""Who a Slack user is, by ID (users.info) or by e-mail (users.lookupByEmail), cached for a while per process."""

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
    is_guest: bool = False  # a single- or multi-channel guest

    @property
    def is_person(self) -> bool:
        return not (self.is_bot or self.deleted)


def slack_user(info: dict) -> SlackUser:
    """A user object of users.info or users.list."""
    profile = info.get("profile") or {}
    return SlackUser(
        id=info["id"],
        name=profile.get("display_name") or info.get("real_name") or info.get("name") or info["id"],
        is_bot=bool(info.get("is_bot") or info.get("is_workflow_bot")) or info["id"] == SLACKBOT,
        deleted=bool(info.get("deleted")),
        is_guest=bool(info.get("is_restricted") or info.get("is_ultra_restricted")),
    )


UserLookup = Callable[[str], SlackUser | None]  # who an ID is: UserDirectory.get, or a test's stand-in


class NotAnActivePerson(Exception):
    """Someone named who is not a current human member, or Slack could not say; `reason` is for the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def active_people(lookup: UserLookup, user_ids: list[str], bots_refusal: str) -> list[SlackUser]:
    """The named people, each checked with Slack; `bots_refusal` finishes "<@U…> is a bot: "."""
    people = []
    for user_id in user_ids:
        try:
            user = lookup(user_id)
        except (SlackApiError, OSError):
            raise NotAnActivePerson(
                "I couldn't check the people you named with Slack just now, so nothing was recorded. "
                "Please try again in a minute."
            ) from None
        if user is None or user.deleted:
            raise NotAnActivePerson(f"I can't find an active member <@{user_id}> in this workspace.")
        if user.is_bot:
            raise NotAnActivePerson(f"<@{user_id}> is a bot: {bots_refusal}")
        people.append(user)
    return people


class UserDirectory:
    def __init__(self, client: WebClient, ttl_seconds: float = 600, monotonic: Callable[[], float] = time.monotonic):
        self.client = client
        self.ttl = ttl_seconds
        self.monotonic = monotonic
        self._cache: dict[str, tuple[float, SlackUser | None]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> SlackUser | None:
        """The user, or None when Slack does not know the ID. Other Slack errors propagate."""
        return self._cached(user_id, lambda: self._fetch(self.client.users_info, user=user_id))

    def by_email(self, email: str) -> SlackUser | None:
        """The member whose Slack account has this e-mail (users:read.email), or None. Other Slack errors
        propagate. The e-mail is kept in memory only, as a cache key."""
        email = email.strip().lower()
        return self._cached("email:" + email, lambda: self._fetch(self.client.users_lookupByEmail, email=email))

    def _cached(self, key: str, fetch: Callable[[], SlackUser | None]) -> SlackUser | None:
        with self._lock:
            cached = self._cache.get(key)
        if cached and self.monotonic() - cached[0] < self.ttl:
            return cached[1]
        user = fetch()
        with self._lock:
            self._cache[key] = (self.monotonic(), user)
        return user

    @staticmethod
    def _fetch(method: Callable, **arguments: str) -> SlackUser | None:
        try:
            info = method(**arguments)["user"]
        except SlackApiError as error:
            if error.response.get("error") in ("user_not_found", "users_not_found"):
                return None
            raise
        return slack_user(info)
