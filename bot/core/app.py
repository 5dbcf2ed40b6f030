"""The Bolt app factory: nothing happens at import; call create_app as often as needed."""

from __future__ import annotations

import logging
import secrets

from slack_bolt import App

from bot.core.context import Context


def create_app(ctx: Context, *, process_before_response: bool = False) -> App:
    """A Bolt app with every feature's listeners registered."""
    settings = ctx.settings
    app = App(
        client=ctx.client,
        # Every HTTP request is verified, whatever the settings: without a signing secret (Socket Mode)
        # the key is one nobody knows, so no HTTP request passes. Socket Mode requests come unsigned
        # over the app token's connection, and Bolt knows them by their mode and lets them through.
        signing_secret=settings.slack_signing_secret or secrets.token_hex(32),
        request_verification_enabled=True,
        process_before_response=process_before_response,
        logger=logging.getLogger("kaizen.bolt"),
    )
    for feature in ctx.features:
        if feature.listeners:
            feature.listeners(app, ctx)
    return app
