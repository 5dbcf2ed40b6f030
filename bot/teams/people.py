"""Who is in which team and who leads whom: what the other features read (the lead digest, ideas'
leads, goals' sharing, kudos to a team, the weekly celebration).

A team's lead is a lead everywhere a lead acts. The org-wide leads (KAIZEN_LEADS) and the admins see
every team.
"""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.core.parts import DoctorPart, Scope
from bot.core.settings import Settings
from bot.core.slack_users import NotAnActivePerson, SlackUser, UserLookup, active_people
from storage import members as members_store
from storage import teams as store
from storage.teams import Team


def org_wide_leads(settings: Settings) -> set[str]:
    """Who sees everyone: KAIZEN_LEADS and the admins."""
    return set(settings.leads | settings.admins)


def is_lead(session: Session, settings: Settings, user_id: str) -> bool:
    """Whether this person may act as a lead (move ideas on, merge them): org-wide, or a team's."""
    return settings.is_lead(user_id) or store.leads_any_team(session, user_id)


def every_lead(session: Session, settings: Settings) -> set[str]:
    """The leads told when an idea goes to review: KAIZEN_LEADS and every team's leads."""
    return set(settings.leads) | store.every_team_lead(session)


def leads_of(session: Session, user_id: str) -> set[str]:
    """The leads of this person's teams (never themselves)."""
    return store.leads_of_teams(session, store.team_ids_of(session, user_id)) - {user_id}


def doctor_part(session: Session, _settings: Settings) -> DoctorPart:
    """Each team's channel and leads, for `kaizen doctor` to check."""
    teams = store.all_teams(session)
    return DoctorPart(
        channels=tuple((team.channel_id, f"team {team.name}'s channel") for team in teams if team.channel_id),
        people=tuple((lead, f"team {team.name}'s leads") for team in teams for lead in team.lead_ids),
    )


def team_scopes(session: Session) -> list[tuple[Team, Scope]]:
    """Every team with its people, in one pass: what the digest and the celebration report on."""
    teams = store.all_teams(session)
    people = store.people_by_team(session)
    return [(team, Scope(team.name, frozenset(people.get(team.id, ())))) for team in teams]


def no_team_scope(session: Session, settings: Settings, scopes: Iterable[Scope]) -> Scope:
    """The members of the workspace (the member directory) who are in no team."""
    in_a_team = set().union(*(scope.people or () for scope in scopes))
    everyone = members_store.active_people(session, include_guests=settings.include_guests)
    return Scope("no team", frozenset(everyone - in_a_team))


def team_named(session: Session, name: str) -> tuple[str, frozenset[str]] | None:
    """The team of that name (matched without case): its name as written, and its people."""
    team = store.named(session, name.strip().casefold())
    if team is None:
        return None
    return team.name, frozenset(store.people_by_team(session, [team.id]).get(team.id, ()))


def group_name(session: Session, group_id: str, handle: str) -> str:
    """A user group's name as Slack last gave it (its handle, for one Kaizen has not read yet)."""
    known = store.groups(session, [group_id])
    return known[0].name if known else handle


def goal_audience(session: Session, settings: Settings, owner_id: str) -> tuple[list[str], list[str]]:
    """Who sees a goal its owner shares with their lead: the leads of their teams, and the org-wide
    leads (alone, for someone in no team). Never the owner."""
    team_leads = leads_of(session, owner_id)
    return sorted(team_leads), sorted(org_wide_leads(settings) - team_leads - {owner_id})


def check_people(session: Session, lookup: UserLookup, user_ids: list[str], bots_refusal: str) -> None:
    """Raise NotAnActivePerson unless each is a current human member (see active_people)."""
    active_people(_directory_first(session, lookup, user_ids), user_ids, bots_refusal)


def active_among(session: Session, lookup: UserLookup, user_ids: list[str], most: int) -> list[str]:
    """Those of these people who are current human members, in their order; no more than `most` + 1 (enough
    to tell there are too many without asking Slack about everyone in a huge group)."""
    find = _directory_first(session, lookup, user_ids)
    active: list[str] = []
    try:
        for user_id in user_ids:
            if len(active) > most:
                break
            user = find(user_id)
            if user is not None and user.is_person:
                active.append(user_id)
    except (SlackApiError, OSError):
        raise NotAnActivePerson(
            "I couldn't check the people with Slack just now, so nothing was recorded. Please try again in a minute."
        ) from None
    return active


def _directory_first(session: Session, lookup: UserLookup, user_ids: list[str]) -> UserLookup:
    """Who each of these people is as the member directory knows them, or else as Slack says: a group of
    a hundred needs no call to Slack per person."""
    known = {
        user_id: SlackUser(user_id, member.name, member.is_bot, member.deleted, member.is_guest)
        for user_id, member in members_store.states(session, user_ids).items()
    }
    return lambda user_id: known[user_id] if user_id in known else lookup(user_id)
