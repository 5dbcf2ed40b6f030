"""The weekly celebration: what each feature celebrates this week, said out loud once a week —
effort and progress, not only outcomes — within Block Kit's limits however big the team. A team with
a channel also gets its own part there: the same, about its people only."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject
from sqlalchemy.orm import Session

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.context import Context, Job, Run
from bot.core.jobs import weekly, weekly_schedule
from bot.core.outbox import post_message
from bot.core.parts import EVERYONE, Scope, WeekPart
from bot.core.text import escape
from bot.teams.people import team_scopes
from storage.db import Range

FIRST_COVERS = timedelta(days=7)  # the first celebration, with no previous one to start from
HEADLINE = ":tada: This week, together"
QUIET_WEEK = (
    ":seedling: *A quiet week for kudos.*\n"
    "Quiet weeks are often full of steady, unseen work: the tickets closed without drama, the patient "
    "second reply, the notes tidied for the next shift. Thank you for all of it.\n"
    "If someone's effort made your week easier, `/kudos @them` takes ten seconds — it's not too late."
)


def week_parts(session: Session, ctx: Context, week: Range, scope: Scope = EVERYONE) -> list[WeekPart]:
    """What each feature has to celebrate in the week (of everyone, or of a team's people), in the
    order of bot/features.py."""
    parts = (feature.week(session, ctx.settings, week, scope) for feature in ctx.features if feature.week)
    return [part for part in parts if part is not None]


def celebration(parts: list[WeekPart], team: str | None = None) -> list[Message]:
    """One message, or several when the parts need more than Block Kit's 50 blocks; a team's, in its channel."""
    if not parts:
        return [(QUIET_WEEK, [limits.section(QUIET_WEEK)])]
    header = f":tada: This week in {team}, together" if team else HEADLINE  # plain text
    headline = (f":tada: This week in {escape(team)}, together" if team else HEADLINE) + ": "
    headline += "; ".join(part.summary for part in parts)
    blocks = [HeaderBlock(text=header).to_dict(), *(block for part in parts for block in part.blocks)]
    pieces = limits.split(blocks, limits.MAX_BLOCKS - 1)  # room for the "continued" line
    messages = [(headline, pieces[0])]
    for number, piece in enumerate(pieces[1:], 2):
        note = f"This week's celebration, continued ({number}/{len(pieces)})"
        messages.append((note, [ContextBlock(elements=[MarkdownTextObject(text=note)]).to_dict(), *piece]))
    return messages


def post_weekly_celebration(ctx: Context, session: Session, run: Run) -> list[str]:
    """Everything since the previous celebration, so a Friday evening or a weekend is never left
    out; the first one covers the last 7 days."""
    channel = ctx.settings.celebration_channel
    if not channel:
        return ["nothing: set KAIZEN_CELEBRATION_CHANNEL (or KAIZEN_KUDOS_CHANNEL) to celebrate the week"]
    week = (run.previous or run.now - FIRST_COVERS, run.now)
    posts = celebration(week_parts(session, ctx, week))
    _post(session, run, "celebration", channel, posts)
    lines = [f"weekly celebration to <#{channel}> in {len(posts)} message(s): {posts[0][0]}"]
    for team, scope in team_scopes(session):
        if team.channel_id:
            posts = celebration(week_parts(session, ctx, week, scope), team.name)
            _post(session, run, f"celebration:team:{team.id}", team.channel_id, posts)
            lines.append(f"{team.name}'s part to <#{team.channel_id}> in {len(posts)} message(s): {posts[0][0]}")
    return lines


def _post(session: Session, run: Run, key: str, channel: str, posts: list[Message]) -> None:
    for number, (text, blocks) in enumerate(posts, 1):
        post_message(session, f"{key}:{run.key}:{number}", channel=channel, text=text, blocks=blocks, now=run.now)


WEEKLY_CELEBRATION = Job(
    name="weekly-celebration",
    work=post_weekly_celebration,
    period=weekly,
    schedule=lambda s: weekly_schedule(s.celebration_at),
)
