"""The help desks' webhooks: POST /integrations/zendesk and POST /integrations/compliments.

Not Slack listeners but the same thin layer: check the signature, read the body, find the agent,
call one rule, answer with a status and a one-line reason. bot.core.http serves them (and refuses
a body over 64 KB before they see it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from slack_sdk.errors import SlackApiError

from bot.compliments.rules import BadRating, parse_rating, record_compliment
from bot.compliments.signing import BadSignature, check_signature
from bot.core.context import Context, HttpAnswer, Route
from bot.core.settings import Settings
from storage.outbox import DuplicateRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Desk:
    """One endpoint: where its secret is set, which headers carry the signature (lower case), and the
    host its ticket links must point to, if it is known."""

    name: str  # kept with each compliment: a ticket id is unique per desk
    secret: Callable[[Settings], str | None]
    signature_header: str
    timestamp_header: str
    ticket_host: Callable[[Settings], str | None] = lambda _settings: None


ZENDESK = Desk(
    "zendesk",
    lambda settings: settings.zendesk_secret,
    "x-zendesk-webhook-signature",
    "x-zendesk-webhook-signature-timestamp",
    lambda settings: f"{settings.zendesk_subdomain}.zendesk.com" if settings.zendesk_subdomain else None,
)
ANY_DESK = Desk("other", lambda settings: settings.compliments_secret, "x-kaizen-signature", "x-kaizen-timestamp")


def receive(desk: Desk, ctx: Context, headers: Mapping[str, str], body: bytes) -> HttpAnswer:
    secret = desk.secret(ctx.settings)
    if not secret:
        return 404, "not found"  # the endpoint is off until its secret is set
    now = ctx.now()
    try:
        check_signature(secret, headers.get(desk.timestamp_header), headers.get(desk.signature_header), body, now)
    except BadSignature as refusal:
        return 401, refusal.reason
    try:
        rating = parse_rating(body, ticket_host=desk.ticket_host(ctx.settings))
    except BadRating as refusal:
        return 400, refusal.reason
    if not rating.is_compliment:
        return 202, f"a {rating.rating_label} rating is not a compliment: nothing kept"
    try:
        agent = ctx.users.by_email(rating.agent_email)
    except (SlackApiError, OSError) as error:  # the help desk sends it again later
        log.warning("Could not look up the agent of a customer compliment with Slack: %s", error)
        return 503, "Slack could not say who the agent is just now: please send it again later"
    try:
        with ctx.transaction(deliver=False) as session:
            kudos = record_compliment(session, ctx.settings, desk=desk.name, rating=rating, agent=agent, now=now)
    except DuplicateRequest:
        return 200, f"ticket {rating.ticket_id} was already recorded"
    ctx.defer(ctx.deliver_outbox, session)  # the help desk gets its answer without waiting for Slack
    if kudos is None:
        return 200, "recorded as unmatched: no Slack member has the agent's e-mail"
    return 200, "recorded: the agent is thanked in Slack"


ROUTES = (
    Route("/integrations/zendesk", partial(receive, ZENDESK)),
    Route("/integrations/compliments", partial(receive, ANY_DESK)),
)
