"""What /kaizen says about teams (the list, its history, the answers to a change), the team form, and
how the audit log words a change. Team names are plain text: escaped wherever they are shown."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.text import escape, mention, names, plural, truncate
from storage.admin import ModerationLog
from storage.teams import Team, UserGroup

TEAM_MODAL = "team_modal"
ADD_TEAM, EDIT_TEAM = "team_add", "team_edit"  # the buttons under /kaizen teams
# The form's inputs, by block and action ID.
NAME, LEADS, MEMBERS, GROUPS, CHANNEL = "team_name", "team_leads", "team_members", "team_groups", "team_channel"
ADD_USAGE = "`/kaizen team add Tier 1 lead @maria members @tier1-agents @ana channel #tier1`"
MAX_OPTIONS = 100  # Block Kit's limit on a select menu's options
HISTORY_SHOWN = 10
NO_GROUPS_TO_PICK = (
    "Kaizen knows no user groups yet (`/kaizen teams` reads them from Slack, and says what to add if it can't): "
    "name the members below."
)
DONE = {"create": "created", "change": "changed", "remove": "removed"}  # the audit log's actions, as history says them


@dataclass(frozen=True)
class TeamSnapshot:
    """A team as the audit log describes it."""

    name: str
    leads: tuple[str, ...]
    members: tuple[str, ...]
    groups: tuple[str, ...]  # "@tier1-agents"
    channel: str | None


def snapshot(team: Team, groups: list[UserGroup]) -> TeamSnapshot:
    handles = {group.id: group.handle for group in groups}
    return TeamSnapshot(
        team.name,
        tuple(team.lead_ids),
        tuple(team.member_ids),
        tuple(sorted("@" + handles.get(group_id, group_id) for group_id in team.group_ids)),
        team.channel_id,
    )


def _listed(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(items) if items else "none"


def _describe(team: TeamSnapshot) -> str:
    members = [*team.groups, *map(mention, team.members)]
    text = f"leads {_listed([mention(u) for u in team.leads])}; members {_listed(members)}"
    return text + (f"; channel <#{team.channel}>" if team.channel else "")


def change_detail(before: TeamSnapshot | None, after: TeamSnapshot) -> str:
    """What a save changed, for the audit log: everything of a new team, the differences of one replaced."""
    if before is None:
        return f"{escape(after.name)}: {_describe(after)}"
    changes = []
    if before.name != after.name:
        changes.append(f"name {escape(before.name)} → {escape(after.name)}")
    for label, was, now, shown in (
        ("leads", before.leads, after.leads, mention),
        ("groups", before.groups, after.groups, str),
        ("members", before.members, after.members, mention),
    ):
        added, removed = [shown(x) for x in now if x not in was], [shown(x) for x in was if x not in now]
        moves = ([f"added {', '.join(added)}"] if added else []) + (
            [f"removed {', '.join(removed)}"] if removed else []
        )
        if moves:
            changes.append(f"{label} {' and '.join(moves)}")
    if before.channel != after.channel:
        changes.append(f"channel {_channel(before.channel)} → {_channel(after.channel)}")
    return f"{escape(after.name)}: " + ("; ".join(changes) or "saved with no change")


def removal_detail(team: TeamSnapshot) -> str:
    return f"{escape(team.name)} (it had {_describe(team)})"


def _channel(channel: str | None) -> str:
    return f"<#{channel}>" if channel else "none"


# --- answers to /kaizen team … ----------------------------------------------------------------------------
def saved(action: str, name: str, people: int, channel: str | None) -> str:
    what = "created" if action == "create" else "saved"
    text = f":white_check_mark: Team *{escape(name)}* {what}: {plural(people, 'person', 'people')} now."
    if channel:
        text += (
            f" Its part of the weekly celebration goes to <#{channel}> too: invite Kaizen there (`/invite @Kaizen`)."
        )
    return text + " The change is in the audit log (`/kaizen teams`)."


def removed(name: str) -> str:
    return f":wastebasket: Team *{escape(name)}* removed; its people and their history stay. The removal is logged."


def team_usage() -> str:
    return (
        f"Say what to do: {ADD_USAGE} (creates the team, or replaces the one of that name), "
        "`/kaizen team remove Tier 1`, or `/kaizen teams` to see them."
    )


@dataclass(frozen=True)
class TeamSummary:
    team: Team
    people: int  # members named and of its groups, bots and deactivated accounts left out
    groups: list[tuple[str, int]]  # (handle, members) of each of its user groups


def overview(teams: list[TeamSummary], history: list[ModerationLog], groups_note: str | None, tz: ZoneInfo) -> Message:
    """`/kaizen teams`: each team with its leads, its people and where they come from; Add and Edit;
    the latest changes."""
    lines = [f"*Teams* ({len(teams)})" if teams else "*Teams*\nNo teams yet: everyone is in the org-wide view."]
    for summary in teams:
        team = summary.team
        sources = [f"@{handle} ({n})" for handle, n in summary.groups]
        if team.member_ids:
            sources.append(f"{len(team.member_ids)} named")
        line = (
            f"• *{escape(team.name)}* — led by {names(team.lead_ids)}; "
            f"{plural(summary.people, 'person', 'people')} from {' and '.join(sources)}"
        )
        lines.append(line + (f"; celebrates in <#{team.channel_id}> too" if team.channel_id else ""))
    blocks = limits.sections(lines)
    buttons: list = [ButtonElement(text="Add team", action_id=ADD_TEAM, style="primary")]
    if teams:
        options = [Option(text=truncate(s.team.name, 75), value=str(s.team.id)) for s in teams[:MAX_OPTIONS]]
        buttons.append(StaticSelectElement(action_id=EDIT_TEAM, placeholder="Edit a team", options=options))
    blocks.append(ActionsBlock(elements=buttons).to_dict())
    if history:
        changes = [
            f"• {entry.at.astimezone(tz):%a %d %b %H:%M} — {mention(entry.admin_id)} {DONE[entry.action]} "
            + entry.detail
            for entry in history
        ]
        blocks += limits.sections([f"*History* (the latest {HISTORY_SHOWN} changes)", *changes])
    if groups_note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f":warning: {groups_note}")]).to_dict())
    return "\n".join(lines), blocks


# --- the form ------------------------------------------------------------------------------------------------
def team_modal(team: Team | None, groups: list[UserGroup]) -> dict:
    """Add a team, or edit one: leads and members as user pickers, user groups from those Kaizen has read
    (Block Kit has no user-group picker), and a channel picker."""
    blocks: list = [
        InputBlock(
            block_id=NAME,
            label="Team name",
            element=PlainTextInputElement(action_id=NAME, max_length=80, initial_value=team.name if team else None),
        ),
        InputBlock(
            block_id=LEADS,
            label="Leads",
            hint="They get a weekly digest about this team's people, and act as leads everywhere.",
            element=UserMultiSelectElement(action_id=LEADS, initial_users=team.lead_ids if team else None),
        ),
    ]
    usable = [group for group in groups if not group.disabled][:MAX_OPTIONS]
    options = {
        group.id: Option(text=truncate(f"@{group.handle} ({group.name})", 75), value=group.id) for group in usable
    }
    if options:
        chosen = [options[group_id] for group_id in (team.group_ids if team else []) if group_id in options]
        blocks.append(
            InputBlock(
                block_id=GROUPS,
                label="Members from user groups",
                optional=True,
                hint="The team follows each group as people join and leave it.",
                element=StaticMultiSelectElement(
                    action_id=GROUPS, options=list(options.values()), initial_options=chosen or None
                ),
            )
        )
    note = "" if options else NO_GROUPS_TO_PICK
    if len(groups) > MAX_OPTIONS:
        note = f"The first {MAX_OPTIONS} user groups are offered; name another with {ADD_USAGE}."
    if note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    blocks += [
        InputBlock(
            block_id=MEMBERS,
            label="Members named one by one",
            optional=True,
            element=UserMultiSelectElement(
                action_id=MEMBERS, initial_users=(team.member_ids or None) if team else None
            ),
        ),
        InputBlock(
            block_id=CHANNEL,
            label="Team channel",
            optional=True,
            hint="Its part of the weekly celebration is posted there too.",
            element=ConversationSelectElement(
                action_id=CHANNEL,
                initial_conversation=team.channel_id if team else None,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=TEAM_MODAL,
        private_metadata=str(team.id) if team else "",
        title=PlainTextObject(text="Edit team" if team else "Add a team"),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        blocks=blocks,
    ).to_dict()


def saved_modal(action: str, name: str, people: int, channel: str | None) -> dict:
    return limits.notice_modal("Teams", saved(action, name, people, channel))
