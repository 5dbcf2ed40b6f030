"""The mentoring jobs: matching a round every KAIZEN_MENTOR_EVERY_WEEKS weeks, and "Did you meet?"
a week later.

mentor-matching runs every week at KAIZEN_MENTOR_MATCH_AT and matches only in the first week of
a round (weeks counted from rules.ROUNDS_FROM); its period is the week, so a round is claimed
once. A forced run of the same round pairs only the learners not paired yet, within the mentors'
places left, so it never pairs anyone twice; forced in a week no round starts, it does that for
the round under way (an admin trying it right after set-up gets pairs at once).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

import bot.mentor.blocks as messages
from bot.core.context import Context, Job, Run
from bot.core.jobs import daily, weekly, weekly_schedule
from bot.core.outbox import Outgoing, enqueue_all, message_to, message_to_group, post_to_group
from bot.core.text import plural
from bot.directory.jobs import MEMBER_DIRECTORY
from bot.home.rules import home_changed
from bot.mentor.matching import LEARNERS_PER_MENTOR, match_round
from bot.mentor.rules import follow_up_key, next_matching, round_of, round_starting
from storage import mentor as store
from storage.mentor import OFFER, WANT, MentorPair

FOLLOW_UP_AFTER = timedelta(weeks=1)


def match_mentors(ctx: Context, session: Session, run: Run) -> list[str]:
    settings, now = ctx.settings, run.now
    local = now.astimezone(settings.timezone)
    next_at = next_matching(settings, local)
    round_ = round_starting(local.date(), settings.mentor_every_weeks)
    lines = []
    if round_ is None:
        if not run.forced:
            return [f"no round this week: the next one is matched {messages.when(next_at)}"]
        # Asked for (right after set-up, say): the round under way pairs whoever is not paired yet, now.
        round_ = round_of(local.date(), settings.mentor_every_weeks)
        lines.append(f"no round starts this week: forced, so matching now for the round of {messages.day(round_)}")
    store.round_matched(session, round_, now)  # the round under way from now on, even if it pairs nobody
    offers, wants, previous, spare = _round_inputs(session, round_)
    pairs = match_round(offers, wants, previous, spare)
    follow_up_on = local.date() + FOLLOW_UP_AFTER
    rows = store.add_pairs(  # with their IDs, for the keys and buttons
        session,
        round_,
        [
            {"mentor_id": pair.mentor, "learner_id": pair.learner, "skill": pair.skill, "follow_up_on": follow_up_on}
            for pair in pairs
        ],
        local,
    )
    enqueue_all(session, [_introduction(row, next_at) for row in rows], now)
    lines += [f"{row.mentor_id} mentors {row.learner_id} in #{row.skill}" for row in rows]
    home_changed(session, *(person for pair in pairs for person in (pair.mentor, pair.learner)))
    unmatched = sorted(set(wants) - {pair.learner for pair in pairs})
    told = _tell_unmatched(session, run.key, round_, offers, wants, next_at, now)
    lines.append(
        f"round of {messages.day(round_)}: {plural(len(pairs), 'new pair', 'new pairs')}, "
        f"{plural(len(unmatched), 'learner', 'learners')} without a mentor ({told} told why)"
    )
    return lines


def _round_inputs(session: Session, round_: date) -> tuple[dict, dict, dict, dict]:
    """Offers, wants, last round's mentor of each learner, and places left: a forced run of the
    same round pairs only learners not paired yet, within what their mentors have left."""
    already = store.pairs_of_round(session, round_)
    paired = {pair.learner_id for pair in already}
    taken = Counter(pair.mentor_id for pair in already)
    wants = {user: skills for user, skills in store.everyone_skills(session, WANT).items() if user not in paired}
    earlier = store.round_before(session, round_)
    previous = {pair.learner_id: pair.mentor_id for pair in store.pairs_of_round(session, earlier)} if earlier else {}
    spare = {mentor: LEARNERS_PER_MENTOR - n for mentor, n in taken.items()}
    return store.everyone_skills(session, OFFER), wants, previous, spare


def _tell_unmatched(
    session: Session,
    run_key: str,
    round_: date,
    offers: dict[str, set[str]],
    wants: dict[str, set[str]],
    next_at: datetime,
    now: datetime,
) -> int:
    """Tell each learner left without a mentor why, once (a new want makes them hear it again, in a
    forced run of the same round too: hence the run's key)."""
    offered_by: dict[str, set[str]] = {}
    for mentor, skills in offers.items():
        for skill in skills:
            offered_by.setdefault(skill, set()).add(mentor)
    untold = sorted(store.untold_unpaired(session, round_, now) & wants.keys())
    told, said = [], {}  # thousands of learners, a few hundred different messages: each built once
    for learner in untold:
        nobody = tuple(sorted(skill for skill in wants[learner] if offered_by.get(skill, set()) <= {learner}))
        others = tuple(sorted(wants[learner] - set(nobody)))
        if (nobody, others) not in said:
            said[nobody, others] = messages.unmatched(list(nobody), list(others), next_at)
        text, blocks = said[nobody, others]
        told.append(message_to(learner, f"mentor:{run_key}:unmatched:{learner}", text=text, blocks=blocks))
    enqueue_all(session, told, now)
    store.mark_unpaired_told(session, round_, now)
    return len(untold)


def _introduction(pair: MentorPair, next_at: datetime) -> Outgoing:
    text, blocks = messages.introduction(pair, next_at)
    users = [pair.mentor_id, pair.learner_id]
    return message_to_group(users, f"mentor:pair:{pair.id}:intro", text=text, blocks=blocks)


def send_follow_ups(ctx: Context, session: Session, run: Run) -> list[str]:
    """Ask each pair made a week ago or more, and not asked yet, "Did you meet?" (once)."""
    now = run.now
    lines = []
    for pair in store.due_follow_ups(session, now.astimezone(ctx.settings.timezone).date()):
        pair.followed_up_at = now
        text, blocks = messages.follow_up(pair)
        post_to_group(
            session, follow_up_key(pair), users=[pair.mentor_id, pair.learner_id], text=text, blocks=blocks, now=now
        )
        lines.append(f"asked {pair.mentor_id} and {pair.learner_id} whether they met")
    return lines


MENTOR_MATCHING = Job(
    name="mentor-matching",
    work=match_mentors,
    period=weekly,
    schedule=lambda s: weekly_schedule(s.mentor_match_at),
    reads=(MEMBER_DIRECTORY.name,),  # people deactivated are not matched
)
MENTOR_FOLLOW_UPS = Job(
    name="mentor-follow-ups",
    work=send_follow_ups,
    period=daily,
    schedule=lambda s: {"hour": s.mentor_match_at.at.hour, "minute": s.mentor_match_at.at.minute},
)
