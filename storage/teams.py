"""Teams and the Slack user groups they are built from: the tables and the queries on them.

A team's people are the members named one by one and the members of its user groups (as Kaizen last
read them from Slack), less the accounts the member directory knows are bots or deactivated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, delete, func, or_, select, union, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from storage.db import dialect_insert
from storage.members import ROWS_PER_STATEMENT
from storage.models import Base, Member


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))  # plain text, as the admin typed it: escaped when shown
    name_key: Mapped[str] = mapped_column(String(80), unique=True)  # the name case-folded: names match without case
    channel_id: Mapped[str | None] = mapped_column(String(32))  # its own channel, for its part of the celebration
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime]
    leads: Mapped[list[TeamLead]] = relationship(lazy="selectin", cascade="all, delete-orphan")
    members: Mapped[list[TeamMember]] = relationship(lazy="selectin", cascade="all, delete-orphan")
    groups: Mapped[list[TeamGroup]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def lead_ids(self) -> list[str]:
        return sorted(lead.user_id for lead in self.leads)

    @property
    def member_ids(self) -> list[str]:
        """The members named one by one (not those of its user groups)."""
        return sorted(member.user_id for member in self.members)

    @property
    def group_ids(self) -> list[str]:
        return sorted(group.group_id for group in self.groups)


class TeamLead(Base):
    __tablename__ = "team_leads"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class TeamMember(Base):
    """A member named one by one."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class TeamGroup(Base):
    """A user group whose members are the team's (all of them, as the group changes)."""

    __tablename__ = "team_groups"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("user_groups.id"), primary_key=True, index=True)


class UserGroup(Base):
    """A Slack user group (`@tier1-agents`), as usergroups.list last described it."""

    __tablename__ = "user_groups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # S…
    handle: Mapped[str] = mapped_column(String(100))  # tier1-agents, without the @
    name: Mapped[str] = mapped_column(String(200))  # Tier 1 agents
    disabled: Mapped[bool] = mapped_column(default=False)  # Slack keeps a disabled group, with no members
    synced_at: Mapped[datetime]


class UserGroupMember(Base):
    __tablename__ = "user_group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("user_groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)

    __table_args__ = (Index("ix_user_group_members_user_id_group_id", "user_id", "group_id"),)


# --- teams --------------------------------------------------------------------------------------------
def all_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name_key)))


def by_name(session: Session, name_key: str) -> Team | None:
    return session.scalar(select(Team).where(Team.name_key == name_key).with_for_update())


def named(session: Session, name_key: str) -> Team | None:
    """The team of that (case-folded) name, to read."""
    return session.scalar(select(Team).where(Team.name_key == name_key))


def by_id(session: Session, team_id: int) -> Team | None:
    return session.scalar(select(Team).where(Team.id == team_id).with_for_update())


def _memberships(user_id: str | None = None, team_ids: Collection[int] | None = None):
    """(team_id, user_id) of every member of every team: named, or through a user group; the accounts
    the member directory knows are bots or deactivated left out."""
    named = select(TeamMember.team_id, TeamMember.user_id)
    grouped = select(TeamGroup.team_id, UserGroupMember.user_id).join(
        UserGroupMember, UserGroupMember.group_id == TeamGroup.group_id
    )
    if user_id is not None:
        named = named.where(TeamMember.user_id == user_id)
        grouped = grouped.where(UserGroupMember.user_id == user_id)
    if team_ids is not None:
        named = named.where(TeamMember.team_id.in_(team_ids))
        grouped = grouped.where(TeamGroup.team_id.in_(team_ids))
    both = union(named, grouped).subquery()
    return select(both.c.team_id, both.c.user_id).where(both.c.user_id.not_in(_gone()))


def _gone():
    """The accounts the member directory knows are bots or deactivated: never one of a team's people."""
    return select(Member.user_id).where(or_(Member.is_bot, Member.deleted))


def people_by_team(session: Session, team_ids: Collection[int] | None = None) -> dict[int, set[str]]:
    """Each team's people (of these teams, or of all), in one query."""
    people: dict[int, set[str]] = defaultdict(set)
    for team_id, user_id in session.execute(_memberships(team_ids=team_ids)):
        people[team_id].add(user_id)
    return people


def team_ids_of(session: Session, user_id: str) -> set[int]:
    """The teams this person is one of the people of."""
    return {team_id for team_id, _ in session.execute(_memberships(user_id=user_id))}


def leads_of_teams(session: Session, team_ids: Collection[int]) -> set[str]:
    if not team_ids:
        return set()
    return set(session.scalars(select(TeamLead.user_id).where(TeamLead.team_id.in_(team_ids))))


def every_team_lead(session: Session) -> set[str]:
    return set(session.scalars(select(TeamLead.user_id).distinct()))


def leads_any_team(session: Session, user_id: str) -> bool:
    return session.scalar(select(TeamLead.team_id).where(TeamLead.user_id == user_id).limit(1)) is not None


# --- user groups ----------------------------------------------------------------------------------------
def groups(session: Session, group_ids: Collection[str] | None = None) -> list[UserGroup]:
    """The user groups Kaizen knows (or these of them), by handle."""
    query = select(UserGroup).order_by(UserGroup.handle)
    if group_ids is not None:
        query = query.where(UserGroup.id.in_(group_ids))
    return list(session.scalars(query))


def group_sizes(session: Session) -> dict[str, int]:
    """How many people each user group had when last read (bots and deactivated accounts left out)."""
    query = (
        select(UserGroupMember.group_id, func.count())
        .where(UserGroupMember.user_id.not_in(_gone()))
        .group_by(UserGroupMember.group_id)
    )
    return {group_id: n for group_id, n in session.execute(query)}


def remember_group(
    session: Session, group_id: str, *, handle: str, name: str, disabled: bool, members: Iterable[str], now: datetime
) -> None:
    """Insert or refresh a user group and make `members` its whole membership."""
    statement = dialect_insert(session)(UserGroup).values(
        id=group_id, handle=handle, name=name, disabled=disabled, synced_at=now
    )
    refreshed = {column: statement.excluded[column] for column in ("handle", "name", "disabled", "synced_at")}
    session.execute(statement.on_conflict_do_update(index_elements=[UserGroup.id], set_=refreshed))
    session.execute(delete(UserGroupMember).where(UserGroupMember.group_id == group_id))
    rows = [{"group_id": group_id, "user_id": user_id} for user_id in sorted(set(members))]
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        session.execute(dialect_insert(session)(UserGroupMember).values(rows[start : start + ROWS_PER_STATEMENT]))


def disable_groups_not_in(session: Session, group_ids: Collection[str], now: datetime) -> None:
    """Groups Slack no longer lists are disabled (Slack keeps them; teams may still link them): no members."""
    session.execute(delete(UserGroupMember).where(UserGroupMember.group_id.not_in(group_ids)))
    session.execute(update(UserGroup).where(UserGroup.id.not_in(group_ids)).values(disabled=True, synced_at=now))
