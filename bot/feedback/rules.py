"""The rules of feedback: asking, answering (possibly anonymously), reminders and expiry.

Anonymity is kept by forgetting: an anonymous answer clears the request's giver, and the DMs
that were sent to the giver about it are deleted from the outbox, so no table links them to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

import bot.feedback.blocks as messages
from bot.core.outbox import post_message, update_message
from bot.core.pseudonym import pseudonym
from bot.core.refusal import Refused
from bot.core.settings import Settings
from bot.core.slack_users import NotAnActivePerson, UserLookup, active_people
from bot.core.text import from_slack_formatted, leading_mentions, mention
from bot.home.rules import forget_home, home_changed
from storage import feedback as store
from storage import outbox as outbox_store
from storage.feedback import Feedback
from storage.outbox import claim_request, delete_messages

REMIND_AFTER = timedelta(days=2)
EXPIRE_AFTER = timedelta(days=14)
MAX_TOPIC_LENGTH = 300
ANONYMOUS_A_DAY = 3  # pieces of anonymous feedback nobody asked for, per person and day


class FeedbackRefused(Refused):
    """Feedback that cannot be asked for or given."""

    default_field = "went_well"


@dataclass(frozen=True)
class FeedbackAnswer:
    answers: dict[str, str]  # prompt id (messages.PROMPTS) → safe mrkdwn, "" when left blank
    anonymous: bool


def parse_request(text: str) -> tuple[list[str], str]:
    """`@ana @ben about the refund escalation` → reviewers, topic (safe mrkdwn)."""
    reviewers, rest = leading_mentions(text)
    topic = re.sub(r"^\s*about\b", "", rest, flags=re.IGNORECASE)
    return reviewers, re.sub(r"\s+", " ", from_slack_formatted(topic)).strip()


def request_feedback(
    session: Session,
    settings: Settings,
    lookup: UserLookup,
    *,
    requester_id: str,
    reviewer_ids: list[str],
    topic: str,
    request_key: str,
    now: datetime,
) -> list[Feedback]:
    """One request per reviewer, each DMed a button. Raises FeedbackRefused or DuplicateRequest."""
    if not reviewer_ids:
        raise FeedbackRefused(
            "Who should I ask? Mention one or more teammates: "
            "`/feedback request @ana @ben about the refund escalation`."
        )
    if requester_id in reviewer_ids:
        raise FeedbackRefused(
            "Asking yourself won't tell you anything new — ask the teammates who saw your work: "
            "`/feedback request @ana about …`."
        )
    if len(reviewer_ids) > settings.feedback_max_people and not settings.is_admin(requester_id):
        raise FeedbackRefused(
            f"One request can ask up to {settings.feedback_max_people} people, and this names "
            f"{len(reviewer_ids)}: ask the ones who saw the work most closely."
        )
    if len(topic) > MAX_TOPIC_LENGTH:
        raise FeedbackRefused(f"Please keep the topic under {MAX_TOPIC_LENGTH} characters.")
    check_people(lookup, reviewer_ids)

    claim_request(session, request_key, now)
    requests = [
        Feedback(
            about_id=requester_id,
            giver_id=reviewer,
            batch_key=request_key,
            topic=topic,
            requested=True,
            status="open",
            created_at=now,
        )
        for reviewer in reviewer_ids
    ]
    session.add_all(requests)
    session.flush()
    home_changed(session, *reviewer_ids)
    for request in requests:
        text, blocks = messages.request_dm(request, EXPIRE_AFTER.days)
        post_message(session, _ask_key(request.id), channel=request.giver_id, text=text, blocks=blocks, now=now)
    return requests


def check_people(lookup: UserLookup, user_ids: list[str]) -> None:
    try:
        active_people(lookup, user_ids, "feedback is for the people on the team.")
    except NotAnActivePerson as refusal:
        raise FeedbackRefused(refusal.reason) from None


def check_recipient(lookup: UserLookup, giver_id: str, mentioned: list[str]) -> str:
    """The one person `/feedback give` names."""
    if len(mentioned) != 1:
        raise FeedbackRefused("Name one teammate at a time: `/feedback give @ana`.")
    if mentioned == [giver_id]:
        raise FeedbackRefused(
            "Feedback is for someone else — to hear about your own work, try `/feedback request @teammate about …`."
        )
    check_people(lookup, mentioned)
    return mentioned[0]


def answerable_request(session: Session, request_id: int, user_id: str, now: datetime) -> Feedback:
    """The open request `user_id` was asked to answer, or FeedbackRefused saying why not."""
    request = session.get(Feedback, request_id)
    if request is None or not request.requested:
        raise FeedbackRefused("I can't find that feedback request any more.")
    if request.status == "answered":
        raise FeedbackRefused("This request has already been answered — thank you!")
    if request.status == "expired" or now - request.created_at >= EXPIRE_AFTER:
        raise FeedbackRefused(
            f"This request expired after {EXPIRE_AFTER.days} days. If you'd still like to share something, "
            "`/feedback give` works any time."
        )
    if request.giver_id != user_id:
        raise FeedbackRefused("This request was sent to someone else.")
    return request


def answer_request(
    session: Session, *, giver_id: str, request_id: int, answer: FeedbackAnswer, request_key: str, now: datetime
) -> Feedback:
    """Record the answer to a request and DM it to the requester. Raises FeedbackRefused or DuplicateRequest."""
    _check_answer(answer)
    claim_request(session, request_key, now)
    request = answerable_request(session, request_id, giver_id, now)
    kept_giver = None if answer.anonymous else giver_id
    if not store.mark_answered(session, request.id, kept_giver, answer.anonymous, now):
        raise FeedbackRefused("This request has already been answered — thank you!")
    if answer.anonymous:
        # Those DMs went to the giver: their channel is the giver's ID.
        delete_messages(session, [_ask_key(request.id), reminder_key(request.id)])
        forget_home(session, giver_id)
    else:
        home_changed(session, giver_id)
    _send_answer(session, request, kept_giver, answer, now)
    return request


def give_feedback(
    session: Session,
    settings: Settings,
    *,
    giver_id: str,
    about_id: str,
    answer: FeedbackAnswer,
    request_key: str,
    now: datetime,
) -> Feedback:
    """Record unrequested feedback and DM it to the person it is about (anonymous: ANONYMOUS_A_DAY a day)."""
    _check_answer(answer)
    if answer.anonymous:
        _count_anonymous(session, settings, giver_id, now)
    claim_request(session, request_key, now)
    kept_giver = None if answer.anonymous else giver_id
    feedback = Feedback(
        about_id=about_id,
        giver_id=kept_giver,
        requested=False,
        status="answered",
        anonymous=answer.anonymous,
        created_at=now,
        answered_at=now,
    )
    session.add(feedback)
    session.flush()
    _send_answer(session, feedback, kept_giver, answer, now)
    return feedback


def _count_anonymous(session: Session, settings: Settings, giver_id: str, now: datetime) -> None:
    day = now.astimezone(settings.timezone).date()
    given = store.count_anonymous_given(session, day, anonymous_giver_key(settings, giver_id, day))
    if given > ANONYMOUS_A_DAY:
        raise FeedbackRefused(
            f"You've sent {ANONYMOUS_A_DAY} pieces of anonymous feedback today, the most anyone can: "
            f"more can wait until tomorrow ({settings.timezone.key}), or go with your name "
            "(untick *Send anonymously*).",
            messages.ANONYMOUS,
        )


def anonymous_giver_key(settings: Settings, giver_id: str, day: date) -> str:
    """What the daily count of someone's anonymous feedback is kept under: an HMAC of who and which day,
    keyed by a secret that is not in the database (derived from the bot token), so the counts alone
    name nobody, and no count links to any feedback."""
    return pseudonym(settings, "anonymous feedback limit", f"{giver_id}\0{day.isoformat()}")


def hide_feedback(session: Session, _settings: Settings, number: int, now: datetime) -> str:
    """An admin hides feedback nobody asked for: its DM is edited to say so, and counts and exports
    leave it out from now on."""
    feedback = session.get(Feedback, number, execution_options={"include_hidden": True})
    if feedback is None:
        raise FeedbackRefused(f"There is no feedback #{number}.")
    if feedback.requested:
        raise FeedbackRefused(f"Feedback #{number} answered a request: only feedback nobody asked for can be hidden.")
    if feedback.hidden_at:
        raise FeedbackRefused(f"Feedback #{number} is hidden already.")
    feedback.hidden_at = now
    key = answer_key(feedback.id)
    if outbox_store.by_key(session, key) is not None:
        text, blocks = messages.hidden_dm()
        update_message(session, f"{key}:hidden", of=key, text=text, blocks=blocks, now=now)
    source = "anonymous" if feedback.anonymous else f"from {mention(feedback.giver_id)}"
    return f"feedback #{feedback.id} to {mention(feedback.about_id)} ({source})"


def report_feedback(session: Session, settings: Settings, *, feedback_id: int, reporter_id: str, now: datetime) -> None:
    """The person sent feedback nobody asked for tells the admins it is not OK (once); they can hide it.
    Raises FeedbackRefused or DuplicateRequest (reported already)."""
    feedback = session.get(Feedback, feedback_id)
    if feedback is None:
        raise FeedbackRefused("I can't find that feedback any more: an admin may have hidden it already.")
    if feedback.requested or feedback.about_id != reporter_id:
        raise FeedbackRefused("Only the person it was sent to can report feedback nobody asked for.")
    if not settings.admins:
        raise FeedbackRefused(
            "No Kaizen admins are set up to tell (KAIZEN_ADMINS): please tell whoever runs Kaizen in your team."
        )
    claim_request(session, f"feedback:{feedback.id}:report", now)
    text, blocks = messages.report_to_admins(feedback, now)
    for admin_id in sorted(settings.admins):
        key = f"feedback:{feedback.id}:report:{admin_id}"
        post_message(session, key, channel=admin_id, text=text, blocks=blocks, now=now)


def _check_answer(answer: FeedbackAnswer) -> None:
    if not any(answer.answers.values()):
        raise FeedbackRefused("Write at least one of the three — even one sentence helps.")


def _send_answer(session: Session, feedback: Feedback, giver_id: str | None, answer: FeedbackAnswer, now: datetime):
    text, blocks = messages.answer_dm(feedback, giver_id, answer.answers)
    # The text is not kept once delivered: the outbox row keeps only where the DM went.
    key = answer_key(feedback.id)
    post_message(session, key, channel=feedback.about_id, text=text, blocks=blocks, now=now, private=True)


def answer_key(feedback_id: int) -> str:
    return f"feedback:{feedback_id}:answer"


def _ask_key(request_id: int) -> str:
    return f"feedback:{request_id}:ask"


def reminder_key(request_id: int) -> str:
    return f"feedback:{request_id}:reminder"
