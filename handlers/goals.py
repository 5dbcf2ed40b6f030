"""/goal, the goal form, and the check-in DM's buttons with their forms."""

from __future__ import annotations

import re
from datetime import date

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.core.context import Context
from bot.core.forms import answer_privately, answer_view_submission, open_modal_at_once
from bot.core.refusal import record_id
from bot.core.text import escape, from_slack_formatted, truncate
from bot.goals import blocks as messages
from bot.goals.rules import (
    MAX_MILESTONE_LENGTH,
    MAX_MILESTONES,
    MAX_NOTE_LENGTH,
    MAX_OPEN_GOALS,
    MAX_TITLE_LENGTH,
    MAX_WHY_LENGTH,
    GoalDraft,
    ask_for_help,
    close_goal,
    helpers_for,
    log_progress,
    numbered_goal,
    own_open_goal,
    parse_add,
    parse_milestones,
    set_goal,
)
from bot.teams.people import goal_audience
from storage import goals as store
from storage.goals import DONE, DROPPED, Goal


def register(app: App, ctx: Context) -> None:
    settings = ctx.settings
    help_text = messages.help_text(settings.checkin_at, MAX_OPEN_GOALS, MAX_TITLE_LENGTH)

    @app.command("/goal")
    def goal_command(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        text = (body.get("text") or "").strip()
        word, rest = (re.split(r"\s+", text, maxsplit=1) + [""])[:2]
        word = word.lower()
        if not text:
            ack()
            with ctx.session_factory() as session:
                audience = goal_audience(session, settings, body["user_id"])
            view = messages.goal_modal(MAX_TITLE_LENGTH, MAX_WHY_LENGTH, MAX_MILESTONES, MAX_MILESTONE_LENGTH, audience)
            client.views_open(trigger_id=body["trigger_id"], view=view)
        elif word in ("add", "list", "done", "drop"):
            ack()
            answer_privately(respond, lambda: _answer(ctx, body, word, rest))
        elif word == "help":
            ack(help_text)
        else:
            typed = from_slack_formatted(text)
            suggestion = f"To set a goal, say `/goal add {truncate(typed, 300)}`, or `/goal` for the form."
            ack(f"I don't know `{from_slack_formatted(word)}`. {suggestion}\n\n{help_text}")

    @app.view(messages.GOAL_MODAL)
    def goal_modal_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        picked = state[messages.TARGET_DATE][messages.TARGET_DATE].get("selected_date")
        draft = GoalDraft(
            title=escape(state[messages.TITLE][messages.TITLE].get("value") or ""),
            why=escape(state[messages.WHY][messages.WHY].get("value") or ""),
            target_date=date.fromisoformat(picked) if picked else None,
            milestones=parse_milestones(escape(state[messages.MILESTONES][messages.MILESTONES].get("value") or "")),
            shared=bool(state[messages.SHARE][messages.SHARE].get("selected_options")),
        )

        def set_it(session: Session) -> dict:
            goal = set_goal(
                session, owner_id=body["user"]["id"], draft=draft, request_key=f"view:{view['id']}", now=ctx.now()
            )
            return messages.goal_set_modal(goal, settings.checkin_at)

        answer_view_submission(ctx, ack, set_it)

    @app.action(messages.PROGRESS_ACTION)
    def progress_clicked(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()

        def progress_form() -> dict:  # a transaction: after the modal is open
            with ctx.transaction() as session:
                goal = own_open_goal(session, record_id(action["value"]), body["user"]["id"])
            return messages.progress_modal(goal, MAX_NOTE_LENGTH)

        open_modal_at_once(client, body["trigger_id"], messages.PROGRESS_TITLE, progress_form)

    @app.view(messages.PROGRESS_MODAL)
    def progress_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        ticked = (state.get(messages.REACHED) or {}).get(messages.REACHED, {}).get("selected_options") or []

        def log(session: Session) -> dict:
            reached = [record_id(option["value"], messages.REACHED) for option in ticked]
            goal, progress = log_progress(
                session,
                goal_id=int(view["private_metadata"]),
                user_id=body["user"]["id"],
                note=escape(state[messages.NOTE][messages.NOTE].get("value") or ""),
                reached=reached,
                request_key=f"view:{view['id']}",
                now=ctx.now(),
            )
            return messages.progress_logged_modal(goal, progress, [m for m in goal.milestones if m.id in reached])

        answer_view_submission(ctx, ack, log)

    @app.action(messages.STUCK_ACTION)
    def stuck_clicked(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()

        def stuck_form() -> dict:  # a transaction and users.info: after the modal is open
            with ctx.transaction() as session:
                goal = own_open_goal(session, record_id(action["value"]), body["user"]["id"])
                helpers = helpers_for(session, settings, goal)
            choices = [(h.value, messages.helper_option(h.skill, _name(ctx, h.user_id))) for h in helpers]
            return messages.stuck_modal(goal, choices, MAX_NOTE_LENGTH)

        open_modal_at_once(client, body["trigger_id"], messages.STUCK_TITLE, stuck_form)

    @app.view(messages.STUCK_MODAL)
    def stuck_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        choice = (state[messages.HELPER][messages.HELPER].get("selected_option") or {}).get("value", "")

        def ask(session: Session) -> dict:
            helper = ask_for_help(
                session,
                settings,
                goal_id=int(view["private_metadata"]),
                user_id=body["user"]["id"],
                choice=choice,
                note=escape(state[messages.NOTE][messages.NOTE].get("value") or ""),
                request_key=f"view:{view['id']}",
                now=ctx.now(),
            )
            return messages.asked_modal(helper.user_id)

        answer_view_submission(ctx, ack, ask)

    @app.action(messages.DONE_ACTION)
    def done_clicked(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()

        def finish() -> str:
            with ctx.transaction() as session:
                goal = own_open_goal(session, record_id(action["value"]), body["user"]["id"])
                progress = close_goal(session, goal, DONE, request_key=f"action:{body['trigger_id']}", now=ctx.now())
                return messages.goal_closed(goal, progress)

        answer_privately(respond, finish)  # a double click: done once, and answered once


def _answer(ctx: Context, body: dict, word: str, rest: str) -> str:
    user_id, now = body["user_id"], ctx.now()
    request_key = f"command:{body['trigger_id']}"
    with ctx.transaction() as session:
        if word == "list":
            goals = store.goals_of(session, user_id)
            progress = store.progress_of(session, Goal.owner_id == user_id)
            return messages.goal_list(goals, progress, ctx.settings.timezone)
        if word == "add":
            goal = set_goal(session, owner_id=user_id, draft=parse_add(rest), request_key=request_key, now=now)
            return messages.goal_set(goal, ctx.settings.checkin_at)
        goal = numbered_goal(session, user_id, rest, word)
        progress = close_goal(session, goal, DONE if word == "done" else DROPPED, request_key=request_key, now=now)
        return messages.goal_closed(goal, progress)


def _name(ctx: Context, user_id: str) -> str:
    """A person's display name for a menu (plain text, where a mention does not show); their ID if
    Slack cannot say."""
    try:
        user = ctx.users.get(user_id)
    except (SlackApiError, OSError):
        return user_id
    return user.name if user else user_id
