"""/feedback, the request DM's button and the feedback modal."""

from __future__ import annotations

import json

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.forms import answer_privately, answer_view_submission, open_modal_at_once
from bot.core.refusal import Refused, record_id
from bot.core.text import escape, leading_mentions
from bot.feedback import blocks as messages
from bot.feedback.rules import (
    ANONYMOUS_A_DAY,
    EXPIRE_AFTER,
    REMIND_AFTER,
    FeedbackAnswer,
    answer_request,
    answerable_request,
    check_recipient,
    give_feedback,
    parse_request,
    report_feedback,
    request_feedback,
)
from storage import feedback as store
from storage.outbox import DuplicateRequest


def register(app: App, ctx: Context) -> None:
    help_text = messages.help_text(REMIND_AFTER.days, EXPIRE_AFTER.days, ANONYMOUS_A_DAY)

    @app.command("/feedback")
    def feedback_command(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        word, _, rest = (body.get("text") or "").strip().partition(" ")
        word = word.lower()
        user_id = body["user_id"]
        if word == "request":
            ack()
            answer_privately(respond, lambda: _request(ctx, body, rest))
        elif word == "give":
            ack()

            def give_modal() -> dict:  # users.info: after the modal is open
                about_id = check_recipient(ctx.users.get, user_id, leading_mentions(rest.strip())[0])
                return messages.feedback_modal(about_id, "", {"about": about_id})

            open_modal_at_once(client, body["trigger_id"], messages.MODAL_TITLE, give_modal)
        elif word == "list":
            ack()
            with ctx.transaction() as session:
                your_requests = store.asked_together(session, store.open_requests_of(session, user_id))
                text = messages.feedback_list(store.waiting_on(session, user_id), your_requests, ctx.now())
            respond(text, response_type="ephemeral")
        elif word in ("", "help"):
            ack(help_text)
        else:
            ack(f"I don't know `{escape(word)}`.\n{help_text}")

    @app.action(messages.ANSWER_BUTTON)
    def answer_clicked(ack: Ack, body: dict, client: WebClient) -> None:
        ack()

        def answer_modal() -> dict:  # a transaction: after the modal is open
            with ctx.transaction() as session:
                request_id = record_id(body["actions"][0]["value"])
                request = answerable_request(session, request_id, body["user"]["id"], ctx.now())
            return messages.feedback_modal(request.about_id, request.topic, {"request": request.id})

        # In a DM or on the Home tab alike, a refusal shows in the modal.
        open_modal_at_once(client, body["trigger_id"], messages.MODAL_TITLE, answer_modal)

    @app.action(messages.REPORT_BUTTON)
    def report_clicked(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        try:
            with ctx.transaction() as session:
                report_feedback(
                    session,
                    ctx.settings,
                    feedback_id=record_id(action["value"]),
                    reporter_id=body["user"]["id"],
                    now=ctx.now(),
                )
        except Refused as refusal:
            reply = refusal.reason
        except DuplicateRequest:
            reply = "You reported it already: the admins have it."
        else:
            reply = messages.reported(len(ctx.settings.admins))
        respond(reply, response_type="ephemeral", replace_original=False)

    @app.view(messages.FEEDBACK_MODAL)
    def feedback_modal_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        metadata = json.loads(view["private_metadata"])
        answer_given = FeedbackAnswer(
            answers={p: escape(state[p][p].get("value") or "").strip() for p in messages.PROMPTS},
            anonymous=bool(state[messages.ANONYMOUS][messages.ANONYMOUS].get("selected_options")),
        )
        giver_id = body["user"]["id"]
        # The view ID, not the user: a retry is recognised without keeping who answered.
        request_key = f"view:{view['id']}"

        def answer(session: Session) -> dict:
            if "request" in metadata:
                feedback = answer_request(
                    session,
                    giver_id=giver_id,
                    request_id=metadata["request"],
                    answer=answer_given,
                    request_key=request_key,
                    now=ctx.now(),
                )
            else:
                feedback = give_feedback(
                    session,
                    ctx.settings,
                    giver_id=giver_id,
                    about_id=metadata["about"],
                    answer=answer_given,
                    request_key=request_key,
                    now=ctx.now(),
                )
            return messages.sent_modal(feedback.about_id, answer_given.anonymous)

        answer_view_submission(ctx, ack, answer)


def _request(ctx: Context, body: dict, text: str) -> str:
    reviewer_ids, topic = parse_request(text)
    with ctx.transaction() as session:
        request_feedback(
            session,
            ctx.settings,
            ctx.users.get,
            requester_id=body["user_id"],
            reviewer_ids=reviewer_ids,
            topic=topic,
            request_key=f"command:{body['trigger_id']}",
            now=ctx.now(),
        )
    return messages.asked_confirmation(reviewer_ids, topic, REMIND_AFTER.days, EXPIRE_AFTER.days)
