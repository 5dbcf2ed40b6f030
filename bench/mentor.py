"""Mentor matching for 2,000 people and 20 skills: the matching alone, then the whole job.

    .venv/bin/python -m bench.mentor [PEOPLE] [SKILLS]

The matching (bot.mentor.matching.match_round) is timed on three teams: many mentors, few, and
very few (most learners left out: the hardest case for a maximum matching), each for a first
round and for the round after it, which must avoid last round's pairs. Skills are wanted and
offered unevenly, as in a real team (a few popular ones, a long tail). Then the mentor-matching
job's transaction on SQLite (and PostgreSQL when reachable): reading the lists, matching, writing the
pairs and their messages and a row owing the Home tab of everyone paired (rolled back); then the
building of those Home views, which the outbox does after the commit as it sends each (sending
itself: see bench.fanout). 10,000 people give about 2,000 pairs.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, date, datetime

from sqlalchemy import Engine, insert

from bench import databases
from bot.cli import freeze_start_up
from bot.core.context import Run, build_context
from bot.core.settings import load_settings
from bot.features import FEATURES
from bot.home.rules import HOME_BUILDER, STALE_HOMES, owe_stale_homes
from bot.mentor.matching import match_round
from storage.mentor import MentorPair, MentorSkill
from tests.conftest import base_env

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris, a round's first day
RUNS = 5


def team(people: int, skills: int, offer_share: float, seed: int = 1):
    rng = random.Random(seed)
    names = [f"U{n:07d}" for n in range(people)]
    tags = [f"skill-{n:02d}" for n in range(skills)]
    popularity = [1 / (rank + 1) for rank in range(skills)]
    offers, wants = {}, {}
    for name in names:
        if rng.random() < offer_share:
            offers[name] = set(rng.choices(tags, popularity, k=rng.randint(1, 3)))
        if rng.random() < 0.6:
            wants[name] = set(rng.choices(tags, popularity, k=rng.randint(1, 2))) - offers.get(name, set())
    return offers, {name: skills for name, skills in wants.items() if skills}


def timed(work, runs: int = RUNS) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1000, result


def bench_matching(people: int, skills: int) -> None:
    for label, share in (("many mentors", 0.4), ("few mentors", 0.1), ("very few mentors", 0.03)):
        offers, wants = team(people, skills, share)
        first_ms, first = timed(lambda: match_round(offers, wants))  # noqa: B023 (called at once)
        previous = {pair.learner: pair.mentor for pair in first}
        next_ms, following = timed(lambda: match_round(offers, wants, previous))  # noqa: B023
        repeats = sum(previous.get(pair.learner) == pair.mentor for pair in following)
        print(
            f"  {label}: {len(offers):,} mentors, {len(wants):,} learners → {len(first):,} pairs in "
            f"{first_ms:.0f} ms; next round {len(following):,} pairs ({repeats} repeats) in {next_ms:.0f} ms",
            flush=True,
        )


def seed(engine: Engine, people: int, skills: int) -> None:
    """The skills of a team, and last round's pairs (which this round must not repeat)."""
    offers, wants = team(people, skills, 0.1)
    rows = [
        {"user_id": user, "role": role, "skill": skill, "added_at": NOW}
        for role, lists in (("offer", offers), ("want", wants))
        for user, tags in lists.items()
        for skill in tags
    ]
    previous = match_round(offers, wants)
    with engine.begin() as connection:
        connection.execute(insert(MentorSkill), rows)
        connection.execute(
            insert(MentorPair),
            [
                {
                    "round": date(2026, 11, 2),
                    "mentor_id": pair.mentor,
                    "learner_id": pair.learner,
                    "skill": pair.skill,
                    "created_at": NOW,
                    "follow_up_on": date(2026, 11, 9),
                }
                for pair in previous
            ],
        )


def bench_job(engine: Engine, people: int, skills: int) -> None:
    seed(engine, people, skills)
    # As in the kaizen process that runs the job: what start-up built is left out of full collections.
    ctx = freeze_start_up(build_context(load_settings(base_env()), FEATURES, engine=engine))
    job = ctx.jobs["mentor-matching"]

    def transaction() -> tuple[list[str], list[str]]:
        """The job's transaction: its work, then what its commit adds (a row owing each Home tab it changed)."""
        with ctx.session_factory() as session, session.begin() as transaction:
            lines = job.work(ctx, session, Run(NOW, "2026-W47", 1))
            stale = sorted(session.info.get(STALE_HOMES, ()))
            owe_stale_homes(session, ctx)
            session.flush()
            transaction.rollback()
        return lines, stale

    def build_views(people: list[str]) -> None:
        """What the outbox does after the commit, one view at a time as it sends each."""
        with ctx.session_factory() as session:
            for person in people:
                ctx.outbox.builders[HOME_BUILDER](session, {"user_id": person})

    transaction_ms, (lines, stale) = timed(transaction)
    views_ms, _ = timed(lambda: build_views(stale), runs=1)  # seconds long: one run is enough
    print(
        f"  {engine.dialect.name}: the job's transaction {transaction_ms:.0f} ms ({lines[-1]}; "
        f"{len(stale):,} Home tabs owed); then, at send time, building those views {views_ms:.0f} ms",
        flush=True,
    )


def main(people: int = 2_000, skills: int = 20) -> None:
    print(f"{people:,} people, {skills} skills; median of {RUNS} runs")
    bench_matching(people, skills)
    for engine in databases.each():
        bench_job(engine, people, skills)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
