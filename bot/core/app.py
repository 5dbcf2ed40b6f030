"""The Bolt app factory: nothing happens at import; call create_app as often as needed."""

from __future__ import annotations

import logging
import secrets
import time

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.request import payload_utils

from bot.core import metrics
from bot.core.context import Context
from bot.core.logs import ContextPool, log_about

LISTENER_THREADS = 5  # Bolt's default


def create_app(ctx: Context, *, process_before_response: bool = False) -> App:
    """A Bolt app with every feature's listeners registered."""
    settings = ctx.settings
    app = KaizenApp(
        client=ctx.client,
        # Every HTTP request is verified, whatever the settings: without a signing secret (Socket Mode)
        # the key is one nobody knows, so no HTTP request passes. Socket Mode requests come unsigned
        # over the app token's connection, and Bolt knows them by their mode and lets them through.
        signing_secret=settings.slack_signing_secret or secrets.token_hex(32),
        request_verification_enabled=True,
        process_before_response=process_before_response,
        logger=logging.getLogger("kaizen.bolt"),
        listener_executor=ContextPool(LISTENER_THREADS, thread_name_prefix="kaizen-listener"),
    )
    for feature in ctx.features:
        if feature.listeners:
            feature.listeners(app, ctx)
    return app


class KaizenApp(App):
    """Bolt's App, counting each request by kind and timing its acknowledgement; what its listeners log
    says which kind of request, from which team and channel (never who sent it, nor which DM: that
    may be an anonymous giver)."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        """Bolt's dispatch returns once the listener has acknowledged the request: that is its ack time."""
        started, kind, channel = time.monotonic(), request_kind(req.body), req.context.channel_id
        # A DM's ID stands for the person in it, as good as their user ID: a DM is only said to be one.
        channel = "DM" if channel and channel.startswith("D") else channel
        with log_about(kind=kind, team=req.context.team_id, channel=channel):
            response = super().dispatch(req)
        metrics.count_request(kind, time.monotonic() - started)
        return response


def request_kind(body: dict) -> str:
    """command, action, view, event, shortcut, options or other."""
    kinds = {
        "command": payload_utils.is_slash_command,
        "action": payload_utils.is_action,
        "view": payload_utils.is_view,
        "event": payload_utils.is_event,
        "shortcut": payload_utils.is_shortcut,
        "options": payload_utils.is_options,
    }
    return next((kind for kind, is_kind in kinds.items() if is_kind(body)), "other")
