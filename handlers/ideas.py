"""/idea, the idea form, the Upvote button, and *Lead actions*: the panel leads move an idea on from
(with its forms: the reason for a decline, the impact of what was implemented, the idea a duplicate
goes into)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.core.blocks import notice_modal
from bot.core.context import Context
from bot.core.forms import answer_privately, answer_view_submission, open_modal_at_once
from bot.core.refusal import Refused, record_id
from bot.core.text import escape
from bot.ideas import blocks as messages
from bot.ideas.rules import (
    IdeaDraft,
    IdeaRefused,
    StatusRequest,
    change_status,
    check_can_change_status,
    check_can_merge,
    check_is_lead,
    lead_choices,
    list_ideas,
    measure_from,
    merge_choices,
    merge_idea,
    parse_command_text,
    parse_merge_command,
    parse_status_command,
    submit_idea,
    toggle_vote,
    top_ideas,
)
from storage.outbox import DuplicateRequest

IMPACT_FIELDS = ("impact", "measure_name", "measure_before", "measure_after", "measure_unit")
log = logging.getLogger(__name__)


class WorkspaceAddress:
    """The workspace's address (auth.test's `url`), which links to its messages start with: asked
    once, after an ack, by the first request that needs it; None while Slack can't say."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self.url: str | None = None

    def __call__(self) -> str | None:
        if self.url is None:
            try:
                self.url = self.client.auth_test().get("url")
            except (SlackApiError, OSError) as error:
                log.warning("No workspace address, so no links to idea posts for now: %s", error)
        return self.url


def register(app: App, ctx: Context) -> None:
    settings = ctx.settings
    workspace_url = WorkspaceAddress(ctx.client)

    @app.command("/idea")
    def idea_command(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        text = (body.get("text") or "").strip()
        ack()
        if not text:
            client.views_open(trigger_id=body["trigger_id"], view=messages.idea_modal(settings.idea_categories))
            return
        answer_privately(respond, lambda: _answer_command(ctx, body, text, workspace_url))

    @app.view(messages.IDEA_MODAL)
    def idea_modal_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        draft = IdeaDraft(
            title=escape(state["title"]["title"].get("value") or "").strip(),
            description=escape(state["description"]["description"].get("value") or "").strip(),
            category=(state["category"]["category"].get("selected_option") or {}).get("value"),
            anonymous=bool(state["anonymous"]["anonymous"].get("selected_options")),
        )

        def submit(session: Session) -> dict:
            idea = submit_idea(
                session,
                settings,
                author_id=body["user"]["id"],
                draft=draft,
                request_key=f"view:{view['id']}",
                now=ctx.now(),
            )
            return messages.submitted_modal(idea, settings.ideas_channel)

        answer_view_submission(ctx, ack, submit)

    @app.action(messages.VOTE_ACTION)
    def upvote_pressed(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        address = workspace_url()  # before the transaction: it may ask Slack

        def vote() -> str:
            with ctx.transaction() as session:
                idea, voted, votes = toggle_vote(
                    session,
                    settings,
                    idea_id=record_id(action["value"]),
                    voter_id=body["user"]["id"],
                    request_key=f"action:{body['trigger_id']}",
                    now=ctx.now(),
                    workspace_url=address,
                )
            return messages.vote_reply(idea, voted, votes)

        answer_privately(respond, vote)

    def lead_actions_pressed(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        """*Lead actions* on a post (and the ⋯ status menu of older posts, value "N:status"): a panel
        for a lead, a kind word for anyone else."""
        ack()
        user_id = body["user"]["id"]
        try:
            idea_id = record_id((action.get("selected_option") or action)["value"].partition(":")[0])
            with ctx.session_factory() as session:
                check_is_lead(session, settings, user_id)
        except Refused as refusal:
            respond(refusal.reason, response_type="ephemeral", replace_original=False)
            return
        open_modal_at_once(client, body["trigger_id"], "Lead actions", lambda: _lead_modal(user_id, idea_id))

    app.action(messages.LEAD_ACTIONS)(lead_actions_pressed)
    app.action(messages.STATUS_ACTION)(lead_actions_pressed)

    @app.action(re.compile(f"^{messages.MOVE_ACTION}:"))
    def move_chosen(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        """A button of the lead's panel; what follows (a form, or the move done) takes the panel's place."""
        ack()
        idea_id, _, choice = action["value"].partition(":")
        try:
            view = _move(body["user"]["id"], record_id(idea_id), choice, f"action:{body['trigger_id']}")
        except Refused as refusal:
            view = notice_modal("Lead actions", refusal.reason)
        except DuplicateRequest:
            return
        client.views_update(view_id=body["view"]["id"], view=view)

    def _move(user_id: str, idea_id: int, choice: str, request_key: str) -> dict:
        with ctx.session_factory() as session:
            check_can_change_status(session, settings, user_id)
        if choice == messages.MERGE_OPTION:
            return _merge_modal(user_id, idea_id)
        # A decline needs a reason, and an implemented idea its impact: ask for them first.
        forms = {"declined": messages.decline_modal, "implemented": messages.impact_modal}
        if choice in forms:
            return forms[choice](idea_id)
        with ctx.transaction() as session:
            idea = change_status(
                session,
                settings,
                by=user_id,
                change=StatusRequest(idea_id, choice, note=""),
                request_key=request_key,
                now=ctx.now(),
            )
        return notice_modal("Lead actions", messages.status_changed(idea))

    def status_form_submitted(
        ack: Ack, body: dict, view: dict, change: Callable[[], StatusRequest], *, main_field: str
    ) -> None:
        """A form that moves an idea on: a refusal shows on its field, or on the form's main one."""
        fields = view["state"]["values"]

        def move(session: Session) -> None:
            try:
                change_status(
                    session,
                    settings,
                    by=body["user"]["id"],
                    change=change(),
                    request_key=f"view:{view['id']}",
                    now=ctx.now(),
                )
            except IdeaRefused as refusal:
                raise IdeaRefused(refusal.reason, refusal.field if refusal.field in fields else main_field) from None

        answer_view_submission(ctx, ack, move, main_field=main_field)

    @app.view(messages.DECLINE_MODAL)
    def decline_submitted(ack: Ack, body: dict, view: dict) -> None:
        reason = escape(view["state"]["values"]["reason"]["reason"].get("value") or "").strip()
        idea_id = json.loads(view["private_metadata"])["idea"]
        status_form_submitted(
            ack, body, view, lambda: StatusRequest(idea_id, "declined", note=reason), main_field="reason"
        )

    @app.view(messages.IMPACT_MODAL)
    def impact_submitted(ack: Ack, body: dict, view: dict) -> None:
        state = view["state"]["values"]
        typed = {field: escape(state[field][field].get("value") or "").strip() for field in IMPACT_FIELDS}
        idea_id = json.loads(view["private_metadata"])["idea"]

        def change() -> StatusRequest:  # a measure half typed is refused on its field
            measure = measure_from(*(typed[field] for field in IMPACT_FIELDS[1:]))
            return StatusRequest(idea_id, "implemented", note=typed["impact"], measure=measure)

        status_form_submitted(ack, body, view, change, main_field="impact")

    @app.view(messages.MERGE_MODAL)
    def merge_submitted(ack: Ack, body: dict, view: dict) -> None:
        chosen = view["state"]["values"]["target"]["target"]["selected_option"]  # Slack asks until one is

        def merge(session: Session) -> None:
            try:
                merge_idea(
                    session,
                    settings,
                    by=body["user"]["id"],
                    source_id=json.loads(view["private_metadata"])["idea"],
                    target_id=record_id(chosen["value"], "target"),
                    request_key=f"view:{view['id']}",
                    now=ctx.now(),
                    # Known by now (the click that opened the panel asked), so Slack is not called before the ack.
                    workspace_url=workspace_url.url,
                )
            except IdeaRefused as refusal:
                raise IdeaRefused(refusal.reason, "target") from None  # the form's only field

        answer_view_submission(ctx, ack, merge)

    def _lead_modal(user_id: str, idea_id: int) -> dict:
        workspace_url()  # for the links a merge from the panel will make
        with ctx.transaction() as session:
            return messages.lead_modal(*lead_choices(session, settings, by=user_id, idea_id=idea_id))

    def _merge_modal(user_id: str, idea_id: int) -> dict:
        with ctx.transaction() as session:
            return messages.merge_modal(*merge_choices(session, settings, by=user_id, idea_id=idea_id))


def _answer_command(ctx: Context, body: dict, text: str, workspace_url: WorkspaceAddress) -> str:
    """Everything `/idea <text>` can ask; the words list, top, help, status and merge start a
    subcommand only in their own shape, so `/idea Status page for outages` is still an idea."""
    settings = ctx.settings
    word, rest = (re.split(r"\s+", text, maxsplit=1) + [""])[:2]
    word = word.lower()
    if word == "help" and not rest:
        return messages.help_text(settings.idea_categories)
    if word == "list" and len(rest.split()) <= 1:
        status = rest.lower() or None
        with ctx.transaction() as session:
            rows, total = list_ideas(session, status)
        return messages.idea_list(status, rows, total)
    if word == "top" and not rest:
        with ctx.transaction() as session:
            rows = top_ideas(session)
        return messages.top(rows)
    if word == "status" and re.match(r"#?\d|$", rest):
        with ctx.transaction() as session:
            check_can_change_status(session, settings, body["user_id"])
            idea = change_status(
                session,
                settings,
                by=body["user_id"],
                change=parse_status_command(rest),
                request_key=f"command:{body['trigger_id']}",
                now=ctx.now(),
            )
        return messages.status_changed(idea)
    if word == "merge" and re.match(r"#?\d|$", rest):
        with ctx.session_factory() as session:
            check_can_merge(session, settings, body["user_id"])
        source_id, target_id = parse_merge_command(rest)
        address = workspace_url()  # before the transaction: it may ask Slack
        with ctx.transaction() as session:
            source, target = merge_idea(
                session,
                settings,
                by=body["user_id"],
                source_id=source_id,
                target_id=target_id,
                request_key=f"command:{body['trigger_id']}",
                now=ctx.now(),
                workspace_url=address,
            )
        return messages.merged(source, target)
    with ctx.transaction() as session:
        idea = submit_idea(
            session,
            settings,
            author_id=body["user_id"],
            draft=parse_command_text(text),
            request_key=f"command:{body['trigger_id']}",
            now=ctx.now(),
        )
    return messages.confirmation(idea, settings.ideas_channel)
