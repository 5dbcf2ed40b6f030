"""What every modal submission does the same way."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack
from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.refusal import Refused
from storage.outbox import DuplicateRequest


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
