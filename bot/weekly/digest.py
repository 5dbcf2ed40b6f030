"""The weekly lead digest: where recognition, feedback and ideas are flowing, and where they are not.

A DM to each lead and admin with each feature's counts (never feedback text), this week against
last week, and a chart of kudos per day.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject
from sqlalchemy.orm import Session

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.context import Context, Job, Run
from bot.core.jobs import weekly, weekly_schedule
from bot.core.outbox import enqueue, post_message
from bot.core.parts import DigestPart, DigestWindow
from bot.directory.jobs import MEMBER_DIRECTORY
from bot.weekly.chart import kudos_per_day_png
from storage import kudos as kudos_store

CHART_DAYS = 28
BUSIEST_DAY_AT_LEAST = 3  # kudos on a day before the digest names it the busiest


def digest_window(now: datetime, tz: ZoneInfo) -> DigestWindow:
    now = now.astimezone(tz)
    # Wall-clock arithmetic in the team's zone: a week across a DST change is still Monday 09:00 to Monday 09:00.
    return DigestWindow(now, (now - timedelta(days=7), now), (now - timedelta(days=14), now - timedelta(days=7)))


def digest_parts(session: Session, ctx: Context, window: DigestWindow) -> list[DigestPart]:
    """What each feature reports to leads, in the order of bot/features.py."""
    parts = (feature.digest(session, ctx.settings, window) for feature in ctx.features if feature.digest)
    return [part for part in parts if part is not None]


def kudos_per_day(session: Session, window: DigestWindow) -> tuple[list[date], list[int]]:
    """The kudos given in each of the CHART_DAYS days up to the digest, and the date each starts on.

    The days run from the digest's time of day to the next (wall clock, like digest_window), so
    the chart ends with today's kudos and its last seven days are the week the totals count.
    """
    starts = [window.now - timedelta(days=n) for n in range(CHART_DAYS, 0, -1)]
    counts = kudos_store.kudos_counts(session, [(start, start + timedelta(days=1)) for start in starts])
    return [start.date() for start in starts], counts


def chart_description(days: list[date], counts: list[int], at: time) -> str:
    """The chart in words (the image's alt text too): weekly totals, and the busiest day when it
    stands out: a few kudos more on one day is noise, not news."""
    weeks = [sum(counts[i : i + 7]) for i in range(0, len(counts), 7)]
    text = "Weekly totals, oldest first: " + " → ".join(map(str, weeks))
    most = max(counts)
    mean = sum(counts) / len(counts)
    if most >= BUSIEST_DAY_AT_LEAST and most >= 2 * mean and counts.count(most) == 1:
        day = days[counts.index(most)]
        text += f"; the busiest day was {day:%A} {day.day} {day:%B}, with {most}"
    return text + f". Each day runs from {at:%H:%M} to {at:%H:%M}, like the totals."


def lead_digest(parts: list[DigestPart], chart: str | None) -> Message:
    """The digest; `chart` describes the chart that follows it, None when there is none to send."""
    summaries = [part.summary for part in parts if part.summary]
    headline = ":bar_chart: Your weekly Kaizen digest" + (": " + "; ".join(summaries) if summaries else "")
    comparison = [line for part in parts for line in part.comparison]
    per_day = (
        f"*Kudos per day, last 4 weeks* — the chart follows.\n{chart}"
        if chart
        else "*Kudos per day, last 4 weeks*\nNo kudos in the last 4 weeks, so there is no chart this time."
    )
    blocks = [
        HeaderBlock(text="Your weekly Kaizen digest").to_dict(),
        limits.section("*The last 7 days, against the 7 before*\n" + "\n".join(comparison)),
        *(block for part in parts for block in part.blocks),
        limits.section(per_day),
        ContextBlock(
            elements=[MarkdownTextObject(text="Counts only: feedback stays between the people in it.")]
        ).to_dict(),
    ]
    return headline, blocks


def send_lead_digest(ctx: Context, session: Session, run: Run) -> list[str]:
    settings = ctx.settings
    now = run.now
    leads = sorted(settings.leads | settings.admins)
    if not leads:
        return ["nothing: set KAIZEN_LEADS or KAIZEN_ADMINS to send the lead digest"]
    window = digest_window(now, settings.timezone)
    days, counts = kudos_per_day(session, window)
    described = chart_description(days, counts, now.time()) if any(counts) else None
    text, blocks = lead_digest(digest_parts(session, ctx, window), described)
    chart = (
        {
            "filename": "kudos-per-day.png",
            "title": "Kudos per day, last 4 weeks",
            "alt_txt": described,
            "content_base64": base64.b64encode(kudos_per_day_png(days, counts, now.time())).decode(),
        }
        if described
        else None
    )
    for lead in leads:
        post_message(session, f"digest:{run.key}:{lead}", channel=lead, text=text, blocks=blocks, now=now)
        if chart:  # after the digest in the lead's DM: one lane per channel keeps the order
            enqueue(session, f"digest:{run.key}:{lead}:chart", "files.uploadV2", {"channel": lead, **chart}, now)
    sent = "lead digest and its chart" if chart else "lead digest (no kudos in 4 weeks, so no chart)"
    return [f"{sent} by DM to {len(leads)} lead(s): {', '.join(leads)}"]


LEAD_DIGEST = Job(
    name="lead-digest",
    work=send_lead_digest,
    period=weekly,
    schedule=lambda s: weekly_schedule(s.digest_at),
    reads=(MEMBER_DIRECTORY.name,),  # recognition gaps cover every member of the workspace
)
