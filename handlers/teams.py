"""`/kaizen team add|remove` and `/kaizen teams` (handlers/admin routes them here), the team form, and
Slack's events about user groups."""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.forms import answer_privately, answer_view_submission
from bot.teams import blocks as messages
from bot.teams.groups import (
    GroupsUnreadable,
    SlackGroup,
    fetch_groups,
    fetch_members,
    remember_group,
    remember_groups,
    slack_group,
)
from bot.teams.rules import TeamDraft, TeamRefused, check_admin, parse_team_add, remove_team, save_team
from storage import admin as audit
from storage import teams as store

log = logging.getLogger(__name__)
GROUPS_UNANSWERED = "Slack didn't answer about user groups just now: their members are as Kaizen last read them."


def team_command(ctx: Context, body: dict, word: str, rest: str, respond: Respond) -> None:
    """`/kaizen teams` and `/kaizen team …`, from an admin, after the ack: they may ask Slack first."""
    user_id, request_key = body["user_id"], f"command:{body['trigger_id']}"
    action, _, text = rest.strip().partition(" ")
    if word == "teams":
        ctx.defer(_overview, ctx, respond)
    elif action.lower() == "add":
        ctx.defer(answer_privately, respond, lambda: _add(ctx, user_id, text, request_key))
    elif action.lower() == "remove":
        ctx.defer(answer_privately, respond, lambda: _remove(ctx, user_id, text, request_key))
    else:
        respond(messages.team_usage(), response_type="ephemeral")


def _add(ctx: Context, user_id: str, text: str, request_key: str) -> str:
    draft = parse_team_add(text)
    listed = _read_groups(ctx, draft) if draft.groups else None
    with ctx.transaction() as session:
        if listed is not None:
            remember_groups(session, listed, ctx.now())
        change = save_team(
            session, ctx.settings, ctx.users.get, by=user_id, draft=draft, request_key=request_key, now=ctx.now()
        )
        people = len(store.people_by_team(session, [change.team_id]).get(change.team_id, ()))
    log.info("%s %sd team %s", user_id, change.action, change.team_id)
    return messages.saved(change.action, change.name, people, draft.channel)


def _read_groups(ctx: Context, draft: TeamDraft) -> list[SlackGroup]:
    """Every user group as Slack has it now, the ones the team names among them."""
    try:
        listed = fetch_groups(ctx.client)
    except GroupsUnreadable as unreadable:
        raise TeamRefused(unreadable.reason, messages.GROUPS) from None
    except (SlackApiError, OSError):
        raise TeamRefused(f"{GROUPS_UNANSWERED} Please try again in a minute; nothing was changed.") from None
    missing = set(draft.groups) - {group.id for group in listed}
    if missing:
        handle = draft.groups[sorted(missing)[0]]
        raise TeamRefused(f"Slack has no active user group @{handle}: check its name, or name the people instead.")
    return listed


def _remove(ctx: Context, user_id: str, text: str, request_key: str) -> str:
    with ctx.transaction() as session:
        change = remove_team(session, ctx.settings, by=user_id, name=text, request_key=request_key, now=ctx.now())
    log.info("%s removed team %s", user_id, change.team_id)
    return messages.removed(change.name)


def _overview(ctx: Context, respond: Respond) -> None:
    """The teams as they are, with their user groups read from Slack first (or why they couldn't be)."""
    note, listed = None, None
    try:
        listed = fetch_groups(ctx.client)
    except GroupsUnreadable as unreadable:
        note = unreadable.reason
    except (SlackApiError, OSError):
        note = GROUPS_UNANSWERED
    with ctx.transaction() as session:
        if listed is not None:
            remember_groups(session, listed, ctx.now())
        teams = store.all_teams(session)
        people = store.people_by_team(session)
        groups = {group.id: group for group in store.groups(session)}
        sizes = store.group_sizes(session)
        summaries = [
            messages.TeamSummary(
                team,
                len(people.get(team.id, ())),
                [(groups[g].handle, sizes.get(g, 0)) for g in team.group_ids if g in groups],
            )
            for team in teams
        ]
        history = audit.latest(session, "team", messages.HISTORY_SHOWN)
    text, blocks = messages.overview(summaries, history, note, ctx.settings.timezone)
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def register(app: App, ctx: Context) -> None:
    settings = ctx.settings

    def open_form(body: dict, client: WebClient, respond: Respond, team_id: int | None) -> None:
        try:
            check_admin(settings, body["user"]["id"])
        except TeamRefused as refusal:
            respond(refusal.reason, response_type="ephemeral", replace_original=False)
            return
        with ctx.session_factory() as session:
            team = store.by_id(session, team_id) if team_id is not None else None
            view = messages.team_modal(team, store.groups(session))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(messages.ADD_TEAM)
    def add_pressed(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        open_form(body, client, respond, None)

    @app.action(messages.EDIT_TEAM)
    def edit_chosen(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        value = action["selected_option"]["value"]
        open_form(body, client, respond, int(value) if value.isdigit() else None)

    @app.view(messages.TEAM_MODAL)
    def team_form_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        chosen = state.get(messages.GROUPS, {}).get(messages.GROUPS, {}).get("selected_options") or []
        draft = TeamDraft(
            name=state[messages.NAME][messages.NAME].get("value") or "",
            leads=tuple(state[messages.LEADS][messages.LEADS].get("selected_users") or ()),
            members=tuple(state[messages.MEMBERS][messages.MEMBERS].get("selected_users") or ()),
            groups={option["value"]: option["value"] for option in chosen},
            channel=state[messages.CHANNEL][messages.CHANNEL].get("selected_conversation"),
        )
        editing = view.get("private_metadata") or ""

        def save(session: Session) -> dict:
            change = save_team(
                session,
                settings,
                ctx.users.get,
                by=body["user"]["id"],
                draft=draft,
                request_key=f"view:{view['id']}",
                now=ctx.now(),
                team_id=int(editing) if editing.isdigit() else None,
            )
            people = len(store.people_by_team(session, [change.team_id]).get(change.team_id, ()))
            return messages.saved_modal(change.action, change.name, people, draft.channel)

        answer_view_submission(ctx, ack, save)

    # Bolt acknowledges events before calling these; a retried event refreshes the same group again.
    @app.event("subteam_members_changed")
    def group_members_changed(event: dict) -> None:
        _refresh_group(ctx, event["subteam_id"], None)

    @app.event("subteam_updated")
    def group_updated(event: dict) -> None:
        subteam = event["subteam"]
        _refresh_group(ctx, subteam["id"], subteam)


def _refresh_group(ctx: Context, group_id: str, described: dict | None) -> None:
    """A user group changed: its members now (usergroups.users.list), under the name Slack gave in the
    event or the one Kaizen knows; a group Kaizen never read makes it read them all."""
    try:
        if described is None:
            with ctx.session_factory() as session:
                known = store.groups(session, [group_id])
            described = {"id": group_id, "handle": known[0].handle, "name": known[0].name} if known else None
        if described is None:
            listed = fetch_groups(ctx.client)
            with ctx.transaction() as session:
                remember_groups(session, listed, ctx.now())
            return
        members = fetch_members(ctx.client, group_id)
    except GroupsUnreadable as unreadable:
        log.warning("User group %s changed, but %s", group_id, unreadable.reason)
        return
    group = slack_group(described, list(members or ()))
    if members is None:  # Slack knows it no more (disabled): no members
        group = replace(group, disabled=True)
    with ctx.transaction() as session:
        remember_group(session, group, ctx.now())
