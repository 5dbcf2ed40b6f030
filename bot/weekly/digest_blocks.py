"""Block Kit for the lead digest. The text alone reads well: the chart only repeats it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject

from bot.core import blocks as limits
from bot.core.text import mention, truncate

if TYPE_CHECKING:
    from bot.weekly.digest import Digest, WeekCounts

Message = tuple[str, list[dict]]
SHOWN_GAPS = 30
SHOWN_IDEAS = 10
IDEA_STATUSES = ("new", "under-review", "planned", "in-progress", "implemented", "declined")


def lead_digest(digest: Digest) -> Message:
    this, last = digest.this_week, digest.last_week
    change = _change(this.kudos, last.kudos)
    headline = f":bar_chart: Your weekly Kaizen digest: {this.kudos} kudos in the last 7 days ({change})"
    blocks = [
        HeaderBlock(text="Your weekly Kaizen digest").to_dict(),
        limits.section(
            "*The last 7 days, against the 7 before*\n"
            f"• Kudos: *{this.kudos}* (before: {last.kudos}, {change})\n"
            f"• Feedback: *{this.feedback_asked}* asked, *{this.feedback_answered}* answered "
            f"(before: {last.feedback_asked} asked, {last.feedback_answered} answered)\n"
            f"• Ideas: {_ideas(this)} (before: {_ideas(last)})"
        ),
        limits.section(_gaps(digest)),
        limits.section(_overdue(digest)),
        limits.section(_awaiting_review(digest)),
        limits.section(f"*Kudos per day, last 4 weeks*\n{chart_description(digest)}. The chart follows."),
        ContextBlock(
            elements=[MarkdownTextObject(text="Counts only: feedback stays between the people in it.")]
        ).to_dict(),
    ]
    return headline, blocks


def chart_description(digest: Digest) -> str:
    counts = digest.kudos_per_day
    weeks = [sum(counts[i : i + 7]) for i in range(0, len(counts), 7)]
    busiest = max(range(len(counts)), key=lambda i: counts[i])
    day = digest.days[busiest]
    text = f"Weekly totals, oldest first: {' → '.join(map(str, weeks))}"
    if counts[busiest]:
        text += f"; busiest day {day:%a} {day.day} {day:%b} ({counts[busiest]})"
    return text


def _change(now: int, before: int) -> str:
    if now == before:
        return "same as before"
    return f"{now - before:+d}"


def _ideas(week: WeekCounts) -> str:
    moved = [f"{week.ideas[s]} {s}" for s in IDEA_STATUSES if week.ideas.get(s)]
    return ", ".join(moved) if moved else "none moved"


def _ago(moment: datetime, now: datetime) -> str:
    days = (now - moment).days
    return "today" if days == 0 else f"{days} day{'s' if days != 1 else ''}"


def _gaps(digest: Digest) -> str:
    if not digest.gaps:
        return "*Recognition gaps*\nEveryone has been recognised in the last 30 days. :sparkles:"
    people = [
        f"{mention(user)} ({'never' if last is None else _ago(last, digest.now)})"
        for user, last in digest.gaps[:SHOWN_GAPS]
    ]
    more = len(digest.gaps) - SHOWN_GAPS
    listed = ", ".join(people) + (f" and {more} more" if more > 0 else "")
    return (
        f"*Recognition gaps* — {len(digest.gaps)} people with no kudos in 30 days (time since their last):\n"
        f"{listed}\nA specific thank-you for recent effort goes a long way."
    )


def _overdue(digest: Digest) -> str:
    if not digest.overdue_feedback:
        return "*Overdue feedback requests*\nNone: every request is answered within 2 days."
    oldest = _ago(min(digest.overdue_feedback), digest.now)
    return (
        f"*Overdue feedback requests* — {len(digest.overdue_feedback)} unanswered for more than 2 days "
        f"(the oldest for {oldest})."
    )


def _awaiting_review(digest: Digest) -> str:
    ideas = digest.awaiting_review
    if not ideas:
        return "*Ideas waiting for review*\nNone: every idea has been looked at."
    lines = [
        f"• #{idea.number} {truncate(idea.title, 120)} — {idea.status} for {_ago(idea.since, digest.now)}"
        for idea in ideas[:SHOWN_IDEAS]
    ]
    more = len(ideas) - SHOWN_IDEAS
    if more > 0:
        lines.append(f"… and {more} more: `/idea list new`")
    return f"*Ideas waiting for review* — {len(ideas)}, longest first:\n" + "\n".join(lines)
