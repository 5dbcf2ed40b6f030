"""The App Home tab and its tip subscription toggle."""

from __future__ import annotations

from slack_bolt import Ack, App

from bot import tips
from bot.context import Context
from bot.home import publish_home
from bot.home_messages import TIP_TOGGLE


def register(app: App, ctx: Context) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict) -> None:
        if event.get("tab", "home") != "home":
            return
        with ctx.transaction() as session:
            publish_home(session, ctx.settings, event["user"], ctx.now())

    @app.action(TIP_TOGGLE)
    def tip_toggled(ack: Ack, body: dict, action: dict) -> None:
        ack()
        user_id = body["user"]["id"]
        with ctx.transaction() as session:
            # The button says what it does, so a double click lands in the same state.
            if action["value"] == "subscribe":
                tips.subscribe(session, user_id, ctx.now())
            else:
                tips.unsubscribe(session, user_id)
            publish_home(session, ctx.settings, user_id, ctx.now())
