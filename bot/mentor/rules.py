"""The rules of mentoring: the skills people offer and want, rounds, and answers to "Did you meet?"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

import bot.mentor.blocks as messages
from bot.core.outbox import update_message
from bot.core.refusal import Refused
from bot.core.settings import Settings
from bot.core.text import escape
from bot.home.rules import home_changed
from storage import mentor as store
from storage.mentor import OFFER, WANT, MentorPair
from storage.outbox import claim_request

MAX_SKILLS = 10  # in each list: a longer one is a wish list, not a match
MAX_SKILL_LENGTH = 40
ROUNDS_FROM = date(2024, 1, 1)  # a Monday: round weeks are counted from it, every KAIZEN_MENTOR_EVERY_WEEKS
SKILL = re.compile(r"[a-z0-9][a-z0-9_-]*")
# A word, or a whole <…> token: Slack sends `#billing` as `<#C123|billing>` when a channel has that name.
_TOKEN = re.compile(r"<[^<>]*>|[^\s,]+")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+(?:\|([^<>]*))?>")
DOING = {OFFER: "offer", WANT: "want to learn"}  # a person's two lists, as replies name them
LIST_FIELD = {OFFER: messages.OFFERS, WANT: messages.WANTS}  # the form's input for each list


class MentorRefused(Refused):
    """A /mentor request that cannot be done; nothing was stored."""


@dataclass(frozen=True)
class Overview:
    """What `/mentor list` and the Home tab show a person."""

    offers: list[str]
    wants: list[str]
    this_round: date | None  # the round under way (the latest matched), if any
    pairs: list[MentorPair]  # theirs in it, as mentor or learner
    next_matching: datetime


def parse_skills(text: str, known: tuple[str, ...], field: str | None = None) -> list[str]:
    """`#billing <#C1|de-escalation> coaching` → ["billing", "de-escalation", "coaching"].

    Skills are #tags; a bare word is taken only when it is one of KAIZEN_SKILLS, so
    `/mentor offer #billing and #coaching` does not offer "and".
    """
    skills = []
    for token in _TOKEN.findall(text):
        channel = _CHANNEL.fullmatch(token)
        if channel:
            name = channel[1] or ""
        elif token.startswith("#"):
            name = token[1:]
        elif token.lower().strip(".;:!") in known:
            name = token
        else:
            raise MentorRefused(
                f"I read skills as #tags, and `{escape(token)}` isn't one. For example: "
                "`/mentor offer #billing #de-escalation`.",
                field,
            )
        name = name.lower().strip(".;:!")
        if not SKILL.fullmatch(name):
            raise MentorRefused(
                f"`{escape(token)}` isn't a skill I can read: use letters, digits and dashes, like `#written-tone`.",
                field,
            )
        if len(name) > MAX_SKILL_LENGTH:
            raise MentorRefused(f"Please keep each skill under {MAX_SKILL_LENGTH} characters.", field)
        skills.append(name)
    return list(dict.fromkeys(skills))


def add_skills(session: Session, user_id: str, role: str, skills: list[str], now: datetime) -> list[str]:
    """Add skills `user_id` can teach (role OFFER) or wants to learn (WANT); returns those that are new."""
    if not skills:
        raise MentorRefused(f"Which skills? For example: `/mentor {role} #billing #de-escalation`.")
    other = WANT if role == OFFER else OFFER
    _check_not_in(skills, store.skills_of(session, user_id, other), DOING[other], messages.WANTS)
    _check_size(set(skills) | set(store.skills_of(session, user_id, role)), DOING[role], LIST_FIELD[role])
    added = store.add_skills(session, user_id, role, skills, now)
    home_changed(session, user_id)
    return added


def save_skills(session: Session, user_id: str, offers: list[str], wants: list[str], now: datetime) -> None:
    """The form: both whole lists at once."""
    _check_not_in(wants, offers, DOING[OFFER], messages.WANTS)
    _check_size(set(offers), DOING[OFFER], messages.OFFERS)
    _check_size(set(wants), DOING[WANT], messages.WANTS)
    store.set_skills(session, user_id, OFFER, offers, now)
    store.set_skills(session, user_id, WANT, wants, now)
    home_changed(session, user_id)


def stop(session: Session, user_id: str, skills: list[str]) -> int:
    """Take skills (none named: all of them) off both of a person's lists; how many were there."""
    removed = store.remove_skills(session, user_id, skills or None)
    home_changed(session, user_id)
    return removed


def mentors_offering(session: Session, skill: str) -> list[str]:
    """Who offers `skill` now (user IDs): for anyone stuck who would like to ask a mentor."""
    return store.offering(session, skill.strip().lstrip("#").lower())


def nobody_else_offers(session: Session, user_id: str, skills: list[str]) -> list[str]:
    return [skill for skill in skills if not set(store.offering(session, skill)) - {user_id}]


def overview(session: Session, settings: Settings, user_id: str, now: datetime) -> Overview:
    latest = store.latest_round(session)
    return Overview(
        offers=store.skills_of(session, user_id, OFFER),
        wants=store.skills_of(session, user_id, WANT),
        this_round=latest,
        pairs=list(store.pairs_of(session, user_id, latest)) if latest else [],
        next_matching=next_matching(settings, now),
    )


def answer_follow_up(
    session: Session, *, pair_id: int, user_id: str, answer: str, request_key: str, now: datetime
) -> MentorPair:
    """Keep the pair's answer to "Did you meet?"; a later answer replaces an earlier one (Not yet,
    then Yes). Raises MentorRefused or DuplicateRequest."""
    if answer not in messages.ANSWERS:
        raise MentorRefused("I don't know that answer.")
    pair = store.lock_pair(session, pair_id)
    if pair is None or user_id not in (pair.mentor_id, pair.learner_id):
        # Only the two of them see the question: anyone else's answer is forged, and learns nothing.
        raise MentorRefused("I can't find that mentoring pair any more.")
    claim_request(session, request_key, now)
    if pair.answer != answer:
        pair.answer, pair.answered_by, pair.answered_at = answer, user_id, now
        home_changed(session, pair.mentor_id, pair.learner_id)  # it shows whether they met
        text, blocks = messages.follow_up(pair)
        update_message(
            session, f"{follow_up_key(pair)}:{request_key}", of=follow_up_key(pair), text=text, blocks=blocks, now=now
        )
    return pair


def follow_up_key(pair: MentorPair) -> str:
    return f"mentor:pair:{pair.id}:follow-up"


# --- rounds -----------------------------------------------------------------------------------
def round_of(day: date, every_weeks: int) -> date:
    """The Monday the round `day` falls in started (in its first week or a later one)."""
    monday = day - timedelta(days=day.weekday())
    return monday - timedelta(weeks=(monday - ROUNDS_FROM).days // 7 % every_weeks)


def round_starting(day: date, every_weeks: int) -> date | None:
    """The Monday of `day`'s week when a round starts that week, else None."""
    start = round_of(day, every_weeks)
    return start if start == day - timedelta(days=day.weekday()) else None


def next_matching(settings: Settings, now: datetime) -> datetime:
    """When the next round is matched, after `now`."""
    local = now.astimezone(settings.timezone)
    at = settings.mentor_match_at
    monday = local.date() - timedelta(days=local.weekday())
    while True:
        if round_starting(monday, settings.mentor_every_weeks):
            moment = datetime.combine(monday + timedelta(days=at.weekday), at.at, tzinfo=settings.timezone)
            if moment > local:
                return moment
        monday += timedelta(weeks=1)


def _check_not_in(skills: list[str], others: list[str], other_verb: str, field: str) -> None:
    both = [skill for skill in skills if skill in others]
    if both:
        raise MentorRefused(
            f"You {other_verb} {messages.skill_list(both)} already: one person can't be on both sides of a "
            f"skill. `/mentor stop {' '.join('#' + s for s in both)}` first if that has changed.",
            field,
        )


def _check_size(skills: set[str], verb: str, field: str) -> None:
    if len(skills) > MAX_SKILLS:
        raise MentorRefused(
            f"That would make {len(skills)} skills you {verb}; please keep it to {MAX_SKILLS} "
            "so a match means something.",
            field,
        )
