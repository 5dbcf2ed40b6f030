"""The rules of kudos: who may give what to whom, and what gets posted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

import bot.kudos.blocks as messages
from bot.core.clock import at_next_midnight, day_start, month_start, week_start
from bot.core.outbox import post_message, update_message
from bot.core.refusal import Refused
from bot.core.settings import Settings
from bot.core.slack_users import NotAnActivePerson, SlackUser, UserLookup, active_people
from bot.core.text import USER_MENTION, escape, from_slack_formatted, mention, names, to_plain
from bot.home.rules import home_changed
from bot.teams.people import active_among, group_name, team_named
from storage import kudos as store
from storage import members
from storage import outbox as outbox_store
from storage.db import lock_until_commit
from storage.kudos import TEAM_SOURCE, Kudos, KudosStats, TeamStats
from storage.outbox import claim_request

MAX_MESSAGE_LENGTH = 1000
MAX_TEAM_KUDOS = 100  # people one kudos to a user group may reach
CUSTOMER = "customer"  # the source of a customer's kudos, which has no giver


class KudosRefused(Refused):
    """A kudos that cannot be given."""

    default_field = "message"


@dataclass(frozen=True)
class KudosDraft:
    recipients: list[str]
    message: str  # safe mrkdwn
    values: list[str]
    groups: dict[str, str] = field(default_factory=dict)  # user groups named: ID → handle, as Slack wrote it


# A person or a user group, at the start of /kudos' text.
_LEADING = re.compile(r"\s*(?:<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>|<!subteam\^([A-Z0-9]+)(?:\|@?([^<>]*))?>)[\s,]*")


def parse_command_text(text: str, known_values: tuple[str, ...]) -> KudosDraft:
    """`@ana @ben thanks for … #teamwork` (or `@billing-team great week`) → recipients, message, values.

    Recipients are the people and user groups mentioned before the message starts; `#value` words
    that are team values are taken out of the text, other `#words` stay in it.
    """
    recipients, groups, body = [], {}, text
    while leading := _LEADING.match(body):
        if leading[1]:
            recipients.append(leading[1])
        else:
            groups[leading[2]] = leading[3] or leading[2]
        body = body[leading.end() :]
    values: list[str] = []

    def take_value(match: re.Match[str]) -> str:
        word = match[1].lower()
        if word in known_values:
            values.append(word)
            return ""
        return match[0]

    body = re.sub(r"(?<![\w&])#([\w-]+)", take_value, body)
    message = re.sub(r"[ \t]+", " ", from_slack_formatted(body)).strip(" ,")
    return KudosDraft(list(dict.fromkeys(recipients)), message, list(dict.fromkeys(values)), groups)


def give_kudos(
    session: Session,
    settings: Settings,
    lookup: UserLookup,
    *,
    giver_id: str,
    draft: KudosDraft,
    source: str,
    request_key: str,
    now: datetime,
    link: str | None = None,
    reacted: tuple[str, str] | None = None,
    linked_only: bool = False,
) -> list[Kudos]:
    """Record one kudos per recipient and owe Slack the celebration and the DMs.

    `reacted` is the (channel, ts) of the message a reaction kudos is on; `linked_only` when that
    message is in a private conversation, so it is linked but not quoted (the DMs say so).

    Raises KudosRefused (nothing written) or DuplicateRequest (a retry of a recorded request).
    """
    recipients = check_recipients(lookup, giver_id, draft.recipients)
    _check_message(settings, draft)
    _check_daily_limit(session, settings, giver_id, len(recipients), now)

    claim_request(session, request_key, now)
    message = f"{draft.message}\n<{link}|See the message>" if link else draft.message
    given = [
        Kudos(
            batch_key=request_key,
            giver_id=giver_id,
            recipient_id=recipient.id,
            message=message,
            values=" ".join(draft.values),
            source=source,
            reacted_channel=reacted[0] if reacted else None,
            reacted_ts=reacted[1] if reacted else None,
            created_at=now,
        )
        for recipient in recipients
    ]
    session.add_all(given)
    session.flush()  # the first kudos' id numbers the batch
    members.remember(session, recipients, now)

    recipient_ids = [r.id for r in recipients]
    home_changed(session, *recipient_ids)
    if settings.kudos_channel:
        text, blocks = messages.celebration(given[0].id, giver_id, recipient_ids, message, draft.values)
        post_message(
            session,
            celebration_key(request_key),
            channel=settings.kudos_channel,
            text=text,
            blocks=blocks,
            now=now,
        )
    for recipient_id in recipient_ids:
        text, blocks = messages.recipient_dm(
            giver_id,
            message,
            draft.values,
            others=[other for other in recipient_ids if other != recipient_id],
            reaction_emoji=settings.kudos_emoji if reacted else None,
            linked_only=linked_only,
        )
        key = dm_key(request_key, recipient_id)
        post_message(session, key, channel=recipient_id, text=text, blocks=blocks, now=now)
    return given


def _check_message(settings: Settings, draft: KudosDraft) -> None:
    if not draft.message.strip():
        raise KudosRefused(
            "Say what they did, so they know what to keep doing: `/kudos @ana thanks for untangling that refund`.",
        )
    if len(to_plain(draft.message)) > MAX_MESSAGE_LENGTH:  # what they typed: `&` counts once, not as `&amp;`
        raise KudosRefused(f"That message is a little long: please keep it under {MAX_MESSAGE_LENGTH} characters.")
    unknown = [v for v in draft.values if v not in settings.values]
    if unknown:
        raise KudosRefused(f"Unknown value {', '.join(unknown)}: pick from {', '.join(settings.values)}.", "values")


def the_group(draft: KudosDraft) -> tuple[str, str]:
    """The one user group a kudos to a team is for: (ID, handle). A group goes on its own."""
    if len(draft.groups) > 1 or draft.recipients:
        raise KudosRefused(
            "One user group at a time, on its own: `/kudos @billing-team great week on the backlog`. "
            "Give anyone else their kudos separately.",
            "recipients",
        )
    [(group_id, handle)] = draft.groups.items()
    return group_id, handle


def give_team_kudos(
    session: Session,
    settings: Settings,
    lookup: UserLookup,
    *,
    giver_id: str,
    group_id: str,
    handle: str,
    members: tuple[str, ...],
    draft: KudosDraft,
    request_key: str,
    now: datetime,
) -> tuple[str, list[Kudos]]:
    """A kudos to every member of a user group (`members`, as Slack has it now): one kudos each, but one
    post naming the group (never a mention of it, which would notify them all at once), one DM each,
    and one kudos of the giver's daily limit. Not the giver, bots or deactivated accounts; at most
    MAX_TEAM_KUDOS people. Returns the group's name and the kudos.

    Raises KudosRefused (nothing written) or DuplicateRequest (a retry of a recorded request).
    """
    _check_message(settings, draft)
    name = group_name(session, group_id, handle)
    try:
        recipients = active_among(
            session, lookup, [member for member in members if member != giver_id], most=MAX_TEAM_KUDOS
        )
    except NotAnActivePerson as refusal:
        raise KudosRefused(refusal.reason, "recipients") from None
    if not recipients:
        raise KudosRefused(f"There's nobody in {escape(name)} to thank but you: the kudos is theirs to give you.")
    if len(recipients) > MAX_TEAM_KUDOS:
        raise KudosRefused(
            f"{escape(name)} has more than {MAX_TEAM_KUDOS} people, and a kudos to a group goes to at most "
            f"{MAX_TEAM_KUDOS}: "
            "name a smaller group, or the people you mean.",
            "recipients",
        )
    _check_daily_limit(session, settings, giver_id, 1, now)
    claim_request(session, request_key, now)
    given = [
        Kudos(
            batch_key=request_key,
            giver_id=giver_id,
            recipient_id=recipient,
            message=draft.message,
            values=" ".join(draft.values),
            source=TEAM_SOURCE,
            created_at=now,
        )
        for recipient in recipients
    ]
    session.add_all(given)
    session.flush()  # the first kudos' id numbers the batch
    home_changed(session, *recipients)
    if settings.kudos_channel:
        text, blocks = messages.team_celebration(
            given[0].id, giver_id, name, len(recipients), draft.message, draft.values
        )
        post_message(
            session, celebration_key(request_key), channel=settings.kudos_channel, text=text, blocks=blocks, now=now
        )
    text, blocks = messages.team_dm(giver_id, name, draft.message, draft.values)
    for recipient in recipients:
        post_message(session, dm_key(request_key, recipient), channel=recipient, text=text, blocks=blocks, now=now)
    return name, given


def record_customer_kudos(
    session: Session, *, recipient: SlackUser, message: str, ticket_id: str, batch_key: str, now: datetime
) -> Kudos:
    """A kudos from a customer (a help desk's compliment): no giver, so no one's daily limit. The caller
    has checked the recipient and says it in Slack; `message` is safe mrkdwn."""
    kudos = Kudos(
        batch_key=batch_key,
        giver_id=None,
        recipient_id=recipient.id,
        message=message,
        values="",
        source=CUSTOMER,
        ticket_id=ticket_id,
        created_at=now,
    )
    session.add(kudos)
    members.remember(session, [recipient], now)
    home_changed(session, recipient.id)
    return kudos


def celebration_key(batch_key: str) -> str:
    """The outbox key of the kudos channel post for one batch of kudos."""
    return f"kudos:{batch_key}:celebration"


def dm_key(batch_key: str, recipient_id: str) -> str:
    return f"kudos:{batch_key}:dm:{recipient_id}"


def hide_kudos(session: Session, _settings: Settings, number: int, now: datetime) -> str:
    """An admin hides kudos `number` and those given with it: one message, so one hide. Its
    celebration and DMs are edited to say so; stats, exports and digests leave it out from now on."""
    batch = store.batch_of(session, number)
    if not batch:
        raise KudosRefused(f"There is no kudos #{number}.")
    if batch[0].withdrawn_at:
        raise KudosRefused(f"Kudos #{batch[0].id} was withdrawn by its giver: it is shown nowhere.")
    if batch[0].hidden_at:
        raise KudosRefused(f"Kudos #{batch[0].id} is hidden already.")
    for kudos in batch:
        kudos.hidden_at = now
    recipient_ids = [k.recipient_id for k in batch]
    home_changed(session, *recipient_ids)
    text, blocks = messages.hidden()
    for key in [celebration_key(batch[0].batch_key), *(dm_key(batch[0].batch_key, r) for r in recipient_ids)]:
        if outbox_store.by_key(session, key) is not None:
            update_message(session, f"{key}:hidden", of=key, text=text, blocks=blocks, now=now)
    return f"kudos #{batch[0].id} from {mention(batch[0].giver_id)} to {names(recipient_ids)}"


def check_recipients(lookup: UserLookup, giver_id: str, recipient_ids: list[str]) -> list[SlackUser]:
    if not recipient_ids:
        raise KudosRefused(
            "Who is it for? Mention one or more teammates: `/kudos @ana thanks for staying late #teamwork`.",
            "recipients",
        )
    if giver_id in recipient_ids:
        raise KudosRefused(
            "Kudos are for recognising someone else — but your own progress counts too: "
            "try `/feedback request` to hear how it looks from outside.",
            "recipients",
        )
    try:
        return active_people(lookup, recipient_ids, "kudos are for the people on the team.")
    except NotAnActivePerson as refusal:
        raise KudosRefused(refusal.reason, "recipients") from None


def _check_daily_limit(session: Session, settings: Settings, giver_id: str, wanted: int, now: datetime) -> None:
    # Held to commit: two kudos from one person at the same moment are counted one after the other.
    lock_until_commit(session, f"kudos given by {giver_id}")
    tz = settings.timezone
    given_today = store.count_given_since(session, giver_id, day_start(now, tz))
    left = max(0, settings.kudos_daily_limit - given_today)
    if wanted <= left:
        return
    when = at_next_midnight(now, tz)
    if left == 0:
        reason = (
            f"You've given all {settings.kudos_daily_limit} of today's kudos — thank you! You can give more {when}."
        )
    else:
        reason = (
            f"You have {left} kudos left today and this would give {wanted}. "
            f"Pick {left} {'person' if left == 1 else 'people'} for now; the limit resets {when}."
        )
    raise KudosRefused(reason, "recipients")


def kudos_left_today(session: Session, settings: Settings, giver_id: str, now: datetime) -> int:
    given_today = store.count_given_since(session, giver_id, day_start(now, settings.timezone))
    return max(0, settings.kudos_daily_limit - given_today)


LEADERBOARD_PERIODS = ("week", "month", "all")


def parse_leaderboard(text: str) -> tuple[str, str | None]:
    """`[week|month|all] [team NAME]` (after `/kudos leaderboard`) → the period and the team's name, if any."""
    words = text.split()
    period = words.pop(0).lower() if words and words[0].lower() in LEADERBOARD_PERIODS else "week"
    if not words:
        return period, None
    if words[0].lower() == "team" and len(words) > 1:
        return period, " ".join(words[1:])
    raise KudosRefused(
        "I know `week`, `month` and `all`, and `team NAME`: try `/kudos leaderboard month team Tier 1`. "
        f"(I got `{escape(' '.join(words))}`.)"
    )


def leaderboard(
    session: Session, settings: Settings, period: str, now: datetime, team: str | None = None
) -> tuple[list[tuple[str, int]], list[tuple[str, int]], str | None]:
    """The most recognised by teammates, and apart from them the most thanked by customers: everyone, or
    a team's people; and the team's name as it is written."""
    since = {
        "week": week_start(now, settings.timezone),
        "month": month_start(now, settings.timezone),
        "all": None,
    }[period]
    name, people = _team(session, team) if team else (None, None)
    return (
        store.top_recipients(session, since, people=people),
        store.top_recipients(session, since, from_customers=True, people=people),
        name,
    )


def _team(session: Session, name: str) -> tuple[str, frozenset[str]]:
    found = team_named(session, to_plain(from_slack_formatted(name)))
    if found is None:
        raise KudosRefused(
            f"There's no team called {escape(to_plain(name))}. Admins see the teams with `/kaizen teams`."
        )
    return found


def team_stats(session: Session, settings: Settings, team: str, now: datetime) -> tuple[str, int, TeamStats]:
    """Kudos to and from a team's people: its name, how many people, and the numbers."""
    name, people = _team(session, team)
    tz = settings.timezone
    return name, len(people), store.team_stats(session, people, week_start(now, tz), month_start(now, tz))


def stats(session: Session, settings: Settings, user_id: str, now: datetime) -> KudosStats:
    tz = settings.timezone
    return store.stats_for(session, user_id, week_start(now, tz), month_start(now, tz))


def single_user_id(text: str) -> str | None:
    """The user a `stats @ana` argument names, if any."""
    match = USER_MENTION.search(text)
    return match[1] if match else None
