"""Customer compliments: what a help desk sends, which ratings are compliments, and keeping one —
as a kudos from a customer for the agent, or unmatched when Slack doesn't know the agent."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

import bot.compliments.blocks as messages
from bot.core.outbox import post_message
from bot.core.pseudonym import pseudonym
from bot.core.refusal import Refused
from bot.core.settings import Settings
from bot.core.slack_users import SlackUser
from bot.core.text import escape, truncate
from bot.kudos.rules import celebration_key, record_customer_kudos
from storage import compliments as store
from storage.compliments import Compliment
from storage.kudos import Kudos

FIELDS = ("ticket_id", "ticket_url", "agent_email", "rating", "comment")
COMPLIMENTS = ("good", "great", "4", "5")
NOT_COMPLIMENTS = ("bad", "offered", "unoffered", "1", "2", "3")
MAX_COMMENT = 900  # characters kept of the comment: with the ticket link, within a kudos message

_TICKET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
_URL = re.compile(r"https://[^\s<>|]{1,500}")
_EMAIL = re.compile(r"[^@\s<>]{1,64}@[^@\s<>]{1,190}")


class BadRating(Refused):
    """A body Kaizen cannot read as a ticket rating; `reason` is one line for the help desk."""


@dataclass(frozen=True)
class TicketRating:
    """What a help desk reports about one rated ticket; the agent's e-mail is never stored."""

    ticket_id: str
    ticket_url: str
    agent_email: str
    rating: str  # one of COMPLIMENTS or NOT_COMPLIMENTS
    comment: str  # as the customer wrote it (raw text)

    @property
    def is_compliment(self) -> bool:
        return self.rating in COMPLIMENTS

    @property
    def rating_label(self) -> str:
        return f"{self.rating} of 5" if self.rating.isdigit() else self.rating


def parse_rating(body: bytes, *, ticket_host: str | None = None) -> TicketRating:
    """The JSON body, checked field by field; BadRating says what is wrong. The ticket link is shown to
    the agent, so it must be https, and on `ticket_host` when one is given (the help desk's own)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BadRating("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRating(f"the body must be a JSON object with {', '.join(FIELDS[:-1])} and {FIELDS[-1]}")
    missing = [name for name in FIELDS if name not in data]
    if missing:
        raise BadRating(f"missing field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    ticket_id, url, email, comment = data["ticket_id"], data["ticket_url"], data["agent_email"], data["comment"]
    if isinstance(ticket_id, int) and not isinstance(ticket_id, bool):
        ticket_id = str(ticket_id)
    if not isinstance(ticket_id, str) or not _TICKET_ID.fullmatch(ticket_id.strip()):
        raise BadRating("ticket_id must be a number or a short code of letters, digits and . _ : -")
    if not isinstance(url, str) or not _URL.fullmatch(url.strip()):
        raise BadRating("ticket_url must be an https link")
    if ticket_host and urlsplit(url.strip()).netloc.lower() != ticket_host:
        raise BadRating(f"ticket_url must be a link to https://{ticket_host}/")
    if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()):
        raise BadRating("agent_email must be an e-mail address")
    if comment is not None and not isinstance(comment, str):
        raise BadRating("comment must be text (or empty)")
    return TicketRating(ticket_id.strip(), url.strip(), email.strip(), _rating(data["rating"]), comment or "")


def _rating(value: object) -> str:
    """`good`, `great`, 4, 5 (as numbers or text) and the other ratings, in one spelling. Zendesk's own
    labels ("Good, I'm satisfied") are read by their first words."""
    word = None
    if isinstance(value, str):
        word = value.split(",")[0].strip().lower()
    elif (isinstance(value, float) and value.is_integer()) or (isinstance(value, int) and not isinstance(value, bool)):
        word = str(int(value))
    if word in COMPLIMENTS + NOT_COMPLIMENTS:
        return word
    shown = truncate(json.dumps(value), 40)
    raise BadRating(f"unknown rating {shown}: send good, great, bad, offered, unoffered or 1 to 5")


def record_compliment(
    session: Session, settings: Settings, *, desk: str, rating: TicketRating, agent: SlackUser | None, now: datetime
) -> Kudos | None:
    """Keep a compliment once per ticket of a desk: a kudos from a customer for the agent, who is DMed
    (and celebrated in the kudos channel with KAIZEN_COMPLIMENTS_PUBLIC), or — for an agent no Slack
    member matches — kept unmatched, by a pseudonym of the e-mail. Raises DuplicateRequest for a redelivery."""
    matched = agent is not None and agent.is_person
    email_hash = None if matched else pseudonym(settings, "unmatched agent", rating.agent_email.lower())
    compliment = Compliment(
        desk=desk, ticket_id=rating.ticket_id, rating=rating.rating, agent_email_hash=email_hash, received_at=now
    )
    store.add(session, compliment)
    if not matched:
        return None
    key = f"compliment:{desk}:{rating.ticket_id}"
    comment = truncate(escape(rating.comment.strip()), MAX_COMMENT)
    kudos = record_customer_kudos(
        session,
        recipient=agent,
        message=messages.kudos_message(comment, rating.rating_label, rating.ticket_id, rating.ticket_url),
        ticket_id=rating.ticket_id,
        batch_key=key,
        now=now,
    )
    text, blocks = messages.agent_dm(comment, rating.rating_label, rating.ticket_id, rating.ticket_url)
    post_message(session, f"{key}:dm", channel=agent.id, text=text, blocks=blocks, now=now)
    if settings.compliments_public and settings.kudos_channel:
        # Under the kudos' own celebration key, so what edits a kudos' post (withdrawing, hiding) finds it.
        text, blocks = messages.celebration(agent.id, comment, rating.ticket_id, rating.ticket_url)
        post_message(session, celebration_key(key), channel=settings.kudos_channel, text=text, blocks=blocks, now=now)
    return kudos
