"""`kaizen doctor`: a deployment checked against Slack and the database, one line per check, each that
fails with its fix. It only reads (no writes, no migrations, no messages) and never shows a token.
`/kaizen status` says what the outbox holds with `outbox_report` and ends with the checks that fail.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.core.clock import describe_wait
from bot.core.context import Context
from bot.core.manifest import bot_scopes
from bot.core.outbox import describe
from bot.core.parts import DoctorPart
from bot.core.scheduler import job_trigger
from bot.core.settings import WHERE_TO_GET
from bot.core.slack_users import slack_user
from bot.core.text import plural
from storage.admin import OutboxStatus, outbox_status
from storage.migrate import schema_revisions

SLACK_TIMEOUT = 5  # seconds for each Slack call, so the doctor answers in seconds even when Slack does not
REFUSED_WITHIN = timedelta(days=1)  # the messages Slack refused that are reported
STUCK_AFTER = timedelta(minutes=10)  # a message waiting longer than this since it was written is stuck
SHOWN_LINES = 30  # of kinds of refusals
# What to do about the refusals an admin can fix, by Slack's error.
HINTS = {
    "not_in_channel": "invite Kaizen there: `/invite @Kaizen`",
    "channel_not_found": "check the channel IDs in Kaizen's settings",
    "is_archived": "the channel is archived: set another in Kaizen's settings",
}
REINSTALL = "reinstall the app after updating its manifest (`kaizen manifest`)"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's answer."""

    passed: bool
    found: str  # what the check found, in a few words
    fix: str = ""  # what to do about it, when it failed
    details: tuple[str, ...] = ()  # lines shown under it

    def __str__(self) -> str:
        return f"✓ {self.found}" if self.passed else f"✗ {self.found} — {self.fix}"


def run_checks(ctx: Context) -> list[Check]:
    """Every check, in the order they are shown: Slack, the database, the schedule."""
    return slack_checks(ctx, _doctor_parts(ctx)) + database_checks(ctx) + schedule_checks(ctx)


def summary(checks: list[Check]) -> str:
    failed = sum(not check.passed for check in checks)
    if not failed:
        return f"All {len(checks)} checks pass."
    return f"{plural(failed, 'check fails', 'checks fail')}, {len(checks) - failed} pass: fix what each ✗ says."


# --- Slack -------------------------------------------------------------------------------------------
def slack_checks(ctx: Context, parts: list[DoctorPart]) -> list[Check]:
    settings = ctx.settings
    if not settings.slack_bot_token:
        return [Check(False, "SLACK_BOT_TOKEN is not set", f"set it (from {WHERE_TO_GET['SLACK_BOT_TOKEN']})")]
    quiet = logging.getLogger(f"{__name__}.slack")  # a call that fails is a check's ✗, said once, not logged
    quiet.setLevel(logging.CRITICAL)
    client = WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=SLACK_TIMEOUT,
        retry_handlers=[],
        logger=quiet,
    )
    try:
        auth = client.auth_test()
    except SlackApiError as error:
        fix = "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token, and check the app is still installed"
        return [Check(False, f"Slack refuses the bot token ({error.response.get('error')})", fix)]
    except OSError as error:
        fix = "check this machine reaches Slack, and SLACK_API_URL"
        return [Check(False, f"Slack does not answer at {settings.slack_api_url} ({error})", fix)]
    checks = [Check(True, f"Slack accepts the bot token: @{auth.get('user')} in {auth.get('url')}")]
    checks.append(_connection_check(client, settings.slack_app_token, settings.slack_signing_secret))
    checks.append(_scopes_check(auth, bot_scopes(ctx.features)))
    checks += _channel_checks(client, [channel for part in parts for channel in part.channels])
    people = [(user, "KAIZEN_LEADS") for user in sorted(settings.leads)]
    people += [(user, "KAIZEN_ADMINS") for user in sorted(settings.admins)]
    checks += _people_checks(client, people + [person for part in parts for person in part.people])
    return checks


def _connection_check(client: WebClient, app_token: str | None, signing_secret: str | None) -> Check:
    """Socket Mode: Slack gives the app token a connection URL (never used: nothing connects)."""
    if not app_token:
        if signing_secret:
            return Check(True, "HTTP mode: SLACK_SIGNING_SECRET is set (Slack's requests are checked against it)")
        fix = "set SLACK_APP_TOKEN for Socket Mode (`kaizen run`), or SLACK_SIGNING_SECRET for `kaizen run --http`"
        return Check(False, "neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is set", fix)
    try:
        client.apps_connections_open(app_token=app_token)
    except SlackApiError as error:
        fix = f"set SLACK_APP_TOKEN to an app-level token from {WHERE_TO_GET['SLACK_APP_TOKEN']}"
        return Check(False, f"Slack refuses the app token ({error.response.get('error')})", fix)
    except OSError as error:
        return Check(False, f"Socket Mode cannot open a connection ({error})", "check this machine reaches Slack")
    return Check(True, "Socket Mode: Slack opens a connection for the app token")


def _scopes_check(auth: SlackResponse, wanted: list[str]) -> Check:
    granted = auth.headers.get("X-OAuth-Scopes")
    if granted is None:
        return Check(False, "Slack did not say which scopes the bot token has", f"if a feature fails, {REINSTALL}")
    missing = [scope for scope in wanted if scope not in {s.strip() for s in granted.split(",")}]
    if missing:
        return Check(False, f"the bot token lacks the scope(s) {', '.join(missing)}", REINSTALL)
    return Check(True, f"the bot token has the {len(wanted)} scopes the manifest asks for")


def _channel_checks(client: WebClient, channels: list[tuple[str, str]]) -> list[Check]:
    settings_of: dict[str, list[str]] = defaultdict(list)  # one check per channel, naming each setting of it
    for channel, where in channels:
        settings_of[channel].append(where)
    return [_channel_check(client, channel, " and ".join(where)) for channel, where in settings_of.items()]


def _channel_check(client: WebClient, channel: str, where: str) -> Check:
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as error:
        problem = error.response.get("error")
        if problem == "channel_not_found":
            fix = f"check {where}; if the channel is private, invite @Kaizen to it first"
            return Check(False, f"{where}: Slack knows no channel {channel}", fix)
        return Check(False, f"{where}: Slack would not describe {channel} ({problem})", REINSTALL)
    except OSError as error:
        return Check(False, f"{where}: Slack did not answer about {channel} ({error})", "try again")
    name = f"#{info.get('name') or channel}"
    if info.get("is_archived"):
        return Check(False, f"{where}: {name} is archived", f"unarchive {name}, or set {where} to another channel")
    if not info.get("is_member"):
        return Check(False, f"{where}: Kaizen is not in {name}", f"invite @Kaizen to {name} (`/invite @Kaizen`)")
    return Check(True, f"{where}: Kaizen is in {name}")


def _people_checks(client: WebClient, people: list[tuple[str, str]]) -> list[Check]:
    """One line for each setting whose people are all active humans, and one for each who is not."""
    checks, fine = [], Counter()
    for user_id, where in people:
        problem = _not_an_active_person(client, user_id)
        if problem:
            checks.append(Check(False, f"{user_id} in {where} {problem}", f"take {user_id} out of {where}"))
        else:
            fine[where] += 1
    passed = [Check(True, f"{where}: {plural(n, 'active person', 'active people')}") for where, n in fine.items()]
    return passed + checks


def _not_an_active_person(client: WebClient, user_id: str) -> str | None:
    try:
        user = slack_user(client.users_info(user=user_id)["user"])
    except SlackApiError as error:
        problem = error.response.get("error")
        return "is no one in this workspace" if problem == "user_not_found" else f"could not be checked ({problem})"
    except OSError as error:
        return f"could not be checked ({error})"
    if user.deleted:
        return "is deactivated"
    return "is a bot" if user.is_bot else None


# --- the database and the outbox ---------------------------------------------------------------------
def database_checks(ctx: Context) -> list[Check]:
    """Reachable, the schema current, then what the outbox holds."""
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = schema_revisions(ctx.engine)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        fix = "check DATABASE_URL (a SQLite file is made by `kaizen migrate`)"
        return [Check(False, f"the database cannot be read: {reason}", fix)]
    checks = [Check(True, f"the database answers ({ctx.engine.dialect.name})")]
    if current != head:
        at = ", ".join(sorted(current)) or "no schema yet"
        return [*checks, Check(False, f"the schema is at {at}, not {', '.join(sorted(head))}", "run `kaizen migrate`")]
    checks.append(Check(True, f"the schema is current ({', '.join(sorted(head))})"))
    now = ctx.clock()
    return [*checks, outbox_check(_outbox_status(ctx, now), now)]


def outbox_check(status: OutboxStatus, now: datetime) -> Check:
    """Fails when a message has waited too long to be sent, or Slack refused one in the last day."""
    waiting = sum(n for _, n, _ in status.waiting)
    found = f"the outbox: {plural(waiting, 'message waits', 'messages wait')}"
    fixes = []
    if status.oldest_written and now - status.oldest_written > STUCK_AFTER:
        found += f", one for {describe_wait(now - status.oldest_written)}"
        fixes.append("a running Kaizen process sends them: is one running?")
    found += f"; Slack refused {plural(len(status.refused), 'message', 'messages')} in the last day"
    if status.refused:
        fixes.append("Slack will not take those: below, why and what to do")
    return Check(not fixes, found, "; ".join(fixes), tuple(outbox_report(status, now).splitlines()))


def describe_outbox(ctx: Context) -> str:
    """What waits in the outbox now and what Slack refused lately (`/kaizen status`)."""
    now = ctx.clock()
    return outbox_report(_outbox_status(ctx, now), now)


def _outbox_status(ctx: Context, now: datetime) -> OutboxStatus:
    with ctx.session_factory() as session:
        return outbox_status(session, now - REFUSED_WITHIN)


def outbox_report(outbox: OutboxStatus, now: datetime) -> str:
    """What waits in the outbox and what Slack refused lately, as `/kaizen status` says it."""
    lines = ["*Waiting to be sent to Slack*"]
    if outbox.waiting:
        total = sum(n for _, n, _ in outbox.waiting)
        by_method = ", ".join(f"{method} {n}" for method, n, _ in outbox.waiting)
        first = outbox.first_waiting
        due, what = first.next_attempt_at, describe(first)
        if due <= now:
            when = f"the oldest, {what}, has been due for {describe_wait(now - due)}"
        else:
            when = f"the first, {what}, is due in {describe_wait(due - now)}"
        lines.append(f"{plural(total, 'message', 'messages')} ({by_method}); {when}.")
        if outbox.waiting_errors:
            tried = ", ".join(f"`{error[:100]}` ×{n}" for error, n in outbox.waiting_errors)
            lines.append(f"Being tried again after: {tried}")
    else:
        lines.append("Nothing: every message has gone out.")
    lines.append("*Refused by Slack in the last 24 hours*")
    refusals = Counter((message.last_error or "?", describe(message)) for message in outbox.refused)
    for (error, what), n in refusals.most_common(SHOWN_LINES):
        hint = HINTS.get(error.split()[-1], "")
        lines.append(f"• `{error[:100]}` ×{n}: {what}" + (f" — {hint}" if hint else ""))
    if len(refusals) > SHOWN_LINES:
        lines.append(f"…and {len(refusals) - SHOWN_LINES} more kinds")
    if not refusals:
        lines.append("Nothing.")
    return "\n".join(lines)


# --- the schedule ------------------------------------------------------------------------------------
def schedule_checks(ctx: Context) -> list[Check]:
    now = ctx.now()
    checks = [Check(True, f"time zone {ctx.settings.timezone.key}: it is {now:%a %d %b %H:%M} there")]
    for job in ctx.jobs.values():
        next_run = job_trigger(job, ctx.settings).get_next_fire_time(None, now)
        checks.append(Check(True, f"{job.name}: next run {next_run:%a %d %b %H:%M}"))
    return checks


def _doctor_parts(ctx: Context) -> list[DoctorPart]:
    """The channels and people each feature has checked; a part that needs a database that cannot be
    read is left out (the database's own check says why)."""
    parts = []
    with ctx.session_factory() as session:
        for feature in ctx.features:
            if feature.doctor:
                try:
                    parts.append(feature.doctor(session, ctx.settings))
                except SQLAlchemyError:
                    session.rollback()
    return parts
