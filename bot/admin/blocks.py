"""What /kaizen answers: help, hides, job reports and the outbox's status (ephemeral texts)."""

from __future__ import annotations

from bot.core.jobs import JobReport

SHOWN_LINES = 30  # of a job's report


def help_text(is_admin: bool, kinds: list[str], jobs: list[str]) -> str:
    lines = [
        "*/kaizen — for Kaizen admins*",
        f"`/kaizen hide {'|'.join(kinds)} N` — hide something abusive everywhere: its messages say it was "
        "hidden by an admin, and stats, exports and digests leave it out. Every hide is logged. The number is "
        "in the *Hide* option of the ⋯ menu on its message (which hides it once you confirm), or in the report.",
        f"`/kaizen run-job NAME [--dry-run] [--force]` — run a scheduled job now: {', '.join(jobs)}",
        "`/kaizen status` — what waits to be sent to Slack, what Slack refused in the last day, and what "
        "`kaizen doctor` finds wrong",
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


def status(outbox_report: str, failing_checks: list[str]) -> str:
    """What the outbox holds, then what `kaizen doctor` finds wrong."""
    lines = [outbox_report, "*What `kaizen doctor` finds wrong*"]
    return "\n".join(lines + (failing_checks or ["Nothing: every check passes."]))
