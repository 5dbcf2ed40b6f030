"""/lesson, the lesson form, and the Useful button."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.forms import answer_privately, answer_view_submission
from bot.core.refusal import record_id
from bot.core.text import escape
from bot.lessons import blocks as messages
from bot.lessons.rules import (
    MAX_LESSON_LENGTH,
    LessonDraft,
    list_lessons,
    parse_command_text,
    promote_lesson,
    share_lesson,
    toggle_vote,
)
from bot.tips.rules import themes


def register(app: App, ctx: Context) -> None:
    settings = ctx.settings

    @app.command("/lesson")
    def lesson_command(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        text = (body.get("text") or "").strip()
        ack()
        if not text:
            client.views_open(trigger_id=body["trigger_id"], view=messages.lesson_modal(themes(), MAX_LESSON_LENGTH))
            return
        answer_privately(respond, lambda: _answer_command(ctx, body, text))

    @app.view(messages.LESSON_MODAL)
    def lesson_modal_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        draft = LessonDraft(
            text=escape(state["text"]["text"].get("value") or "").strip(),
            theme=(state["theme"]["theme"].get("selected_option") or {}).get("value"),
            anonymous=bool(state["anonymous"]["anonymous"].get("selected_options")),
        )

        def share(session: Session) -> dict:
            lesson = share_lesson(
                session,
                settings,
                author_id=body["user"]["id"],
                draft=draft,
                request_key=f"view:{view['id']}",
                now=ctx.now(),
            )
            return messages.shared_modal(lesson, settings.lessons_channel, settings.lesson_promote_votes)

        answer_view_submission(ctx, ack, share)

    @app.action(messages.USEFUL_ACTION)
    def useful_pressed(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()

        def vote() -> str:
            with ctx.transaction() as session:
                vote = toggle_vote(
                    session,
                    settings,
                    lesson_id=record_id(action["value"]),
                    voter_id=body["user"]["id"],
                    request_key=f"action:{body['trigger_id']}",
                    now=ctx.now(),
                )
            return messages.vote_reply(vote.lesson, vote.voted, vote.votes, vote.tip)

        answer_privately(respond, vote)


def _answer_command(ctx: Context, body: dict, text: str) -> str:
    """Everything `/lesson <text>` can ask; the words list, help and promote start a subcommand only
    in their own shape, so `/lesson List the refund steps before you start` is still a lesson."""
    settings = ctx.settings
    word, rest = (re.split(r"\s+", text, maxsplit=1) + [""])[:2]
    word = word.lower()
    if word == "help" and not rest:
        return messages.help_text(themes(), settings.lesson_promote_votes, MAX_LESSON_LENGTH)
    if word == "list" and not rest:
        with ctx.transaction() as session:
            rows, total = list_lessons(session)
        return messages.lesson_list(rows, total)
    if word == "promote" and re.fullmatch(r"#?\d*", rest):
        with ctx.transaction() as session:
            lesson, tip = promote_lesson(
                session,
                settings,
                by=body["user_id"],
                argument=rest,
                request_key=f"command:{body['trigger_id']}",
                now=ctx.now(),
            )
        return messages.promoted_reply(lesson, tip)
    with ctx.transaction() as session:
        lesson = share_lesson(
            session,
            settings,
            author_id=body["user_id"],
            draft=parse_command_text(text),
            request_key=f"command:{body['trigger_id']}",
            now=ctx.now(),
        )
    return messages.confirmation(lesson, settings.lessons_channel, settings.lesson_promote_votes)
