"""The Bolt app factory: nothing happens at import; call create_app as often as needed."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.core.context import Context


def create_app(ctx: Context, *, process_before_response: bool = False) -> App:
    """A Bolt app with every feature's listeners registered."""
    settings = ctx.settings
    app = App(
        client=ctx.client,
        signing_secret=settings.slack_signing_secret or "",
        # Socket Mode requests are not signed; Bolt skips the check for them on its own.
        request_verification_enabled=bool(settings.slack_signing_secret),
        process_before_response=process_before_response,
        logger=logging.getLogger("kaizen.bolt"),
    )
    for feature in ctx.features:
        if feature.listeners:
            feature.listeners(app, ctx)
    return app
