"""The member-directory job: the workspace's members from users.list, daily and whenever the
scheduler starts, into the members table (the lead digest's recognition gaps read it)."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy.orm import Session

from bot.core.context import Context, Job, Run
from bot.core.jobs import daily
from bot.core.slack_users import SlackUser, slack_user
from storage import members as store

PAGE_SIZE = 200  # Slack's advice for users.list
# users.list allows about 20 calls a minute: a big workspace's pages wait out Retry-After.
RATE_LIMIT_RETRIES = 10


def fetch_members(ctx: Context) -> list[SlackUser]:
    """Every account of the workspace, page after page (done before the job's transaction)."""
    client = WebClient(
        token=ctx.client.token,
        base_url=ctx.client.base_url,
        retry_handlers=[*ctx.client.retry_handlers, RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )
    return [slack_user(info) for page in client.users_list(limit=PAGE_SIZE) for info in page["members"]]


def refresh_members(ctx: Context, session: Session, run: Run) -> list[str]:
    accounts: list[SlackUser] = run.prepared
    store.remember(session, accounts, run.now)
    members = [a for a in accounts if a.is_person and (ctx.settings.include_guests or not a.is_guest)]
    return [f"{len(accounts)} accounts in users.list; {len(members)} of them count as team members"]


MEMBER_DIRECTORY = Job(
    name="member-directory",
    work=refresh_members,
    period=daily,
    schedule=lambda _settings: {"hour": 6, "minute": 0},
    prepare=fetch_members,
    at_start=True,
)
