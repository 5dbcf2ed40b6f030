"""/kudos and the kudos modal."""

from __future__ import annotations

import json

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.forms import answer_view_submission
from bot.core.text import escape
from bot.kudos import blocks as messages
from bot.kudos.rules import (
    LEADERBOARD_PERIODS,
    KudosDraft,
    KudosRefused,
    give_kudos,
    kudos_left_today,
    leaderboard,
    parse_command_text,
    single_user_id,
    stats,
)
from storage.outbox import DuplicateRequest


def register(app: App, ctx: Context) -> None:
    settings = ctx.settings

    @app.command("/kudos")
    def kudos_command(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        text = (body.get("text") or "").strip()
        word, _, rest = text.partition(" ")
        word = word.lower()
        if not text:
            ack()
            client.views_open(trigger_id=body["trigger_id"], view=messages.kudos_modal(settings.values))
        elif word == "help":
            ack(messages.help_text(settings.values, settings.kudos_daily_limit, settings.kudos_emoji))
        elif word == "leaderboard":
            period = rest.strip().lower() or "week"
            if period not in LEADERBOARD_PERIODS:
                ack(f"I know `week`, `month` and `all` — try `/kudos leaderboard month`. (I got `{escape(period)}`.)")
                return
            ack()
            with ctx.transaction() as session:
                rows = leaderboard(session, settings, period, ctx.now())
            respond(messages.leaderboard(period, rows), response_type="ephemeral")
        elif word == "stats":
            ack()
            user_id = single_user_id(rest) or body["user_id"]
            with ctx.transaction() as session:
                numbers = stats(session, settings, user_id, ctx.now())
            respond(messages.stats(user_id, numbers), response_type="ephemeral")
        else:
            ack()
            ctx.defer(_give_from_command, ctx, body, text, respond)

    @app.view(messages.KUDOS_MODAL)
    def kudos_modal_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        metadata = json.loads(view.get("private_metadata") or "{}")
        draft = KudosDraft(
            recipients=state["recipients"]["recipients"].get("selected_users") or [],
            message=escape(state["message"]["message"].get("value") or "").strip(),
            values=[o["value"] for o in state["values"]["values"].get("selected_options") or []],
        )
        giver_id = body["user"]["id"]

        def give(session: Session) -> dict:
            give_kudos(
                session,
                settings,
                ctx.users.get,
                giver_id=giver_id,
                draft=draft,
                source=metadata.get("source", "modal"),
                request_key=f"view:{view['id']}",
                now=ctx.now(),
                link=metadata.get("link"),
            )
            return messages.sent_modal(draft.recipients, kudos_left_today(session, settings, giver_id, ctx.now()))

        answer_view_submission(ctx, ack, give)


def _give_from_command(ctx: Context, body: dict, text: str, respond: Respond) -> None:
    settings = ctx.settings
    draft = parse_command_text(text, settings.values)
    try:
        with ctx.transaction() as session:
            given = give_kudos(
                session,
                settings,
                ctx.users.get,
                giver_id=body["user_id"],
                draft=draft,
                source="command",
                request_key=f"command:{body['trigger_id']}",
                now=ctx.now(),
            )
            left = kudos_left_today(session, settings, body["user_id"], ctx.now())
    except KudosRefused as refusal:
        respond(refusal.reason, response_type="ephemeral")
        return
    except DuplicateRequest:
        return  # Slack retried a request we already recorded and answered.
    recipients = [k.recipient_id for k in given]
    respond(messages.confirmation(recipients, left, settings.kudos_channel), response_type="ephemeral")
