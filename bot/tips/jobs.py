"""The daily-tip job: Monday to Friday, today's tip in the tips channel and by DM to every subscriber."""

from __future__ import annotations

from sqlalchemy.orm import Session

import bot.tips.blocks as messages
from bot.core.context import Context, Job, Run
from bot.core.jobs import daily
from bot.core.outbox import enqueue_all, message_to, post_message
from bot.tips.rules import todays_tip
from storage import tips as store


def post_daily_tip(ctx: Context, session: Session, run: Run) -> list[str]:
    """The daily-tip job: today's tip in the tips channel and by DM to every subscriber."""
    settings = ctx.settings
    now = run.now
    tip = todays_tip(session, settings, now)
    lines = []
    if settings.tips_channel:
        text, blocks = messages.channel_tip(tip)
        key = f"tip:{run.key}:channel"
        post_message(session, key, channel=settings.tips_channel, text=text, blocks=blocks, now=now)
        lines.append(f"tip {tip.id} to <#{settings.tips_channel}>")
    subscribers = store.subscriber_ids(session)
    text, blocks = messages.subscriber_tip(tip)
    dms = [message_to(user, f"tip:{run.key}:dm:{user}", text=text, blocks=blocks) for user in subscribers]
    enqueue_all(session, dms, now)  # one statement for every subscriber: the fan-out starts sooner
    lines.append(f"tip {tip.id} by DM to {len(subscribers)} subscribers")
    return lines


DAILY_TIP = Job(
    name="daily-tip",
    work=post_daily_tip,
    period=daily,
    schedule=lambda s: {"day_of_week": "mon-fri", "hour": s.daily_tip_at.hour, "minute": s.daily_tip_at.minute},
)
