"""The member-directory job: the workspace's members from users.list, and its user groups with their
members (bot.teams.groups), daily and whenever the scheduler starts, into the members and user-group
tables (the lead digest's recognition gaps and the teams read them)."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy.orm import Session

from bot.core.context import Context, Job, Run
from bot.core.jobs import daily
from bot.core.slack_users import SlackUser, slack_user
from bot.teams.groups import GroupsUnreadable, SlackGroup, fetch_groups, remember_groups
from storage import members as store

PAGE_SIZE = 200  # Slack's advice for users.list
# users.list allows about 20 calls a minute: a big workspace's pages wait out Retry-After.
RATE_LIMIT_RETRIES = 10


@dataclass(frozen=True)
class Directory:
    accounts: list[SlackUser]
    groups: list[SlackGroup] | None  # None: Slack won't show them, for `groups_unreadable`
    groups_unreadable: str = ""


def fetch_directory(ctx: Context) -> Directory:
    """Every account of the workspace, page after page, and its user groups (done before the job's transaction)."""
    client = WebClient(
        token=ctx.client.token,
        base_url=ctx.client.base_url,
        retry_handlers=[*ctx.client.retry_handlers, RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )
    accounts = [slack_user(info) for page in client.users_list(limit=PAGE_SIZE) for info in page["members"]]
    try:
        return Directory(accounts, fetch_groups(client))
    except GroupsUnreadable as unreadable:
        return Directory(accounts, None, unreadable.reason)


def refresh_members(ctx: Context, session: Session, run: Run) -> list[str]:
    directory: Directory = run.prepared
    store.remember(session, directory.accounts, run.now)
    members = [a for a in directory.accounts if a.is_person and (ctx.settings.include_guests or not a.is_guest)]
    lines = [f"{len(directory.accounts)} accounts in users.list; {len(members)} of them count as team members"]
    if directory.groups is None:
        return [*lines, f"user groups not read: {directory.groups_unreadable}"]
    remember_groups(session, directory.groups, run.now)
    return [*lines, f"{len(directory.groups)} user group(s) read, with their members"]


MEMBER_DIRECTORY = Job(
    name="member-directory",
    work=refresh_members,
    period=daily,
    schedule=lambda _settings: {"hour": 6, "minute": 0},
    prepare=fetch_directory,
    at_start=True,
)
