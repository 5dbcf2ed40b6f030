"""The App Home tab: republished whenever someone opens it."""

from __future__ import annotations

from slack_bolt import App

from bot.core.context import Context
from bot.home.rules import home_changed


def register(app: App, ctx: Context) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict) -> None:
        if event.get("tab", "home") != "home":
            return
        with ctx.transaction() as session:
            home_changed(session, event["user"])
