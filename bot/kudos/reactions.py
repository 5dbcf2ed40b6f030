"""Kudos given from a message: a reaction with the kudos emoji, or the "Give kudos" shortcut."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

import bot.kudos.blocks as messages
from bot.core.clock import day_start
from bot.core.outbox import enqueue, update_message
from bot.core.settings import Settings
from bot.core.slack_users import UserLookup
from bot.core.text import from_slack_formatted, truncate
from bot.home.rules import home_changed
from bot.kudos.rules import (
    MAX_MESSAGE_LENGTH,
    KudosDraft,
    KudosRefused,
    celebration_key,
    check_recipients,
    give_kudos,
)
from storage import kudos as store
from storage import outbox as outbox_store
from storage.kudos import Kudos
from storage.outbox import claim_request


def is_kudos_reaction(event: dict, emoji: str) -> bool:
    """A reaction_added/removed event with the kudos emoji (any skin tone) on someone else's message."""
    author_id = event.get("item_user")
    return (
        event.get("reaction", "").split("::")[0] == emoji
        and event.get("item", {}).get("type") == "message"
        and bool(author_id)
        and author_id != event.get("user")
    )


def give_for_reaction(
    session: Session,
    settings: Settings,
    lookup: UserLookup,
    *,
    giver_id: str,
    author_id: str,
    channel: str,
    ts: str,
    text: str | None,
    link: str | None,
    request_key: str,
    now: datetime,
) -> list[Kudos]:
    """The reactor's kudos to the message's author, its text (Slack-formatted) as the message.

    `text` is None for a message in a private conversation: it is not quoted, only linked, and
    the author's DM says why. A reactor gives one kudos per message, ever: when they gave one before,
    nothing new is given (returns []), and one they withdrew is restored. Raises like give_kudos.
    """
    earlier = store.for_reaction(session, giver_id, channel, ts, include_hidden=True)
    if earlier is not None:
        if earlier.withdrawn_at is not None:
            _restore(session, settings, earlier, request_key, now)
        return []
    # A message with no text (a file, an image) still earns the kudos: the emoji and the link say it.
    quoted = truncate(from_slack_formatted(text or "").strip(), MAX_MESSAGE_LENGTH)
    message = quoted or f":{settings.kudos_emoji}:"
    return give_kudos(
        session,
        settings,
        lookup,
        giver_id=giver_id,
        draft=KudosDraft([author_id], message, []),
        source="reaction",
        request_key=request_key,
        now=now,
        link=link,
        reacted=(channel, ts),
        linked_only=text is None,
    )


def _restore(session: Session, settings: Settings, kudos: Kudos, request_key: str, now: datetime) -> None:
    """The reaction is back: so is its kudos, on the day it was first given (so within that day's
    limit), with its celebration edited back. The recipient kept their DM, so gets no new one."""
    claim_request(session, request_key, now)  # a retried event restores once
    kudos.withdrawn_at = kudos.hidden_at = None
    home_changed(session, kudos.recipient_id)
    celebration = celebration_key(kudos.batch_key)
    if outbox_store.by_key(session, celebration) is not None:
        text, blocks = messages.celebration(
            kudos.id, kudos.giver_id, [kudos.recipient_id], kudos.message, kudos.value_list
        )
        update_message(session, f"{celebration}:{request_key}", of=celebration, text=text, blocks=blocks, now=now)


def tell_reaction_refused(
    session: Session, settings: Settings, *, giver_id: str, channel: str, reason: str, request_key: str, now: datetime
) -> None:
    """An ephemeral note to the reactor, in the channel they reacted in (where they are looking)."""
    text = messages.reaction_refused(settings.kudos_emoji, reason)
    payload = {"channel": channel, "user": giver_id, "text": text}
    enqueue(session, f"kudos:{request_key}:refused", "chat.postEphemeral", payload, now)


def withdraw_for_reaction(
    session: Session, settings: Settings, *, giver_id: str, channel: str, ts: str, request_key: str, now: datetime
) -> Kudos | None:
    """Removing the reaction on the day it was given (team zone) takes the kudos back; later, it stands.

    A withdrawn kudos is kept, hidden, so it still counts in that day's limit and adding the reaction
    back restores it instead of giving a new one. The celebration in the kudos channel is edited to
    say so; the recipient's DM is left as it was.
    """
    kudos = store.for_reaction(session, giver_id, channel, ts)
    if kudos is None or kudos.created_at < day_start(now, settings.timezone):
        return None
    kudos.withdrawn_at = kudos.hidden_at = now
    home_changed(session, kudos.recipient_id)
    celebration = celebration_key(kudos.batch_key)
    if outbox_store.by_key(session, celebration) is not None:  # no kudos channel, no celebration to edit
        text, blocks = messages.withdrawn(settings.kudos_emoji)
        update_message(session, f"{celebration}:{request_key}", of=celebration, text=text, blocks=blocks, now=now)
    return kudos


def shortcut_recipient(lookup: UserLookup, giver_id: str, message: dict) -> str:
    """The author of the message the "Give kudos" shortcut is on; KudosRefused if they can't get kudos."""
    author_id = message.get("user")
    if not author_id or message.get("bot_id"):
        raise KudosRefused(
            "That message was posted by an app: kudos are for the people on the team. "
            "Try the shortcut on a teammate's message, or `/kudos @teammate …`.",
            "recipients",
        )
    check_recipients(lookup, giver_id, [author_id])
    return author_id
