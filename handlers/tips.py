"""/tip: today's tip, subscriptions (also from the Home tab), and admins adding and retiring tips."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from bot.core.context import Context
from bot.core.forms import answer_privately
from bot.core.text import escape
from bot.home.rules import home_changed
from bot.tips import blocks as messages
from bot.tips.rules import add_tip, retire_tip, subscribe, themes, todays_tip, unsubscribe
from storage.tips import is_subscribed


def register(app: App, ctx: Context) -> None:
    settings = ctx.settings

    @app.command("/tip")
    def tip_command(ack: Ack, body: dict, respond: Respond) -> None:
        text = (body.get("text") or "").strip()
        word, _, rest = text.partition(" ")
        word = word.lower()
        user_id = body["user_id"]
        if word in ("", "today"):
            ack()
            with ctx.transaction() as session:
                tip_text, blocks = messages.asked_for(
                    todays_tip(session, settings, ctx.now()),
                    is_subscribed(session, user_id),
                    for_admin=settings.is_admin(user_id),
                )
            respond(text=tip_text, blocks=blocks, response_type="ephemeral")
        elif word == "subscribe":
            ack()
            with ctx.transaction() as session:
                changed = subscribe(session, user_id, ctx.now())
            respond(messages.subscribed(changed), response_type="ephemeral")
        elif word == "unsubscribe":
            ack()
            with ctx.transaction() as session:
                changed = unsubscribe(session, user_id)
            respond(messages.unsubscribed(changed), response_type="ephemeral")
        elif word in ("add", "retire"):
            ack()

            def add_or_retire() -> str:
                with ctx.transaction() as session:
                    if word == "add":
                        request_key = f"command:{body['trigger_id']}"
                        tip = add_tip(
                            session, settings, user_id=user_id, text=rest, request_key=request_key, now=ctx.now()
                        )
                        return messages.added(tip)
                    tip = retire_tip(session, settings, user_id=user_id, argument=rest, now=ctx.now())
                    return messages.retired(tip)

            answer_privately(respond, add_or_retire)
        else:
            help_text = messages.help_text(themes(), settings.is_admin(user_id))
            ack(help_text if word == "help" else f"I don't know `{escape(word)}`.\n{help_text}")

    @app.action(messages.TIP_TOGGLE)
    def home_tip_toggled(ack: Ack, body: dict, action: dict) -> None:
        ack()
        user_id = body["user"]["id"]
        with ctx.transaction() as session:
            # The button says what it does, so a double click lands in the same state.
            if action["value"] == "subscribe":
                subscribe(session, user_id, ctx.now())
            else:
                unsubscribe(session, user_id)
            home_changed(session, user_id)
