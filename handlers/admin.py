"""/kaizen (admins: hide, run-job, status, team, teams, help) and the Hide option on public messages."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond

from bot.admin import blocks as messages
from bot.admin.rules import AdminRefused, check_admin, hide, kinds, parse_hide
from bot.core.blocks import HIDE_ACTION
from bot.core.context import Context
from bot.core.doctor import describe_outbox, run_checks
from bot.core.jobs import run_job
from bot.core.refusal import Refused, record_id
from bot.core.text import escape
from handlers.teams import team_command
from storage.outbox import DuplicateRequest

log = logging.getLogger(__name__)


def register(app: App, ctx: Context) -> None:
    settings = ctx.settings

    @app.command("/kaizen")
    def kaizen_command(ack: Ack, body: dict, respond: Respond) -> None:
        word, _, rest = (body.get("text") or "").strip().partition(" ")
        word, user_id = word.lower(), body["user_id"]
        help_text = messages.help_text(settings.is_admin(user_id), kinds(ctx.features), list(ctx.jobs))
        if word in ("", "help"):
            ack(help_text)
            return
        if word not in ("hide", "run-job", "status", "team", "teams"):
            ack(f"I don't know `{escape(word)}`.\n{help_text}")
            return
        try:
            check_admin(settings, user_id)
        except AdminRefused as refusal:
            ack(refusal.reason)
            return
        ack()
        if word in ("team", "teams"):
            team_command(ctx, body, word, rest, respond)
            return
        if word == "hide":
            try:
                kind, number = parse_hide(rest, ctx.features)
            except AdminRefused as refusal:
                respond(refusal.reason, response_type="ephemeral")
                return
            reply = _hide(ctx, user_id, kind, number, f"command:{body['trigger_id']}")
        elif word == "status":
            ctx.defer(_status, ctx, respond)  # the checks ask Slack about every channel and person
            return
        else:
            ctx.defer(_run_job, ctx, user_id, rest, respond)  # a job's fan-out may take minutes
            return
        if reply:
            respond(reply, response_type="ephemeral")

    @app.action(HIDE_ACTION)
    def hide_chosen(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        """The ⋯ menu of a public message, or the Hide button of a report; value "KIND:N"."""
        ack()
        kind, _, number = (action.get("selected_option") or action)["value"].partition(":")
        try:
            reply = _hide(ctx, body["user"]["id"], kind, record_id(number), f"action:{body['trigger_id']}")
        except Refused as refusal:
            reply = refusal.reason
        if reply:
            respond(reply, response_type="ephemeral", replace_original=False)


def _hide(ctx: Context, user_id: str, kind: str, number: int, request_key: str) -> str | None:
    """The answer to an admin's hide; None for a click Slack sent twice."""
    try:
        with ctx.transaction() as session:
            what = hide(
                session,
                ctx.settings,
                ctx.features,
                by=user_id,
                kind=kind,
                number=number,
                request_key=request_key,
                now=ctx.now(),
            )
    except Refused as refusal:
        return refusal.reason
    except DuplicateRequest:
        return None
    log.info("%s hid %s %s", user_id, kind, number)
    return messages.hidden(what)


def _status(ctx: Context, respond: Respond) -> None:
    failing = [str(check) for check in run_checks(ctx) if not check.passed]
    respond(messages.status(describe_outbox(ctx), failing), response_type="ephemeral")


def _run_job(ctx: Context, user_id: str, text: str, respond: Respond) -> None:
    """`NAME [--dry-run] [--force]`, run as `kaizen jobs run` runs it; the report answers the admin."""
    words = text.split()
    flags = {word for word in words if word.startswith("--")}
    names = [word for word in words if not word.startswith("--")]
    if len(names) != 1 or names[0] not in ctx.jobs or not flags <= {"--dry-run", "--force"}:
        usage = f"Say which job: `/kaizen run-job NAME [--dry-run] [--force]`, NAME one of {', '.join(ctx.jobs)}."
        respond(usage, response_type="ephemeral")
        return
    name, dry_run = names[0], "--dry-run" in flags
    log.info("%s runs job %s from Slack (%s)", user_id, name, " ".join(sorted(flags)) or "no options")
    try:
        report = run_job(ctx, name, dry_run=dry_run, force="--force" in flags)
    except Exception as error:  # the admin who asked is told, and the log keeps the traceback
        log.exception("Job %s, run from Slack by %s, failed", name, user_id)
        respond(messages.job_failed(name, error), response_type="ephemeral")
        return
    respond(messages.job_report(report, dry_run=dry_run), response_type="ephemeral")
