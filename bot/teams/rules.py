"""What admins do to teams, by command or by form: create or replace one, remove one; each change in
the admins' audit log with who, when and what changed. Only people in KAIZEN_ADMINS."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

import bot.teams.blocks as messages
from bot.core.refusal import Refused
from bot.core.settings import Settings
from bot.core.slack_users import NotAnActivePerson, UserLookup
from bot.core.text import escape, from_slack_formatted, to_plain
from bot.teams.people import check_people
from storage import admin as audit
from storage import teams as store
from storage.db import lock_until_commit
from storage.outbox import claim_request
from storage.teams import Team, TeamGroup, TeamLead, TeamMember

MAX_NAME_LENGTH = 80
# Slack's escaped text: a person, a user group, a channel; or a plain word.
_TOKEN = re.compile(r"<[^<>]*>|[^\s<>]+")
_PERSON = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|@?([^<>]*))?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^<>]*)?>")
_KEYWORDS = {"lead": "leads", "leads": "leads", "member": "members", "members": "members", "channel": "channel"}


class TeamRefused(Refused):
    """A team change that cannot be made; nothing was stored."""

    default_field = messages.NAME


@dataclass(frozen=True)
class TeamDraft:
    """A team as an admin described it: its name (plain text), leads, members named one by one, user
    groups (ID → handle, as Slack wrote it in the command) and channel."""

    name: str
    leads: tuple[str, ...]
    members: tuple[str, ...] = ()
    groups: dict[str, str] = field(default_factory=dict)
    channel: str | None = None


@dataclass(frozen=True)
class TeamChange:
    team_id: int
    name: str
    action: str  # create | change | remove
    detail: str  # what changed, as the audit log keeps it (safe mrkdwn)


def check_admin(settings: Settings, user_id: str) -> None:
    if not settings.is_admin(user_id):
        raise TeamRefused("Only Kaizen admins (KAIZEN_ADMINS) can change teams.")


def team_name(text: str) -> str:
    """A team's name as typed (Slack-escaped): plain words, spaces tidied."""
    words = _TOKEN.findall(text)
    if any(word.startswith("<") for word in words):
        raise TeamRefused("A team's name is plain words, like `Tier 1`: no @people, groups or #channels in it.")
    name = to_plain(from_slack_formatted(" ".join(words)))
    if not name:
        raise TeamRefused(f"Name the team first: {messages.ADD_USAGE}")
    if len(name) > MAX_NAME_LENGTH:
        raise TeamRefused(f"That name has {len(name)} characters: please keep a team's name to {MAX_NAME_LENGTH}.")
    return name


def parse_team_add(text: str) -> TeamDraft:
    """`Tier 1 lead <@U1|maria> members <!subteam^S1|@tier1-agents> <@U2> channel <#C1|tier1>` (after
    `/kaizen team add`): the name is the words before `lead`."""
    tokens = _TOKEN.findall(text)
    starts = [i for i, token in enumerate(tokens) if _KEYWORDS.get(token.lower()) == "leads"]
    if not starts:
        raise TeamRefused(f"Say who leads the team: {messages.ADD_USAGE}")
    name = team_name(" ".join(tokens[: starts[0]]))
    sections: dict[str, list[str]] = {"leads": [], "members": [], "channel": []}
    current = "leads"
    for token in tokens[starts[0] + 1 :]:
        keyword = _KEYWORDS.get(token.lower())
        if keyword:
            current = keyword
        else:
            sections[current].append(token)
    leads = [_person(token, "After `lead` come the people who lead it") for token in sections["leads"]]
    members, groups = [], {}
    for token in sections["members"]:
        group = _GROUP.fullmatch(token)
        if group:
            groups[group[1]] = (group[2] or group[1]).lstrip("@")
        else:
            members.append(_person(token, "After `members` come user groups (@tier1-agents) and people"))
    if len(sections["channel"]) > 1 or (sections["channel"] and not _CHANNEL.fullmatch(sections["channel"][0])):
        raise TeamRefused(f"After `channel` comes one channel, like #tier1. {messages.ADD_USAGE}")
    channel = _CHANNEL.fullmatch(sections["channel"][0])[1] if sections["channel"] else None
    return TeamDraft(name, tuple(dict.fromkeys(leads)), tuple(dict.fromkeys(members)), groups, channel)


def _person(token: str, what: str) -> str:
    person = _PERSON.fullmatch(token)
    if not person:
        raise TeamRefused(f"I don't understand `{escape(token)}`: {what.lower()}. {messages.ADD_USAGE}")
    return person[1]


def save_team(
    session: Session,
    settings: Settings,
    lookup: UserLookup,
    *,
    by: str,
    draft: TeamDraft,
    request_key: str,
    now: datetime,
    team_id: int | None = None,
) -> TeamChange:
    """Create the team, or replace the one of that name (or, from the form, the one being edited).

    The user groups must be known (synced from Slack) already. Raises TeamRefused (nothing stored) or
    DuplicateRequest (a retry).
    """
    check_admin(settings, by)
    name = team_name(escape(draft.name))
    if not draft.leads:
        raise TeamRefused(f"A team needs at least one lead. {messages.ADD_USAGE}", messages.LEADS)
    if not (draft.members or draft.groups):
        raise TeamRefused(
            f"Name the team's members: a user group (@tier1-agents), people, or both. {messages.ADD_USAGE}",
            messages.MEMBERS,
        )
    _check_people(session, lookup, list(draft.leads), "a team is led by people.", messages.LEADS)
    _check_people(session, lookup, list(draft.members), "a team's members are people.", messages.MEMBERS)
    known = {group.id: group for group in store.groups(session, draft.groups)}
    unknown = [handle for group_id, handle in draft.groups.items() if group_id not in known]
    if unknown:
        raise TeamRefused(f"I don't know the user group @{escape(unknown[0])} (yet).", messages.GROUPS)
    lock_until_commit(session, "teams")  # two admins saving the same new name: one after the other
    team = store.by_id(session, team_id) if team_id is not None else store.by_name(session, name.casefold())
    if team_id is not None and team is None:
        raise TeamRefused("That team was removed meanwhile: `/kaizen teams` shows the teams now.")
    namesake = store.by_name(session, name.casefold())
    if namesake is not None and namesake is not team:
        raise TeamRefused(f"There's a team called {escape(namesake.name)} already: pick another name.")
    claim_request(session, request_key, now)
    before = messages.snapshot(team, store.groups(session, team.group_ids)) if team else None
    if team is None:
        team = Team(created_at=now)
        session.add(team)
    team.name, team.name_key, team.channel_id, team.changed_at = name, name.casefold(), draft.channel, now
    team.leads = [TeamLead(user_id=user_id) for user_id in sorted(draft.leads)]
    team.members = [TeamMember(user_id=user_id) for user_id in sorted(draft.members)]
    team.groups = [TeamGroup(group_id=group_id) for group_id in sorted(draft.groups)]
    session.flush()
    after = messages.snapshot(team, list(known.values()))
    action = "change" if before else "create"
    detail = messages.change_detail(before, after)
    audit.log_change(session, action, "team", team.id, by, detail, now)
    return TeamChange(team.id, team.name, action, detail)


def _check_people(session: Session, lookup: UserLookup, user_ids: list[str], why: str, field: str) -> None:
    try:
        check_people(session, lookup, user_ids, why)
    except NotAnActivePerson as refusal:
        raise TeamRefused(refusal.reason, field) from None


def remove_team(
    session: Session, settings: Settings, *, by: str, name: str, request_key: str, now: datetime
) -> TeamChange:
    """Remove the team of that name (matched without case); its people stay, only the team goes."""
    check_admin(settings, by)
    lock_until_commit(session, "teams")
    team = store.by_name(session, team_name(name).casefold())
    if team is None:
        raise TeamRefused(f"There's no team called {escape(team_name(name))}. `/kaizen teams` lists them.")
    claim_request(session, request_key, now)
    detail = messages.removal_detail(messages.snapshot(team, store.groups(session, team.group_ids)))
    audit.log_change(session, "remove", "team", team.id, by, detail, now)
    session.delete(team)
    return TeamChange(team.id, team.name, "remove", detail)
