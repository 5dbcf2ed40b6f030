"""The rules of ideas: submitting, voting, and the status workflow leads run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.outbox import post_message, update_message
from bot.core.refusal import Refused
from bot.core.settings import Settings
from bot.core.text import from_slack_formatted, to_plain
from bot.home.rules import home_changed
from bot.ideas import blocks as messages
from storage import ideas as store
from storage import outbox as outbox_store
from storage.ideas import Idea, IdeaStatusChange, IdeaVote
from storage.outbox import claim_request

STATUSES = ("new", "under-review", "planned", "in-progress", "implemented", "declined")
OPEN_STATUSES = ("new", "under-review", "planned", "in-progress")
MAX_TITLE_LENGTH = 150
MAX_DESCRIPTION_LENGTH = 2000
LIST_LIMIT = 20
TOP_LIMIT = 10


class IdeaRefused(Refused):
    """An idea, vote or status change that cannot be made."""

    default_field = "title"


@dataclass(frozen=True)
class IdeaDraft:
    title: str  # safe mrkdwn
    description: str  # safe mrkdwn
    category: str | None = None
    anonymous: bool = False


@dataclass(frozen=True)
class StatusRequest:
    idea_id: int
    status: str
    note: str  # safe mrkdwn


def parse_command_text(text: str) -> IdeaDraft:
    """`Title\\nlonger description` → the first line is the title, the rest the description."""
    title, _, description = from_slack_formatted(text).strip().partition("\n")
    return IdeaDraft(title=title.strip(), description=description.strip())


def submit_idea(
    session: Session, settings: Settings, *, author_id: str, draft: IdeaDraft, request_key: str, now: datetime
) -> Idea:
    """Record the idea and owe Slack its post in the ideas channel.

    An anonymous idea keeps no trace of `author_id`. Raises IdeaRefused (nothing written)
    or DuplicateRequest (a retry of a recorded request).
    """
    title = to_plain(draft.title)
    if not title.strip():
        raise IdeaRefused("Give your idea a title: one line saying what you would change.")
    if len(title) > MAX_TITLE_LENGTH:
        raise IdeaRefused(
            f"That title has {len(title)} characters; please keep it to {MAX_TITLE_LENGTH} and put the "
            "details on the next lines (Shift+Enter), or use the form: `/idea`."
        )
    if len(to_plain(draft.description)) > MAX_DESCRIPTION_LENGTH:
        raise IdeaRefused(
            f"Please keep the description under {MAX_DESCRIPTION_LENGTH} characters; link to a document for more.",
            "description",
        )
    if draft.category is not None and draft.category not in settings.idea_categories:
        raise IdeaRefused(f"Pick a category from {', '.join(settings.idea_categories)}.", "category")

    claim_request(session, request_key, now)
    idea = Idea(
        title=draft.title,
        description=draft.description,
        category=draft.category,
        author_id=None if draft.anonymous else author_id,
        status="new",
        created_at=now,
    )
    session.add(idea)
    session.flush()
    if idea.author_id:
        home_changed(session, idea.author_id)
    if settings.ideas_channel:
        text, blocks = messages.idea_post(idea, votes=0, latest=None)
        post_message(session, post_key(idea), channel=settings.ideas_channel, text=text, blocks=blocks, now=now)
    return idea


def post_key(idea: Idea) -> str:
    return f"idea:{idea.id}:post"


def toggle_vote(
    session: Session, *, idea_id: int, voter_id: str, request_key: str, now: datetime
) -> tuple[Idea, bool, int]:
    """Vote for the idea, or withdraw the vote already there; returns (idea, voted now, vote count).

    The idea stays locked until commit, so simultaneous votes count one after another and the
    last channel update carries the final count.
    """
    idea = _locked_idea(session, idea_id)
    claim_request(session, request_key, now)
    vote = store.find_vote(session, idea.id, voter_id)
    if vote is None:
        session.add(IdeaVote(idea_id=idea.id, voter_id=voter_id, created_at=now))
    else:
        session.delete(vote)
    session.flush()
    votes = store.vote_count(session, idea.id)
    _refresh_post(session, idea, votes, f"idea:{idea.id}:update:{request_key}", now)
    return idea, vote is None, votes


def check_can_change_status(settings: Settings, user_id: str) -> None:
    if not settings.is_lead(user_id):
        raise IdeaRefused(
            "Only leads can change an idea's status. Vote for it, or tell a lead why it matters.", "status"
        )


def parse_status_command(text: str) -> StatusRequest:
    """`42 planned [note]` (after `/idea status`)."""
    match = re.fullmatch(r"#?(\d+)\s+(\S+)\s*(.*)", text.strip(), re.S)
    if not match:
        raise IdeaRefused("Say which idea and which status: `/idea status 42 planned [note]`.", "status")
    return StatusRequest(int(match[1]), match[2].lower().replace("_", "-"), from_slack_formatted(match[3]).strip())


def change_status(
    session: Session, settings: Settings, *, by: str, change: StatusRequest, request_key: str, now: datetime
) -> Idea:
    """Move the idea to a new status; history, channel message and the author's DM follow.

    Leads may move an idea to any other status: forward, back to correct a mistake, or
    reopen a declined or implemented idea. Declining needs a reason.
    """
    check_can_change_status(settings, by)
    if change.status not in STATUSES:
        raise IdeaRefused(f"I don't know the status `{change.status}`: use one of {_status_list()}.", "status")
    if change.status == "declined" and not change.note:
        raise IdeaRefused(
            f"Please say why it is declined, so the author learns something from it: "
            f"`/idea status {change.idea_id} declined <reason>`.",
            "reason",
        )
    idea = _locked_idea(session, change.idea_id)
    if idea.status == change.status:
        raise IdeaRefused(f"Idea #{idea.id} is already {messages.STATUS_LABELS[idea.status]}.", "status")

    claim_request(session, request_key, now)
    record = IdeaStatusChange(
        idea_id=idea.id,
        changed_by=by,
        from_status=idea.status,
        to_status=change.status,
        note=change.note,
        changed_at=now,
    )
    idea.status = change.status
    session.add(record)
    session.flush()
    key = f"idea:{idea.id}:status:{record.id}"
    _refresh_post(session, idea, store.vote_count(session, idea.id), key, now)
    if idea.author_id:
        home_changed(session, idea.author_id)
        text, blocks = messages.status_dm(idea, record)
        post_message(session, f"{key}:dm", channel=idea.author_id, text=text, blocks=blocks, now=now)
    return idea


def hide_idea(session: Session, _settings: Settings, number: int, now: datetime) -> str:
    """An admin hides idea `number`: its post is edited to say so, and lists, votes, status changes,
    exports and digests leave it out from now on."""
    idea = store.lock_idea(session, number, include_hidden=True)
    if idea is None:
        raise IdeaRefused(f"There is no idea #{number}.")
    if idea.hidden_at:
        raise IdeaRefused(f"Idea #{number} is hidden already.")
    idea.hidden_at = now
    if idea.author_id:
        home_changed(session, idea.author_id)
    if outbox_store.by_key(session, post_key(idea)) is not None:
        text, blocks = messages.hidden_post(idea)
        update_message(session, f"{post_key(idea)}:hidden", of=post_key(idea), text=text, blocks=blocks, now=now)
    return f"idea #{idea.id} “{idea.title}”"


def list_ideas(session: Session, status: str | None) -> tuple[list[tuple[Idea, int]], int]:
    """The newest ideas (of one status, or all) and how many there are in all."""
    if status is not None and status not in STATUSES:
        raise IdeaRefused(f"I don't know the status `{status}`: use one of {_status_list()}.", "status")
    statuses = (status,) if status else STATUSES
    return store.newest(session, statuses, LIST_LIMIT), store.count_ideas(session, statuses)


def top_ideas(session: Session) -> list[tuple[Idea, int]]:
    return store.most_voted(session, OPEN_STATUSES, TOP_LIMIT)


def _locked_idea(session: Session, idea_id: int) -> Idea:
    # A number past the integer column's range is no idea (PostgreSQL would refuse the query).
    idea = store.lock_idea(session, idea_id) if idea_id < 2**31 else None
    if idea is None:
        raise IdeaRefused(f"There is no idea #{idea_id}. `/idea list` shows the latest ones.", "status")
    return idea


def _refresh_post(session: Session, idea: Idea, votes: int, key: str, now: datetime) -> None:
    if outbox_store.by_key(session, post_key(idea)) is None:
        return  # posted nowhere (no ideas channel then), so nothing to update
    text, blocks = messages.idea_post(idea, votes, store.latest_change(session, idea.id))
    update_message(session, key, of=post_key(idea), text=text, blocks=blocks, now=now)


def _status_list() -> str:
    return ", ".join(f"`{s}`" for s in STATUSES)
