"""The weekly lead digest: where recognition, feedback and ideas are flowing, and where they are not.

A DM to each lead, made of each feature's part about a *scope*, the people it is about. An org-wide lead
(KAIZEN_LEADS, the admins) gets everyone's, with a line per team; a team's lead gets a part for each team
they lead, about its people only, then what every lead sees (the ideas waiting for review, their own
people's marked) and a chart of their people's kudos. Each feature builds its part for every scope at
once (Feature.digest): counts only, never feedback text, and never a team's people named to another team.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject
from sqlalchemy.orm import Session

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.context import Context, Job, Run
from bot.core.jobs import weekly, weekly_schedule
from bot.core.outbox import enqueue, post_message
from bot.core.parts import EVERYONE, DigestPart, DigestWindow, Scope
from bot.core.text import escape, plural
from bot.directory.jobs import MEMBER_DIRECTORY
from bot.teams.people import no_team_scope, org_wide_leads, team_scopes
from bot.weekly.chart import KudosPerDayChart
from storage import kudos as kudos_store

CHART_DAYS = 28
BUSIEST_DAY_AT_LEAST = 3  # kudos on a day before the digest names it the busiest
EVERYONES_CHART = "Kudos per day, last 4 weeks"
TEAMS_CHART = "Kudos to your people per day, last 4 weeks"
COUNTS_ONLY = "Counts only: feedback stays between the people in it."


def digest_window(now: datetime, tz: ZoneInfo) -> DigestWindow:
    now = now.astimezone(tz)
    # Wall-clock arithmetic in the team's zone: a week across a DST change is still Monday 09:00 to Monday 09:00.
    return DigestWindow(now, (now - timedelta(days=7), now), (now - timedelta(days=14), now - timedelta(days=7)))


def digest_parts(session: Session, ctx: Context, window: DigestWindow, scopes: list[Scope]) -> list[list[DigestPart]]:
    """What each feature reports about each scope, in the order of bot/features.py: a list per scope."""
    per_feature = [feature.digest(session, ctx.settings, window, scopes) for feature in ctx.features if feature.digest]
    return [[parts[i] for parts in per_feature if parts[i] is not None] for i in range(len(scopes))]


def chart_days(window: DigestWindow) -> list[tuple[datetime, datetime]]:
    """The CHART_DAYS days up to the digest. They run from the digest's time of day to the next (wall
    clock, like digest_window), so the chart ends with today's kudos and its last seven days are the
    week the totals count."""
    starts = [window.now - timedelta(days=n) for n in range(CHART_DAYS, 0, -1)]
    return [(start, start + timedelta(days=1)) for start in starts]


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


def _per_day(title: str, chart: str | None, nothing: str) -> dict:
    if chart:
        return limits.section(f"*{title}* — the chart follows.\n{chart}")
    return limits.section(f"*{title}*\n{nothing}, so there is no chart this time.")


def _footer(text: str) -> dict:
    return ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()


def _workspace(parts: list[DigestPart], reader: Scope) -> list[dict]:
    """What every lead sees about the whole workspace, the reader's own people marked."""
    return [block for part in parts if part.workspace for block in part.workspace(reader)]


def lead_digest(parts: list[DigestPart], chart: str | None, teams: list[str] | None = None) -> Message:
    """An org-wide lead's digest: everyone's parts, and a line per team (`teams`) when there are teams.
    `chart` describes the chart that follows it, None when there is none to send."""
    summaries = [part.summary for part in parts if part.summary]
    headline = ":bar_chart: Your weekly Kaizen digest" + (": " + "; ".join(summaries) if summaries else "")
    comparison = [line for part in parts for line in part.comparison]
    blocks = [
        HeaderBlock(text="Your weekly Kaizen digest").to_dict(),
        limits.section("*The last 7 days, against the 7 before*\n" + "\n".join(comparison)),
    ]
    if teams:
        blocks += limits.sections(["*Teams* — the last 7 days", *teams])
    blocks += [block for part in parts for block in [*_workspace([part], EVERYONE), *part.blocks]]
    blocks += [_per_day(EVERYONES_CHART, chart, "No kudos in the last 4 weeks"), _footer(COUNTS_ONLY)]
    return headline, blocks


def team_line(scope: Scope, parts: list[DigestPart], *, a_team: bool = True) -> str:
    """A team (or, not `a_team`, the people in none) in an org-wide lead's digest: its people and what
    each feature says of them in a few words."""
    facts = [plural(len(scope.people or ()), "person", "people"), *(fact for part in parts for fact in part.brief)]
    name = f"*{escape(scope.name)}*" if a_team else f"_{scope.name}_"
    return f"• {name} — {', '.join(facts)}"


def team_digest(teams: list[tuple[Scope, list[DigestPart]]], workspace: list[dict], chart: str | None) -> list[Message]:
    """A team lead's digest: a part per team they lead (its people only), what every lead sees, and the
    chart of their people; in several messages when it needs more than Block Kit's 50 blocks."""
    names = " and ".join(escape(scope.name) for scope, _ in teams)
    summaries = [
        (f"{escape(scope.name)}: " if len(teams) > 1 else "") + part.summary
        for scope, parts in teams
        for part in parts
        if part.summary
    ]
    headline = f":bar_chart: Your weekly Kaizen digest for {names}" + (": " + "; ".join(summaries) if summaries else "")
    blocks = [HeaderBlock(text="Your weekly Kaizen digest").to_dict()]
    for scope, parts in teams:
        comparison = [line for part in parts for line in part.comparison]
        heading = f"*{escape(scope.name)}* — {plural(len(scope.people or ()), 'person', 'people')}"
        blocks.append(limits.section(f"{heading}\n*The last 7 days, against the 7 before*\n" + "\n".join(comparison)))
        blocks += [block for part in parts for block in part.blocks]
    blocks += workspace
    blocks += [
        _per_day(TEAMS_CHART, chart, "No kudos to your people in the last 4 weeks"),
        _footer(f"{COUNTS_ONLY} About the people of {names} only; the ideas waiting for review are everyone's."),
    ]
    pieces = limits.split(blocks)
    return [
        (headline if n == 1 else f"Your weekly Kaizen digest, continued ({n}/{len(pieces)})", piece)
        for n, piece in enumerate(pieces, 1)
    ]


def _send(session: Session, run: Run, lead: str, messages: list[Message], chart: dict | None) -> None:
    for number, (text, blocks) in enumerate(messages, 1):
        key = f"digest:{run.key}:{lead}" + (f":{number}" if number > 1 else "")
        post_message(session, key, channel=lead, text=text, blocks=blocks, now=run.now)
    if chart:  # after the digest in the lead's DM: one lane per channel keeps the order
        enqueue(session, f"digest:{run.key}:{lead}:chart", "files.uploadV2", {"channel": lead, **chart}, run.now)


def send_lead_digest(ctx: Context, session: Session, run: Run) -> list[str]:
    settings = ctx.settings
    org_wide = sorted(org_wide_leads(settings))
    teams = team_scopes(session)
    led: dict[str, list[int]] = defaultdict(list)  # each team lead (not org-wide): the teams they lead
    for index, (team, _) in enumerate(teams):
        for lead in team.lead_ids:
            if lead not in org_wide:
                led[lead].append(index)
    if not (org_wide or led):
        return ["nothing: set KAIZEN_LEADS or KAIZEN_ADMINS, or give a team its leads, to send the lead digest"]
    window = digest_window(run.now, settings.timezone)
    team_list = [scope for _, scope in teams]
    no_team = [no_team_scope(session, settings, team_list)] if team_list and org_wide else []
    scopes = [EVERYONE, *team_list, *no_team]
    parts = digest_parts(session, ctx, window, scopes)
    days = chart_days(window)
    drawer = KudosPerDayChart([start.date() for start, _ in days], run.now.time())
    lines = []
    if org_wide:
        described, chart = _chart(drawer, days, kudos_store.kudos_counts(session, days), EVERYONES_CHART)
        team_lines = [
            team_line(scope, scope_parts, a_team=scope not in no_team)
            for scope, scope_parts in zip(scopes[1:], parts[1:], strict=True)
        ]
        for lead in org_wide:
            _send(session, run, lead, [lead_digest(parts[0], described, team_lines)], chart)
        sent = "lead digest and its chart" if chart else "lead digest (no kudos in 4 weeks, so no chart)"
        lines.append(f"{sent} by DM to {len(org_wide)} lead(s): {', '.join(org_wide)}")
    if led:
        received = kudos_store.received_counts(session, days)
        charts: dict[frozenset[str], tuple[str | None, dict | None]] = {}  # co-leads of the same teams share one
        for lead, indexes in sorted(led.items()):
            people = Scope(people=frozenset().union(*(team_list[i].people or () for i in indexes)))
            if people.people not in charts:
                charts[people.people] = _chart(drawer, days, people.total(received, CHART_DAYS), TEAMS_CHART)
            described, chart = charts[people.people]
            theirs = [(team_list[i], parts[1 + i]) for i in indexes]
            _send(session, run, lead, team_digest(theirs, _workspace(parts[0], people), described), chart)
        lines.append(f"team digest by DM to {len(led)} team lead(s): {', '.join(sorted(led))}")
    return lines


def _chart(
    drawer: KudosPerDayChart, days: list[tuple[datetime, datetime]], counts: list[int], title: str
) -> tuple[str | None, dict | None]:
    """The chart of these kudos per day in words, and the PNG to upload; neither without kudos."""
    if not any(counts):
        return None, None
    described = chart_description([start.date() for start, _ in days], counts, days[-1][1].time())
    upload = {
        "filename": "kudos-per-day.png",
        "title": title,
        "alt_txt": described,
        "content_base64": base64.b64encode(drawer.png(counts, title)).decode(),
    }
    return described, upload


LEAD_DIGEST = Job(
    name="lead-digest",
    work=send_lead_digest,
    period=weekly,
    schedule=lambda s: weekly_schedule(s.digest_at),
    reads=(MEMBER_DIRECTORY.name,),  # recognition gaps cover every member of the workspace
)
