"""What every modal does the same way: opening after slow work, and answering a submission."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import MarkdownTextObject, PlainTextObject, SectionBlock
from slack_sdk.models.views import View
from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.refusal import Refused
from storage.outbox import DuplicateRequest

log = logging.getLogger(__name__)


def open_modal_at_once(client: WebClient, trigger_id: str, title: str, build: Callable[[], dict]) -> None:
    """Open a modal whose content needs slow work first (Web API calls, a transaction).

    A click's trigger_id expires 3 seconds after it, so a small "one moment" modal opens at once;
    `build` then makes the real view (or raises Refused, whose reason the modal shows instead),
    which replaces it. `title` is the waiting modal's, at most 24 characters.
    """
    opened = client.views_open(trigger_id=trigger_id, view=notice_view(title, ":hourglass_flowing_sand: One moment…"))
    try:
        view = build()
    except Refused as refusal:
        view = notice_view(title, refusal.reason)
    try:
        client.views_update(view_id=opened["view"]["id"], hash=opened["view"]["hash"], view=view)
    except SlackApiError as error:  # closed meanwhile: there is nothing left to show it in
        log.info("Could not fill modal %s: %s", opened["view"]["id"], error.response.get("error"))


def notice_view(title: str, text: str) -> dict:
    """A modal that only says something, with a button to close it."""
    return View(
        type="modal",
        title=PlainTextObject(text=title),
        close=PlainTextObject(text="OK"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    ).to_dict()


def answer_view_submission(ctx: Context, ack: Ack, work: Callable[[Session], dict | None]) -> None:
    """Run `work` in one transaction, then ack with the view it returns (None closes the modal).

    Slack shows a modal's errors only in the ack, so the rules run before it; a refusal is shown
    on its field. The outbox is delivered after the ack. A double submit records once.
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
    if next_view is None:
        ack()
    else:
        ack(response_action="update", view=next_view)
    ctx.deliver_outbox(session)
