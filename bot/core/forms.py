"""What every answer to a person does the same way: a private reply to a command or a click, opening a
modal after slow work, and answering a form's submission."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.core.blocks import notice_modal
from bot.core.context import Context
from bot.core.refusal import Refused
from storage.outbox import DuplicateRequest

log = logging.getLogger(__name__)


def answer_privately(respond: Respond, work: Callable[[], str]) -> None:
    """Run `work` and tell the person what it returns, or why not (a Refused), where only they see it.

    A Slack retry or a double click of something already done (DuplicateRequest) gets no second answer.
    """
    try:
        reply = work()
    except Refused as refusal:
        reply = refusal.reason
    except DuplicateRequest:
        return
    respond(reply, response_type="ephemeral", replace_original=False)


def open_modal_at_once(client: WebClient, trigger_id: str, title: str, build: Callable[[], dict]) -> None:
    """Open a modal whose content needs slow work first (Web API calls, a transaction).

    A click's trigger_id expires 3 seconds after it, so a small "one moment" modal opens at once;
    `build` then makes the real view (or raises Refused, whose reason the modal shows instead),
    which replaces it. `title` is the waiting modal's, at most 24 characters.
    """
    waiting = notice_modal(title, ":hourglass_flowing_sand: One moment…", close="OK")
    opened = client.views_open(trigger_id=trigger_id, view=waiting)
    try:
        view = build()
    except Refused as refusal:
        view = notice_modal(title, refusal.reason, close="OK")
    try:  # the hash guards against a change made meanwhile; Slack sends it, but nothing requires it
        client.views_update(view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=view)
    except SlackApiError as error:  # closed meanwhile: there is nothing left to show it in
        log.info("Could not fill modal %s: %s", opened["view"]["id"], error.response.get("error"))


UNFORESEEN_FAILURE = "Something went wrong on my side and nothing was saved. Please try again in a moment."


def answer_view_submission(
    ctx: Context, ack: Ack, work: Callable[[Session], dict | None], *, main_field: str | None = None
) -> None:
    """Run `work` in one transaction, then ack with the view it returns (None closes the modal).

    Slack shows a modal's errors only in the ack, so the rules run before it; a refusal is shown
    on its field. With `main_field`, any other failure (the database's, say) is logged and shown
    on that field too, instead of Slack's generic error. The outbox is delivered after the ack.
    A double submit records once.
    """
    try:
        with ctx.transaction(deliver=False) as session:
            next_view = work(session)
    except Refused as refusal:
        ack(response_action="errors", errors={refusal.field: refusal.reason})
        return
    except DuplicateRequest:
        ack()
        return
    except Exception:
        if main_field is None:
            raise
        log.exception("A form's submission failed; the person was told nothing was saved")
        ack(response_action="errors", errors={main_field: UNFORESEEN_FAILURE})
        return
    if next_view is None:
        ack()
    else:
        ack(response_action="update", view=next_view)
    ctx.deliver_outbox(session)
