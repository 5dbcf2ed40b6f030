"""Slack listeners, one module per feature. Each parses, acks, calls a service and answers."""

from __future__ import annotations

from slack_bolt import App

from bot.context import Context
from handlers import kudos, tips


def register_all(app: App, ctx: Context) -> None:
    kudos.register(app, ctx)
    tips.register(app, ctx)
