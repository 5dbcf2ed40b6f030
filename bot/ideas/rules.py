"""The rules of ideas: submitting, voting, the status workflow leads run (with the review Kaizen
starts when enough people vote), merging duplicates, and the impact of what was implemented."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

import bot.ideas.blocks as messages
from bot.core.blocks import Message
from bot.core.daily_posts import count_post
from bot.core.outbox import post_message, revise_message, update_message
from bot.core.refusal import Refused
from bot.core.settings import Settings
from bot.core.text import from_slack_formatted, mention, to_plain
from bot.home.rules import home_changed
from bot.teams.people import every_lead, is_lead
from storage import ideas as store
from storage import outbox as outbox_store
from storage.ideas import MEASURE_LENGTHS, Idea, IdeaStatusChange, IdeaVote, Measure
from storage.outbox import claim_request

STATUSES = ("new", "under-review", "planned", "in-progress", "implemented", "declined", "merged")
OPEN_STATUSES = ("new", "under-review", "planned", "in-progress")
MAX_TITLE_LENGTH = 150
MAX_DESCRIPTION_LENGTH = 2000
MAX_IMPACT_LENGTH = 1000
LIST_LIMIT = 20
TOP_LIMIT = 10
MERGE_CHOICES = 100  # a select menu's most options


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
    note: str  # safe mrkdwn; for `implemented`, what changed
    measure: Measure | None = None  # for `implemented`


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
    count_post(session, settings, author_id, now, IdeaRefused)

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


def post_link(session: Session, idea: Idea, workspace_url: str | None) -> str | None:
    """A link to the idea's post once Slack has it, or None.

    It is the permalink chat.getPermalink gives for a channel message (`<workspace>/archives/<channel>/
    p<ts without its dot>`), made from the workspace's address (auth.test's `url`) and the channel
    and ts Slack gave the post, so no Web API call waits inside a transaction.
    """
    post = outbox_store.by_key(session, post_key(idea))
    sent = (post.result or {}) if post else {}
    if not workspace_url or not sent.get("channel") or not sent.get("ts"):
        return None
    return f"{workspace_url.rstrip('/')}/archives/{sent['channel']}/p{sent['ts'].replace('.', '')}"


def toggle_vote(
    session: Session,
    settings: Settings,
    *,
    idea_id: int,
    voter_id: str,
    request_key: str,
    now: datetime,
    workspace_url: str | None = None,
) -> tuple[Idea, bool, int]:
    """Vote for the idea, or withdraw the vote already there; returns (idea, voted now, vote count).

    The vote that brings a new idea to KAIZEN_IDEA_REVIEW_VOTES sends it to review. The idea stays
    locked until commit, so simultaneous votes count one after another, exactly one of them starts
    the review, and the last channel update carries the final count. An implemented idea takes no
    votes (until it is reopened): everyone who voted for it was thanked with what it changed, and
    someone pressing Upvote now is told that instead.
    """
    idea = _idea(session, idea_id)
    if idea.status == "merged":
        raise IdeaRefused(
            f"Idea #{idea.id} was merged into #{idea.merged_into_id}, and its votes went there: "
            f"vote for #{idea.merged_into_id} instead."
        )
    if idea.status == "implemented":
        raise IdeaRefused(messages.votes_closed(idea))
    claim_request(session, request_key, now)
    vote = store.find_vote(session, idea.id, voter_id)
    if vote is None:
        session.add(IdeaVote(idea_id=idea.id, voter_id=voter_id, created_at=now))
    else:
        session.delete(vote)
    session.flush()
    votes = store.vote_count(session, idea.id)
    if vote is None:
        _review_when_due(session, settings, idea, votes, now, workspace_url)
    _refresh_post(session, idea, f"idea:{idea.id}:update:{request_key}", now)
    if idea.author_id:
        home_changed(session, idea.author_id)  # their Home tab shows each idea's votes
    return idea, vote is None, votes


def check_can_change_status(session: Session, settings: Settings, user_id: str) -> None:
    if not is_lead(session, settings, user_id):
        raise IdeaRefused(
            "Only leads can change an idea's status. Vote for it, or tell a lead why it matters.", "status"
        )


def lead_choices(session: Session, settings: Settings, *, by: str, idea_id: int) -> tuple[Idea, int]:
    """What an idea's *Lead actions* panel shows a lead: the idea and its vote count."""
    check_is_lead(session, settings, by)
    idea = _idea(session, idea_id, lock=False)
    if idea.status == "merged":
        raise IdeaRefused(f"Idea #{idea.id} was merged into #{idea.merged_into_id}, and that is final.")
    return idea, store.vote_count(session, idea.id)


def check_is_lead(session: Session, settings: Settings, user_id: str) -> None:
    """The kind word for someone who is not a lead and pressed an idea's *Lead actions*."""
    if not is_lead(session, settings, user_id):
        raise IdeaRefused(
            "*Lead actions* are for the team's leads: they move ideas on and merge duplicates. "
            "You can vote for the idea, or tell a lead why it matters to you."
        )


def parse_status_command(text: str) -> StatusRequest:
    """`42 planned [note]` (after `/idea status`); for `implemented`, the note is what changed."""
    match = re.fullmatch(r"#?(\d+)\s+(\S+)\s*(.*)", text.strip(), re.S)
    if not match:
        raise IdeaRefused("Say which idea and which status: `/idea status 42 planned [note]`.", "status")
    return StatusRequest(int(match[1]), match[2].lower().replace("_", "-"), from_slack_formatted(match[3]).strip())


def measure_from(name: str, before: str, after: str, unit: str) -> Measure | None:
    """The measure typed in the impact form (safe mrkdwn), or None when it was left out; a measure
    needs a name and both values."""
    fields = {"measure_name": name, "measure_before": before, "measure_after": after, "measure_unit": unit}
    if not any(fields.values()):
        return None
    needed = {
        "measure_name": "what you measured",
        "measure_before": "its value before",
        "measure_after": "its value after",
    }
    for field, what in needed.items():
        if not fields[field]:
            raise IdeaRefused(f"A measure needs {what} too (or leave the measure out).", field)
    for field, limit in MEASURE_LENGTHS.items():
        if len(fields[field]) > limit:  # as stored: each `&`, `<` or `>` takes 4 or 5
            raise IdeaRefused(f"Please keep this under {limit} characters (`&`, `<` and `>` count as 4 or 5).", field)
    return Measure(name, before, after, unit)


def change_status(
    session: Session, settings: Settings, *, by: str, change: StatusRequest, request_key: str, now: datetime
) -> Idea:
    """Move the idea to a new status; history, channel message and the author's DM follow.

    Leads may move an idea to any other status: forward, back to correct a mistake, or
    reopen a declined or implemented idea; `merged` is final, and made by merge_idea. Declining
    needs a reason. Implementing records what changed (and a measure, if given) and tells everyone
    who voted for the idea.
    """
    check_can_change_status(session, settings, by)
    if change.status == "merged":
        raise IdeaRefused(f"To merge an idea, say into which: `/idea merge {change.idea_id} into 7`.", "status")
    if change.status not in STATUSES:
        raise IdeaRefused(f"I don't know the status `{change.status}`: use one of {_status_list()}.", "status")
    if change.status == "declined" and not change.note:
        raise IdeaRefused(
            f"Please say why it is declined, so the author learns something from it: "
            f"`/idea status {change.idea_id} declined <reason>`.",
            "reason",
        )
    implemented = change.status == "implemented"
    if implemented and len(to_plain(change.note)) > MAX_IMPACT_LENGTH:
        raise IdeaRefused(f"Please say what changed in under {MAX_IMPACT_LENGTH} characters.", "impact")
    idea = _idea(session, change.idea_id)
    if idea.status == "merged":
        raise IdeaRefused(
            f"Idea #{idea.id} was merged into #{idea.merged_into_id}, and that is final: "
            f"change #{idea.merged_into_id} instead.",
            "status",
        )
    if idea.status == change.status:
        raise IdeaRefused(f"Idea #{idea.id} is already {messages.STATUS_LABELS[idea.status]}.", "status")

    claim_request(session, request_key, now)
    if implemented:
        idea.impact, idea.measure = change.note or None, change.measure
    record = _move(session, idea, to=change.status, by=by, note="" if implemented else change.note, now=now)
    if implemented:
        _tell_voters(session, idea, record, now)
    _refresh_post(session, idea, _change_key(record), now)
    return idea


def check_can_merge(session: Session, settings: Settings, user_id: str) -> None:
    if not is_lead(session, settings, user_id):
        raise IdeaRefused("Only leads can merge ideas. Spotted a duplicate? Tell a lead both numbers.", "target")


def parse_merge_command(text: str) -> tuple[int, int]:
    """`12 into 7` (after `/idea merge`) → (12, 7)."""
    match = re.fullmatch(r"#?(\d+)\s+(?:into\s+)?#?(\d+)", text.strip(), re.I)
    if not match:
        raise IdeaRefused("Say which idea goes into which: `/idea merge 12 into 7` (12 becomes part of 7).", "target")
    return int(match[1]), int(match[2])


def merge_choices(session: Session, settings: Settings, *, by: str, idea_id: int) -> tuple[Idea, list[Idea]]:
    """What the *Merge into…* form offers: the idea, and the newest ideas it could go into."""
    check_can_merge(session, settings, by)
    source = _idea(session, idea_id, lock=False)
    _check_can_be_merged(source)
    targets = store.merge_targets(session, source.id, MERGE_CHOICES)
    if not targets:
        raise IdeaRefused("There is no other idea to merge it into (merged and declined ones can't take it).")
    return source, targets


def merge_idea(
    session: Session,
    settings: Settings,
    *,
    by: str,
    source_id: int,
    target_id: int,
    request_key: str,
    now: datetime,
    workspace_url: str | None = None,
) -> tuple[Idea, Idea]:
    """A lead merges a duplicate into the idea it repeats: the source becomes `merged` (final),
    pointing at the target; its votes move there, each person's once (they may bring the target to
    review); both posts update, and the source's author (unless anonymous) hears where it went."""
    check_can_merge(session, settings, by)
    if source_id == target_id:
        raise IdeaRefused("An idea can't be merged into itself: pick the idea it repeats.", "target")
    # Both locked, in the same order whoever asks, so two merges of the same pair never deadlock.
    locked = {number: _idea(session, number) for number in sorted((source_id, target_id))}
    source, target = locked[source_id], locked[target_id]
    _check_can_be_merged(source)
    if target.status == "merged":
        if target.merged_into_id == source.id:
            raise IdeaRefused(
                f"That would go round in a circle: #{target.id} is already merged into #{source.id}.", "target"
            )
        raise IdeaRefused(
            f"Idea #{target.id} is itself merged into #{target.merged_into_id}: merge into that one.", "target"
        )
    if target.status == "declined":
        raise IdeaRefused(
            f"Idea #{target.id} is declined: merge into an idea that is still going, or reopen #{target.id} first.",
            "target",
        )

    claim_request(session, request_key, now)
    store.move_votes(session, source.id, target.id)
    source.merged_into_id = target.id
    record = _move(session, source, to="merged", by=by, note="", now=now)
    if source.author_id:
        text, blocks = messages.merged_dm(source, target, record, post_link(session, target, workspace_url))
        post_message(session, _merge_dm_key(record), channel=source.author_id, text=text, blocks=blocks, now=now)
    if target.author_id:
        home_changed(session, target.author_id)
    _review_when_due(session, settings, target, store.vote_count(session, target.id), now, workspace_url)
    _refresh_post(session, source, _change_key(record), now, workspace_url)
    _refresh_post(session, target, f"idea:{target.id}:merged:{source.id}", now)
    return source, target


def hide_idea(session: Session, _settings: Settings, number: int, now: datetime) -> str:
    """An admin hides idea `number`: its post is edited to say so, and lists, votes, status changes,
    exports and digests leave it out from now on. Its title goes from wherever it was shown as where
    another idea went: the posts of the ideas merged into it and their authors' merge DMs, rewritten
    before they are sent or edited after."""
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
        revise_message(session, f"{post_key(idea)}:hidden", of=post_key(idea), text=text, blocks=blocks, now=now)
    for source in [session.get(Idea, merged) for merged in store.merged_into(session, idea.id)]:
        if outbox_store.by_key(session, post_key(source)) is not None:
            text, blocks = _post(session, source)
            key = f"{post_key(source)}:target-hidden"
            revise_message(session, key, of=post_key(source), text=text, blocks=blocks, now=now)
        merge = store.latest_change(session, source.id)  # merged is final: its last change
        if outbox_store.by_key(session, _merge_dm_key(merge)) is not None:
            text, blocks = messages.merged_dm(source, idea, merge, link=None)
            key = f"{_merge_dm_key(merge)}:target-hidden"
            revise_message(session, key, of=_merge_dm_key(merge), text=text, blocks=blocks, now=now)
    return f"idea #{idea.id} " + ("(anonymous)" if idea.anonymous else f"from {mention(idea.author_id)}")


def list_ideas(session: Session, status: str | None) -> tuple[list[tuple[Idea, int]], int]:
    """The newest ideas (of one status, or all) and how many there are in all."""
    if status is not None and status not in STATUSES:
        raise IdeaRefused(f"I don't know the status `{status}`: use one of {_status_list()}.", "status")
    statuses = (status,) if status else STATUSES
    return store.newest(session, statuses, LIST_LIMIT), store.count_ideas(session, statuses)


def top_ideas(session: Session) -> list[tuple[Idea, int]]:
    return store.most_voted(session, OPEN_STATUSES, TOP_LIMIT)


def _idea(session: Session, idea_id: int, *, lock: bool = True) -> Idea:
    """The idea (locked until commit, unless `lock` is False), or IdeaRefused if there is none."""
    # A number past the integer column's range is no idea (PostgreSQL would refuse the query).
    idea = None
    if idea_id < 2**31:
        idea = store.lock_idea(session, idea_id) if lock else session.get(Idea, idea_id)
    if idea is None:
        raise IdeaRefused(f"There is no idea #{idea_id}. `/idea list` shows the latest ones.", "status")
    return idea


def _check_can_be_merged(idea: Idea) -> None:
    if idea.status == "merged":
        raise IdeaRefused(f"Idea #{idea.id} is already merged into #{idea.merged_into_id}.", "target")


def _move(session: Session, idea: Idea, *, to: str, by: str | None, note: str, now: datetime) -> IdeaStatusChange:
    """Move the idea to status `to` (`by` None: Kaizen did) and keep it in the history; the author
    (unless anonymous) is told, except of a merge, which says more (merge_idea). The caller
    refreshes the post."""
    record = IdeaStatusChange(
        idea_id=idea.id, changed_by=by, from_status=idea.status, to_status=to, note=note, changed_at=now
    )
    idea.status = to
    session.add(record)
    session.flush()
    if idea.author_id:
        home_changed(session, idea.author_id)
        if to != "merged":
            text, blocks = messages.status_dm(idea, record)
            post_message(
                session, f"{_change_key(record)}:dm", channel=idea.author_id, text=text, blocks=blocks, now=now
            )
    return record


def _review_when_due(
    session: Session, settings: Settings, idea: Idea, votes: int, now: datetime, workspace_url: str | None
) -> None:
    """A new idea with KAIZEN_IDEA_REVIEW_VOTES votes goes to review, done by Kaizen, and every lead
    (KAIZEN_LEADS, and every team's) is told. Once in its life: an idea that has been under review
    stays where leads put it."""
    if idea.status != "new" or votes < settings.idea_review_votes or store.was_ever(session, idea.id, "under-review"):
        return
    record = _move(
        session,
        idea,
        to="under-review",
        by=None,
        note=f"{votes} people voted for it, so the leads will look at it.",
        now=now,
    )
    text, blocks = messages.review_dm(idea, votes, post_link(session, idea, workspace_url), settings.ideas_channel)
    for lead in sorted(every_lead(session, settings)):
        post_message(session, f"{_change_key(record)}:lead:{lead}", channel=lead, text=text, blocks=blocks, now=now)


def _tell_voters(session: Session, idea: Idea, record: IdeaStatusChange, now: datetime) -> None:
    """Everyone who voted for the implemented idea hears of it, once; its author has their own DM."""
    text, blocks = messages.implemented_dm(idea)
    for voter in store.voter_ids(session, idea.id):
        if voter != idea.author_id:
            key = f"{_change_key(record)}:voter:{voter}"
            post_message(session, key, channel=voter, text=text, blocks=blocks, now=now)


def _change_key(record: IdeaStatusChange) -> str:
    return f"idea:{record.idea_id}:status:{record.id}"


def _merge_dm_key(merge: IdeaStatusChange) -> str:
    return f"{_change_key(merge)}:dm"


def _refresh_post(session: Session, idea: Idea, key: str, now: datetime, workspace_url: str | None = None) -> None:
    if outbox_store.by_key(session, post_key(idea)) is None:
        return  # posted nowhere (no ideas channel then), so nothing to update
    text, blocks = _post(session, idea, workspace_url)
    update_message(session, key, of=post_key(idea), text=text, blocks=blocks, now=now)


def _post(session: Session, idea: Idea, workspace_url: str | None = None) -> Message:
    """The idea's post as it is now."""
    target = session.get(Idea, idea.merged_into_id) if idea.merged_into_id else None
    return messages.idea_post(
        idea,
        store.vote_count(session, idea.id),
        store.latest_change(session, idea.id),
        merged_here=store.merged_into(session, idea.id),
        target=target,
        target_link=post_link(session, target, workspace_url) if target else None,
    )


def _status_list() -> str:
    return ", ".join(f"`{s}`" for s in STATUSES)
