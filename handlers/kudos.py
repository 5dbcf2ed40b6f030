"""/kudos, the kudos form, the kudos-emoji reaction and the "Give kudos" message shortcut."""

from __future__ import annotations

import json
import logging
from contextlib import suppress

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.core import blocks as limits
from bot.core.context import Context
from bot.core.forms import answer_privately, answer_view_submission, open_modal_at_once
from bot.core.text import escape
from bot.kudos import blocks as messages
from bot.kudos.reactions import (
    give_for_reaction,
    is_kudos_reaction,
    shortcut_recipient,
    tell_reaction_refused,
    withdraw_for_reaction,
)
from bot.kudos.rules import (
    MAX_TEAM_KUDOS,
    KudosDraft,
    KudosRefused,
    give_kudos,
    give_team_kudos,
    kudos_left_today,
    leaderboard,
    parse_command_text,
    parse_leaderboard,
    single_user_id,
    stats,
    team_stats,
    the_group,
)
from bot.teams.groups import GroupsUnreadable, fetch_members
from storage import teams as teams_store
from storage.outbox import DuplicateRequest, claim_request

log = logging.getLogger(__name__)


def register(app: App, ctx: Context) -> None:
    _register_command(app, ctx)
    _register_message_kudos(app, ctx)


def _register_command(app: App, ctx: Context) -> None:
    settings = ctx.settings

    @app.command("/kudos")
    def kudos_command(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        text = (body.get("text") or "").strip()
        word, _, rest = text.partition(" ")
        word = word.lower()
        if not text:
            ack()
            with ctx.session_factory() as session:
                groups = [group for group in teams_store.groups(session) if not group.disabled]
            client.views_open(trigger_id=body["trigger_id"], view=messages.kudos_modal(settings.values, groups=groups))
        elif word == "help":
            ack(messages.help_text(settings.values, settings.kudos_daily_limit, settings.kudos_emoji, MAX_TEAM_KUDOS))
        elif word == "leaderboard":
            try:
                period, team = parse_leaderboard(rest)
            except KudosRefused as refusal:
                ack(refusal.reason)
                return
            ack()

            def ranking() -> str:
                with ctx.transaction() as session:
                    teammates, customers, name = leaderboard(session, settings, period, ctx.now(), team)
                return messages.leaderboard(period, teammates, customers, name)

            answer_privately(respond, ranking)
        elif word == "stats":
            ack()
            answer_privately(respond, lambda: _stats(ctx, body["user_id"], rest.strip()))
        else:
            ack()
            ctx.defer(answer_privately, respond, lambda: _give_from_command(ctx, body, text))

    @app.view(messages.KUDOS_MODAL)
    def kudos_modal_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        metadata = json.loads(view.get("private_metadata") or "{}")
        group = (state.get(messages.GROUP, {}).get(messages.GROUP) or {}).get("selected_option")
        draft = KudosDraft(
            recipients=state["recipients"]["recipients"].get("selected_users") or [],
            message=escape(state["message"]["message"].get("value") or "").strip(),
            values=[o["value"] for o in state["values"]["values"].get("selected_options") or []],
            groups={group["value"]: group["value"]} if group else {},
        )
        giver_id = body["user"]["id"]
        if draft.groups:
            _give_to_group(ctx, ack, giver_id, draft, f"view:{view['id']}")
            return

        def give(session: Session) -> dict:
            give_kudos(
                session,
                settings,
                ctx.users.get,
                giver_id=giver_id,
                draft=draft,
                source=metadata.get("source", "modal"),
                request_key=f"view:{view['id']}",
                now=ctx.now(),
                link=metadata.get("link"),
            )
            return messages.sent_modal(draft.recipients, kudos_left_today(session, settings, giver_id, ctx.now()))

        answer_view_submission(ctx, ack, give)


def _register_message_kudos(app: App, ctx: Context) -> None:
    settings = ctx.settings

    # Bolt acknowledges events before calling these, so they may call the Web API at once.
    @app.event("reaction_added")
    def reaction_added(event: dict, body: dict, client: WebClient) -> None:
        if not is_kudos_reaction(event, settings.kudos_emoji) or _is_app(ctx, event["item_user"]):
            return
        giver_id, channel, ts = event["user"], event["item"]["channel"], event["item"]["ts"]
        request_key = f"event:{body['event_id']}"
        # Text from a private conversation is never quoted in the public kudos channel: link only.
        text = _message_text(client, channel, ts) if _is_public(client, channel) else None
        link = _permalink(client, channel, ts)
        now = ctx.now()
        try:
            with ctx.transaction() as session:
                give_for_reaction(
                    session,
                    settings,
                    ctx.users.get,
                    giver_id=giver_id,
                    author_id=event["item_user"],
                    channel=channel,
                    ts=ts,
                    text=text,
                    link=link,
                    request_key=request_key,
                    now=now,
                )
        except KudosRefused as refusal:
            # The claim makes a retried event tell them once.
            with suppress(DuplicateRequest), ctx.transaction() as session:
                claim_request(session, request_key, now)
                tell_reaction_refused(
                    session,
                    settings,
                    giver_id=giver_id,
                    channel=channel,
                    reason=refusal.reason,
                    request_key=request_key,
                    now=now,
                )
        except DuplicateRequest:
            pass  # Slack retried an event we already handled.

    @app.event("reaction_removed")
    def reaction_removed(event: dict, body: dict) -> None:
        if not is_kudos_reaction(event, settings.kudos_emoji):
            return
        request_key = f"event:{body['event_id']}"
        with suppress(DuplicateRequest), ctx.transaction() as session:
            claim_request(session, request_key, ctx.now())
            withdraw_for_reaction(
                session,
                settings,
                giver_id=event["user"],
                channel=event["item"]["channel"],
                ts=event["item"]["ts"],
                request_key=request_key,
                now=ctx.now(),
            )

    @app.shortcut(messages.GIVE_KUDOS_SHORTCUT)
    def give_kudos_shortcut(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        message = body["message"]

        def kudos_modal() -> dict:  # users.info and chat.getPermalink: after the modal is open
            author_id = shortcut_recipient(ctx.users.get, body["user"]["id"], message)
            link = _permalink(client, body["channel"]["id"], message["ts"])
            return messages.kudos_modal(settings.values, recipients=[author_id], source="shortcut", link=link)

        open_modal_at_once(client, body["trigger_id"], "Give kudos", kudos_modal)


def _give_to_group(ctx: Context, ack: Ack, giver_id: str, draft: KudosDraft, request_key: str) -> None:
    """The form, with a user group chosen: its members are read from Slack before the transaction."""
    try:
        group_id, handle, members = _group(ctx, draft)
    except KudosRefused as refusal:
        ack(response_action="errors", errors={refusal.field: refusal.reason})
        return

    def give(session: Session) -> dict:
        name, given = give_team_kudos(
            session,
            ctx.settings,
            ctx.users.get,
            giver_id=giver_id,
            group_id=group_id,
            handle=handle,
            members=members,
            draft=draft,
            request_key=request_key,
            now=ctx.now(),
        )
        left = kudos_left_today(session, ctx.settings, giver_id, ctx.now())
        return limits.notice_modal("Kudos sent", messages.team_confirmation(name, len(given), left, None))

    answer_view_submission(ctx, ack, give)


def _group(ctx: Context, draft: KudosDraft) -> tuple[str, str, tuple[str, ...]]:
    """The user group a kudos is for, and its members as Slack has them now. Raises KudosRefused."""
    group_id, handle = the_group(draft)
    try:
        members = fetch_members(ctx.client, group_id)
    except GroupsUnreadable as unreadable:
        raise KudosRefused(unreadable.reason, "recipients") from None
    except (SlackApiError, OSError):
        raise KudosRefused("I couldn't read that group from Slack just now: please try again in a minute.") from None
    if members is None:
        raise KudosRefused(f"Slack has no active user group @{escape(handle)}.", "recipients")
    return group_id, handle, members


def _stats(ctx: Context, user_id: str, text: str) -> str:
    """`stats [@someone]`, or `stats team NAME`."""
    word, _, name = text.partition(" ")
    with ctx.transaction() as session:
        if word.lower() == "team" and name.strip():
            return messages.team_stats(*team_stats(session, ctx.settings, name, ctx.now()))
        someone = single_user_id(text) or user_id
        return messages.stats(someone, stats(session, ctx.settings, someone, ctx.now()))


def _give_from_command(ctx: Context, body: dict, text: str) -> str:
    settings = ctx.settings
    draft = parse_command_text(text, settings.values)
    if draft.groups:
        group_id, handle, members = _group(ctx, draft)
        with ctx.transaction() as session:
            name, given = give_team_kudos(
                session,
                settings,
                ctx.users.get,
                giver_id=body["user_id"],
                group_id=group_id,
                handle=handle,
                members=members,
                draft=draft,
                request_key=f"command:{body['trigger_id']}",
                now=ctx.now(),
            )
            left = kudos_left_today(session, settings, body["user_id"], ctx.now())
        return messages.team_confirmation(name, len(given), left, settings.kudos_channel)
    with ctx.transaction() as session:
        given = give_kudos(
            session,
            settings,
            ctx.users.get,
            giver_id=body["user_id"],
            draft=draft,
            source="command",
            request_key=f"command:{body['trigger_id']}",
            now=ctx.now(),
        )
        left = kudos_left_today(session, settings, body["user_id"], ctx.now())
    return messages.confirmation([k.recipient_id for k in given], left, settings.kudos_channel)


def _is_app(ctx: Context, user_id: str) -> bool:
    """Reactions on a bot's message are ignored silently (a person given kudos is checked again later)."""
    try:
        user = ctx.users.get(user_id)
    except (SlackApiError, OSError):
        return False  # give_kudos asks again, and tells the reactor if Slack still can't answer
    return user is not None and user.is_bot


def _is_public(client: WebClient, channel: str) -> bool:
    """A public channel: not a private channel (G… IDs, or C… that Slack says is private), not a DM.
    When Slack can't say, it counts as private."""
    if not channel.startswith("C"):
        return False
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except (SlackApiError, OSError) as error:
        log.warning("Could not tell whether %s is public, so its message is linked, not quoted: %s", channel, error)
        return False
    return not (info.get("is_private") or info.get("is_im") or info.get("is_mpim"))


def _message_text(client: WebClient, channel: str, ts: str) -> str:
    """The message's Slack-formatted text: in the channel's history, or else in its thread."""
    try:
        found = client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)["messages"]
        if not any(m.get("ts") == ts for m in found):  # a thread reply
            found = client.conversations_replies(channel=channel, ts=ts, oldest=ts, inclusive=True)["messages"]
    except (SlackApiError, OSError) as error:
        log.warning("Could not read message %s in %s, giving kudos without its text: %s", ts, channel, error)
        return ""
    return next((m.get("text") or "" for m in found if m.get("ts") == ts), "")


def _permalink(client: WebClient, channel: str, ts: str) -> str | None:
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
    except (SlackApiError, OSError) as error:
        log.warning("Could not get a link to message %s in %s: %s", ts, channel, error)
        return None
