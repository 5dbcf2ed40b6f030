"""/mentor, the mentoring form, and the "Did you meet?" buttons."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.forms import answer_view_submission
from bot.core.refusal import Refused, record_id
from bot.core.text import escape
from bot.mentor import blocks as messages
from bot.mentor.matching import LEARNERS_PER_MENTOR
from bot.mentor.rules import (
    MentorRefused,
    add_skills,
    answer_follow_up,
    nobody_else_offers,
    overview,
    parse_skills,
    save_skills,
    stop,
)
from storage.mentor import OFFER, WANT
from storage.outbox import DuplicateRequest


def register(app: App, ctx: Context) -> None:
    settings = ctx.settings

    @app.command("/mentor")
    def mentor_command(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        text = (body.get("text") or "").strip()
        word, _, rest = text.partition(" ")
        word = word.lower()
        user_id = body["user_id"]
        if not text:
            ack()
            with ctx.transaction() as session:
                mine = overview(session, settings, user_id, ctx.now())
            view = messages.mentor_modal(settings.skills, mine.offers, mine.wants, settings.mentor_every_weeks)
            client.views_open(trigger_id=body["trigger_id"], view=view)
        elif word in ("offer", "want", "stop", "list"):
            ack()
            try:
                reply = _answer(ctx, user_id, word, rest)
            except MentorRefused as refusal:
                reply = refusal.reason
            respond(reply, response_type="ephemeral")
        else:
            help_text = messages.help_text(settings.skills, settings.mentor_every_weeks, LEARNERS_PER_MENTOR)
            ack(help_text if word == "help" else f"I don't know `{escape(word)}`.\n{help_text}")

    @app.view(messages.MENTOR_MODAL)
    def mentor_modal_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        user_id = body["user"]["id"]

        def chosen(list_id: str, tags_id: str) -> list[str]:
            picked = [option["value"] for option in state[list_id][list_id].get("selected_options") or []]
            typed = parse_skills(state[tags_id][tags_id].get("value") or "", settings.skills, tags_id)
            return list(dict.fromkeys(picked + typed))

        def save(session: Session) -> dict:
            offers, wants = chosen(messages.OFFERS, messages.OFFER_TAGS), chosen(messages.WANTS, messages.WANT_TAGS)
            save_skills(session, user_id, offers, wants, ctx.now())
            mine = overview(session, settings, user_id, ctx.now())
            return messages.saved_modal(
                messages.overview_text(
                    mine.offers, mine.wants, mine.this_round, mine.pairs, user_id, mine.next_matching
                )
            )

        answer_view_submission(ctx, ack, save)

    @app.action(re.compile("^" + re.escape(messages.FOLLOW_UP_ACTION)))
    def follow_up_answered(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        pair_id, _, answer = action["value"].partition(":")
        try:
            with ctx.transaction() as session:
                answer_follow_up(
                    session,
                    pair_id=record_id(pair_id),
                    user_id=body["user"]["id"],
                    answer=answer,
                    request_key=f"action:{body['trigger_id']}",
                    now=ctx.now(),
                )
        except Refused as refusal:
            respond(refusal.reason, response_type="ephemeral", replace_original=False)
        except DuplicateRequest:
            pass  # a double click: the answer is kept once, and the message already shows it


def _answer(ctx: Context, user_id: str, word: str, rest: str) -> str:
    settings = ctx.settings
    skills = [] if word == "list" else parse_skills(rest, settings.skills)
    now = ctx.now()
    with ctx.transaction() as session:
        if word == "stop":
            return messages.stopped(stop(session, user_id, skills), skills)
        if word == "list":
            mine = overview(session, settings, user_id, now)
            return messages.overview_text(
                mine.offers, mine.wants, mine.this_round, mine.pairs, user_id, mine.next_matching
            )
        role = OFFER if word == "offer" else WANT
        added = add_skills(session, user_id, role, skills, now)
        mine = overview(session, settings, user_id, now)
        if role == OFFER:
            return messages.offered(added, mine.offers, mine.next_matching, LEARNERS_PER_MENTOR)
        return messages.wanted(added, mine.wants, nobody_else_offers(session, user_id, skills), mine.next_matching)
