"""Slack listeners, one module per feature. Each parses, acks, calls a service and answers."""

from __future__ import annotations

from slack_bolt import App

from bot.core.context import Context
from handlers import feedback, home, ideas, kudos, message_kudos, tips


def register_all(app: App, ctx: Context) -> None:
    kudos.register(app, ctx)
    message_kudos.register(app, ctx)
    ideas.register(app, ctx)
    feedback.register(app, ctx)
    tips.register(app, ctx)
    home.register(app, ctx)
