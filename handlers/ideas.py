"""/idea, the idea form, the Upvote button, and the status menu leads use."""

from __future__ import annotations

import json
import re

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.forms import answer_view_submission
from bot.core.text import escape
from bot.ideas import blocks as messages
from bot.ideas.rules import (
    IdeaDraft,
    IdeaRefused,
    StatusRequest,
    change_status,
    check_can_change_status,
    list_ideas,
    parse_command_text,
    parse_status_command,
    submit_idea,
    toggle_vote,
    top_ideas,
)
from storage.outbox import DuplicateRequest


def register(app: App, ctx: Context) -> None:
    settings = ctx.settings

    @app.command("/idea")
    def idea_command(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        text = (body.get("text") or "").strip()
        ack()
        if not text:
            client.views_open(trigger_id=body["trigger_id"], view=messages.idea_modal(settings.idea_categories))
            return
        try:
            reply = _answer_command(ctx, body, text)
        except IdeaRefused as refusal:
            reply = refusal.reason
        except DuplicateRequest:
            return  # Slack retried a request we already recorded and answered.
        respond(reply, response_type="ephemeral")

    @app.view(messages.IDEA_MODAL)
    def idea_modal_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        draft = IdeaDraft(
            title=escape(state["title"]["title"].get("value") or "").strip(),
            description=escape(state["description"]["description"].get("value") or "").strip(),
            category=(state["category"]["category"].get("selected_option") or {}).get("value"),
            anonymous=bool(state["anonymous"]["anonymous"].get("selected_options")),
        )

        def submit(session: Session) -> dict:
            idea = submit_idea(
                session,
                settings,
                author_id=body["user"]["id"],
                draft=draft,
                request_key=f"view:{view['id']}",
                now=ctx.now(),
            )
            return messages.submitted_modal(idea, settings.ideas_channel)

        answer_view_submission(ctx, ack, submit)

    @app.action(messages.VOTE_ACTION)
    def upvote_pressed(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        try:
            with ctx.transaction() as session:
                idea, voted, votes = toggle_vote(
                    session,
                    idea_id=int(action["value"]),
                    voter_id=body["user"]["id"],
                    request_key=f"action:{body['trigger_id']}",
                    now=ctx.now(),
                )
        except IdeaRefused as refusal:
            respond(refusal.reason, response_type="ephemeral", replace_original=False)
            return
        except DuplicateRequest:
            return
        respond(messages.vote_reply(idea, voted, votes), response_type="ephemeral", replace_original=False)

    @app.action(messages.STATUS_ACTION)
    def status_chosen(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        idea_id, _, status = action["selected_option"]["value"].partition(":")
        user_id = body["user"]["id"]
        try:
            check_can_change_status(settings, user_id)
            if status == "declined":  # a decline needs a reason: ask for it first
                client.views_open(trigger_id=body["trigger_id"], view=messages.decline_modal(int(idea_id)))
                return
            with ctx.transaction() as session:
                idea = change_status(
                    session,
                    settings,
                    by=user_id,
                    change=StatusRequest(int(idea_id), status, note=""),
                    request_key=f"action:{body['trigger_id']}",
                    now=ctx.now(),
                )
        except IdeaRefused as refusal:
            respond(refusal.reason, response_type="ephemeral", replace_original=False)
            return
        except DuplicateRequest:
            return
        respond(messages.status_changed(idea), response_type="ephemeral", replace_original=False)

    @app.view(messages.DECLINE_MODAL)
    def decline_submitted(ack: Ack, body: dict, view: dict) -> None:
        change = StatusRequest(
            idea_id=json.loads(view["private_metadata"])["idea"],
            status="declined",
            note=escape(view["state"]["values"]["reason"]["reason"].get("value") or "").strip(),
        )

        def decline(session: Session) -> None:
            try:
                change_status(
                    session,
                    settings,
                    by=body["user"]["id"],
                    change=change,
                    request_key=f"view:{view['id']}",
                    now=ctx.now(),
                )
            except IdeaRefused as refusal:
                raise IdeaRefused(refusal.reason, "reason") from None  # the form's only field

        answer_view_submission(ctx, ack, decline)


def _answer_command(ctx: Context, body: dict, text: str) -> str:
    """Everything `/idea <text>` can ask; the words list, top, help and status start a subcommand
    only in their own shape, so `/idea Status page for outages` is still an idea."""
    settings = ctx.settings
    word, rest = (re.split(r"\s+", text, maxsplit=1) + [""])[:2]
    word = word.lower()
    if word == "help" and not rest:
        return messages.help_text(settings.idea_categories)
    if word == "list" and len(rest.split()) <= 1:
        status = rest.lower() or None
        with ctx.transaction() as session:
            rows, total = list_ideas(session, status)
        return messages.idea_list(status, rows, total)
    if word == "top" and not rest:
        with ctx.transaction() as session:
            rows = top_ideas(session)
        return messages.top(rows)
    if word == "status" and re.match(r"#?\d|$", rest):
        check_can_change_status(settings, body["user_id"])
        with ctx.transaction() as session:
            idea = change_status(
                session,
                settings,
                by=body["user_id"],
                change=parse_status_command(rest),
                request_key=f"command:{body['trigger_id']}",
                now=ctx.now(),
            )
        return messages.status_changed(idea)
    with ctx.transaction() as session:
        idea = submit_idea(
            session,
            settings,
            author_id=body["user_id"],
            draft=parse_command_text(text),
            request_key=f"command:{body['trigger_id']}",
            now=ctx.now(),
        )
    return messages.confirmation(idea, settings.ideas_channel)
