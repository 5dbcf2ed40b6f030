"""Slack user groups, kept in step so teams built from them follow them: every group with its members
(usergroups.list) by the daily member-directory job and when an admin looks at the teams, and one
group's members (usergroups.users.list) when Slack says it changed or a team is made from it.

An app made from an older manifest lacks the usergroups:read scope: Kaizen then works without teams
from groups and says what to add.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from storage import teams as store

SCOPE = "usergroups:read"
SCOPE_MISSING = (
    f"Kaizen can't read Slack user groups: its app lacks the `{SCOPE}` scope. Add it (and the "
    "`subteam_members_changed` and `subteam_updated` events) to the app, as `kaizen manifest` shows, and "
    "reinstall it; until then a team's members are the people named one by one."
)
NO_GROUPS_ON_PLAN = (
    "This Slack workspace's plan has no user groups, so a team's members are the people named one by one."
)
# What Slack answers when it won't show user groups, and what to tell the admin.
UNREADABLE = {"missing_scope": SCOPE_MISSING, "plan_upgrade_required": NO_GROUPS_ON_PLAN}


class GroupsUnreadable(Exception):
    """Slack won't show user groups to Kaizen; `reason` says why and what to do."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SlackGroup:
    id: str
    handle: str
    name: str
    disabled: bool
    members: tuple[str, ...]


def slack_group(info: dict, members: list[str] | None = None) -> SlackGroup:
    """A user group object of usergroups.list or of a subteam_updated event."""
    return SlackGroup(
        id=info["id"],
        handle=info.get("handle") or info["id"],
        name=info.get("name") or info.get("handle") or info["id"],
        disabled=bool(info.get("date_delete")),
        members=tuple(members if members is not None else info.get("users") or ()),
    )


def fetch_groups(client: WebClient) -> list[SlackGroup]:
    """Every user group of the workspace with its members, in one call. Raises GroupsUnreadable."""
    return [slack_group(info) for info in _call(client.usergroups_list, include_users=True)["usergroups"]]


def fetch_members(client: WebClient, group_id: str) -> tuple[str, ...] | None:
    """One group's members now; None when Slack knows no such group (or it is disabled). Raises GroupsUnreadable."""
    try:
        return tuple(_call(client.usergroups_users_list, usergroup=group_id)["users"])
    except SlackApiError as error:
        if error.response.get("error") == "no_such_subteam":
            return None
        raise


def _call(method, **arguments) -> dict:
    try:
        return method(**arguments)
    except SlackApiError as error:
        reason = UNREADABLE.get(error.response.get("error"))
        if reason:
            raise GroupsUnreadable(reason) from None
        raise


def remember_groups(session: Session, groups: list[SlackGroup], now: datetime) -> None:
    """The groups Slack listed, each with its members; a group it no longer lists is disabled."""
    for group in groups:
        remember_group(session, group, now)
    store.disable_groups_not_in(session, [group.id for group in groups], now)


def remember_group(session: Session, group: SlackGroup, now: datetime) -> None:
    members = () if group.disabled else group.members
    store.remember_group(
        session, group.id, handle=group.handle, name=group.name, disabled=group.disabled, members=members, now=now
    )
