"""What /kaizen answers: help, hides, job reports and the outbox's status (ephemeral texts)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from bot.core.clock import describe_wait
from bot.core.jobs import JobReport
from bot.core.text import plural
from storage.admin import OutboxStatus
from storage.models import OutboxMessage

SHOWN_LINES = 30  # of a job's report, of kinds of refusals
# What to do about the refusals an admin can fix, by Slack's error.
HINTS = {
    "not_in_channel": "invite Kaizen there: `/invite @Kaizen`",
    "channel_not_found": "check the channel IDs in Kaizen's settings",
    "is_archived": "the channel is archived: set another in Kaizen's settings",
}


def help_text(is_admin: bool, kinds: list[str], jobs: list[str]) -> str:
    lines = [
        "*/kaizen — for Kaizen admins*",
        f"`/kaizen hide {'|'.join(kinds)} N` — hide something abusive everywhere: its messages say it was "
        "hidden by an admin, and stats, exports and digests leave it out. Every hide is logged. The number is "
        "in the *Hide* option of the ⋯ menu on its message (which hides it once you confirm), or in the report.",
        f"`/kaizen run-job NAME [--dry-run] [--force]` — run a scheduled job now: {', '.join(jobs)}",
        "`/kaizen status` — what waits to be sent to Slack, and what Slack refused in the last day",
        "`/kaizen team add Tier 1 lead @maria members @tier1-agents @ana [channel #tier1]` — create a team, or "
        "replace the one of that name: its leads get a digest about its people",
        "`/kaizen team remove Tier 1` — remove a team (its people and their history stay)",
        "`/kaizen teams` — every team, its leads and people, *Add team* and *Edit* forms, and the latest changes",
    ]
    if not is_admin:
        lines.append("_You are not an admin (KAIZEN_ADMINS), so these will say no to you._")
    return "\n".join(lines)


def hidden(what: str) -> str:
    return f":see_no_evil: Hidden: {what}. Its messages now say it was hidden by an admin; the hide is logged."


def job_report(report: JobReport, *, dry_run: bool) -> str:
    if not report.ran:
        return f"`{report.job}` already ran for {report.period}. `/kaizen run-job {report.job} --force` runs it again."
    lines = [f"{'[dry run] ' if dry_run else ''}`{report.job}` for {report.period}:"]
    lines += [f"• {line}" for line in report.lines[:SHOWN_LINES]] or ["• nothing to do"]
    if len(report.lines) > SHOWN_LINES:
        lines.append(f"…and {len(report.lines) - SHOWN_LINES} more (`kaizen jobs run` prints them all)")
    return "\n".join(lines)


def job_failed(job: str, error: Exception) -> str:
    first_line = (str(error).splitlines() or [""])[0][:300]
    return f":warning: `{job}` failed: {type(error).__name__}: {first_line}. The log has the details."


def status(outbox: OutboxStatus, now: datetime) -> str:
    lines = ["*Waiting to be sent to Slack*"]
    if outbox.waiting:
        total = sum(n for _, n, _ in outbox.waiting)
        by_method = ", ".join(f"{method} {n}" for method, n, _ in outbox.waiting)
        oldest = min(due for _, _, due in outbox.waiting)
        if oldest <= now:
            when = f"the oldest has been due for {describe_wait(now - oldest)}"
        else:
            when = f"the first is due in {describe_wait(oldest - now)}"
        lines.append(f"{plural(total, 'message', 'messages')} ({by_method}); {when}.")
        if outbox.waiting_errors:
            tried = ", ".join(f"`{error[:100]}` ×{n}" for error, n in outbox.waiting_errors)
            lines.append(f"Being tried again after: {tried}")
    else:
        lines.append("Nothing: every message has gone out.")
    lines.append("*Refused by Slack in the last 24 hours*")
    refusals = Counter((message.last_error or "?", message.method, _target(message)) for message in outbox.refused)
    for (error, method, target), n in refusals.most_common(SHOWN_LINES):
        hint = HINTS.get(error.split()[-1], "")
        lines.append(f"• `{error[:100]}` ×{n}: {method} to {target}" + (f" — {hint}" if hint else ""))
    if len(refusals) > SHOWN_LINES:
        lines.append(f"…and {len(refusals) - SHOWN_LINES} more kinds")
    if not refusals:
        lines.append("Nothing.")
    return "\n".join(lines)


def _target(message: OutboxMessage) -> str:
    target = message.payload.get("channel") or message.payload.get("user_id") or ""
    if target.startswith(("C", "G")):
        return f"<#{target}>"
    if target.startswith(("U", "W")):
        return f"a DM to <@{target}>"
    return "a DM" if target.startswith("D") else "an earlier message (an update)"
