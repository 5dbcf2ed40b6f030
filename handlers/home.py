"""The App Home tab and its tip subscription toggle."""

from __future__ import annotations

from slack_bolt import Ack, App
from sqlalchemy import event

from bot.core.context import Context
from bot.home.blocks import TIP_TOGGLE
from bot.home.rules import home_changed, publish_stale_homes
from bot.tips import rules as tips


def register(app: App, ctx: Context) -> None:
    # Whatever a transaction changed on someone's Home tab is republished in that same transaction.
    event.listen(
        ctx.session_factory, "before_commit", lambda session: publish_stale_homes(session, ctx.settings, ctx.now())
    )

    @app.event("app_home_opened")
    def home_opened(event: dict) -> None:
        if event.get("tab", "home") != "home":
            return
        with ctx.transaction() as session:
            home_changed(session, event["user"])

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
            home_changed(session, user_id)
