"""The rules of lessons: sharing one, Useful votes, and the promotion that makes a lesson a tip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

import bot.lessons.blocks as messages
from bot.core.daily_posts import count_post
from bot.core.outbox import post_message, update_message
from bot.core.refusal import Refused
from bot.core.settings import Settings
from bot.core.text import escape, to_plain
from bot.home.rules import home_changed
from bot.tips.rules import parse_new_tip, queue_tip, themes
from storage import lessons as store
from storage import outbox as outbox_store
from storage.lessons import Lesson, LessonVote
from storage.outbox import claim_request
from storage.tips import Tip

MAX_LESSON_LENGTH = 500  # characters as typed
LIST_LIMIT = 15


class LessonRefused(Refused):
    """A lesson, vote or promotion that cannot be made."""

    default_field = "text"


@dataclass(frozen=True)
class LessonDraft:
    text: str  # safe mrkdwn
    theme: str | None = None
    anonymous: bool = False


@dataclass(frozen=True)
class VoteOutcome:
    lesson: Lesson
    voted: bool  # False: the vote was withdrawn
    votes: int
    tip: Tip | None  # the tip this vote made of the lesson


def parse_command_text(text: str) -> LessonDraft:
    """`Repeat the order number back #active-listening` → the lesson and its theme."""
    body, theme = parse_new_tip(text)
    return LessonDraft(body, theme)


def share_lesson(
    session: Session, settings: Settings, *, author_id: str, draft: LessonDraft, request_key: str, now: datetime
) -> Lesson:
    """Record the lesson and owe Slack its post in the lessons channel.

    An anonymous lesson keeps no trace of `author_id`. Raises LessonRefused (nothing written) or
    DuplicateRequest (a retry of a recorded request).
    """
    typed = to_plain(draft.text)
    if not typed.strip():
        raise LessonRefused(
            "What did you learn? For example: `/lesson Repeat the order number back before you refund "
            "#active-listening`."
        )
    if len(typed) > MAX_LESSON_LENGTH:
        raise LessonRefused(
            f"That lesson has {len(typed)} characters; please keep it to {MAX_LESSON_LENGTH}, "
            "the length of a tip people read in one go."
        )
    if draft.theme is not None and draft.theme not in themes():
        raise LessonRefused(
            f"I don't know the theme `#{escape(draft.theme)}`. Pick one of: "
            f"{', '.join('#' + t for t in themes())}, or leave it out.",
            "theme",
        )
    count_post(session, settings, author_id, now, LessonRefused)
    claim_request(session, request_key, now)
    lesson = Lesson(
        text=draft.text, theme=draft.theme, author_id=None if draft.anonymous else author_id, created_at=now
    )
    session.add(lesson)
    session.flush()
    if lesson.author_id:
        home_changed(session, lesson.author_id)
    if settings.lessons_channel:
        text, blocks = messages.lesson_post(lesson, 0, settings.lesson_promote_votes)
        post_message(session, post_key(lesson), channel=settings.lessons_channel, text=text, blocks=blocks, now=now)
    return lesson


def post_key(lesson: Lesson) -> str:
    return f"lesson:{lesson.id}:post"


def toggle_vote(
    session: Session, settings: Settings, *, lesson_id: int, voter_id: str, request_key: str, now: datetime
) -> VoteOutcome:
    """Find the lesson useful, or withdraw that vote; the vote that brings it to
    KAIZEN_LESSON_PROMOTE_VOTES makes it a tip. The lesson stays locked until commit, so
    simultaneous votes count one after another and exactly one of them promotes it.
    Withdrawing a vote later leaves it a tip."""
    lesson = _locked_lesson(session, lesson_id)
    if lesson.author_id == voter_id:
        raise LessonRefused("That's your own lesson: let your teammates say whether it helped them.")
    claim_request(session, request_key, now)
    vote = store.find_vote(session, lesson.id, voter_id)
    if vote is None:
        session.add(LessonVote(lesson_id=lesson.id, voter_id=voter_id, created_at=now))
    else:
        session.delete(vote)
    session.flush()
    votes = store.vote_count(session, lesson.id)
    tip = None
    if vote is None and lesson.tip_id is None and votes >= settings.lesson_promote_votes:
        tip = _promote(session, settings, lesson, by=None, now=now)
    _refresh_post(session, settings, lesson, votes, f"lesson:{lesson.id}:update:{request_key}", now)
    if lesson.author_id:
        home_changed(session, lesson.author_id)
    return VoteOutcome(lesson, vote is None, votes, tip)


def promote_lesson(
    session: Session, settings: Settings, *, by: str, argument: str, request_key: str, now: datetime
) -> tuple[Lesson, Tip]:
    """`/lesson promote N`: an admin makes a lesson a tip without waiting for votes."""
    if not settings.is_admin(by):
        raise LessonRefused(
            f"Only admins can make a lesson a tip at once. Any lesson becomes one with "
            f"{settings.lesson_promote_votes} Useful votes."
        )
    number = argument.strip().lstrip("#")
    if not number.isdigit():
        raise LessonRefused("Say which lesson by its number: `/lesson promote 12` (`/lesson list` shows them).")
    lesson = _locked_lesson(session, int(number))
    if lesson.tip_id is not None:
        raise LessonRefused(f"Lesson #{lesson.id} is already tip {lesson.tip_id}.")
    claim_request(session, request_key, now)
    tip = _promote(session, settings, lesson, by=by, now=now)
    _refresh_post(session, settings, lesson, store.vote_count(session, lesson.id), f"lesson:{lesson.id}:promoted", now)
    return lesson, tip


def list_lessons(session: Session) -> tuple[list[tuple[Lesson, int]], int]:
    return store.newest(session, LIST_LIMIT)


def _promote(session: Session, settings: Settings, lesson: Lesson, *, by: str | None, now: datetime) -> Tip:
    """Make the lesson the next tip, credited to its author, and tell them (once: a lesson with a tip
    is never promoted again)."""
    tip = queue_tip(
        session,
        settings,
        text=lesson.text,
        theme=lesson.theme,
        credit=messages.credit(lesson),
        added_by=by,
        now=now,
    )
    lesson.tip_id, lesson.promoted_at, lesson.promoted_by = tip.id, now, by
    if lesson.author_id:
        home_changed(session, lesson.author_id)
        text, blocks = messages.promoted_dm(lesson, tip)
        post_message(
            session, f"lesson:{lesson.id}:promoted:dm", channel=lesson.author_id, text=text, blocks=blocks, now=now
        )
    return tip


def _locked_lesson(session: Session, lesson_id: int) -> Lesson:
    # A number past the integer column's range is no lesson (PostgreSQL would refuse the query).
    lesson = store.lock_lesson(session, lesson_id) if lesson_id < 2**31 else None
    if lesson is None:
        raise LessonRefused(f"There is no lesson #{lesson_id}. `/lesson list` shows the latest ones.")
    return lesson


def _refresh_post(session: Session, settings: Settings, lesson: Lesson, votes: int, key: str, now: datetime) -> None:
    if outbox_store.by_key(session, post_key(lesson)) is None:
        return  # posted nowhere (no lessons channel then), so nothing to update
    text, blocks = messages.lesson_post(lesson, votes, settings.lesson_promote_votes)
    update_message(session, key, of=post_key(lesson), text=text, blocks=blocks, now=now)
