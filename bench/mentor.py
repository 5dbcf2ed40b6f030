"""Mentor matching for 2,000 people and 20 skills: the matching alone, then the whole job.

    .venv/bin/python -m bench.mentor [PEOPLE] [SKILLS]

The matching (bot.mentor.matching.match_round) is timed on three teams: many mentors, few, and
very few (most learners left out: the hardest case for a maximum matching), each for a first
round and for the round after it, which must avoid last round's pairs. Skills are wanted and
offered unevenly, as in a real team (a few popular ones, a long tail). Then the mentor-matching
job's work on SQLite (and PostgreSQL when reachable): reading the lists, matching, writing the
pairs and their messages, then also rebuilding the Home tab of everyone paired (all rolled back;
sending is the outbox's, see bench.fanout).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, date, datetime

from sqlalchemy import Engine, insert

from bench import databases
from bot.core.context import Run, build_context
from bot.core.settings import load_settings
from bot.features import FEATURES
from bot.home.rules import publish_stale_homes
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


def timed(work) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(RUNS):
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


def bench_job(engine: Engine, people: int, skills: int) -> None:
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
    ctx = build_context(load_settings(base_env()), FEATURES, engine=engine)
    job = ctx.jobs["mentor-matching"]

    def run(then_homes: bool) -> list[str]:
        with ctx.session_factory() as session, session.begin() as transaction:
            lines = job.work(ctx, session, Run(NOW, "2026-W47", 1))
            session.flush()
            if then_homes:
                publish_stale_homes(session, ctx)
            transaction.rollback()
        return lines

    job_ms, lines = timed(lambda: run(False))
    with_homes_ms, _ = timed(lambda: run(True))
    print(
        f"  {engine.dialect.name}: the job's work {job_ms:.0f} ms ({lines[-1]}); "
        f"with the Home tabs of everyone paired {with_homes_ms:.0f} ms",
        flush=True,
    )


def main(people: int = 2_000, skills: int = 20) -> None:
    print(f"{people:,} people, {skills} skills; median of {RUNS} runs")
    bench_matching(people, skills)
    for engine in databases.each():
        bench_job(engine, people, skills)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
