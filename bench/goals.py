"""Growth goals for 10,000 people: the goal-checkins job's work, and goals' parts of the weekly
celebration and the lead digest, on SQLite (and PostgreSQL when reachable).

    .venv/bin/python -m bench.goals [PEOPLE]

Each person has 1 to 5 open goals (a third shared with the lead) with 3 milestones, a few weeks of
weekly progress on most of them, and some progress this week, so some people are skipped. Each
part is timed on its own transaction, rolled back (sending is the outbox's, see bench.fanout).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select

from bench import databases
from bot.cli import freeze_start_up
from bot.core.context import Run, build_context
from bot.core.parts import EVERYONE
from bot.core.settings import load_settings
from bot.features import FEATURES
from bot.goals.reports import digest_part, week_part
from bot.weekly.digest import digest_window
from storage.goals import Goal, GoalMilestone, GoalProgress
from tests.conftest import base_env

PARIS = ZoneInfo("Europe/Paris")
CHECKIN = datetime(2026, 11, 18, 15, 0, tzinfo=PARIS)
RUNS = 5


def fill(engine: Engine, people: int, seed: int = 1) -> tuple[int, int]:
    rng = random.Random(seed)
    goals = []
    for person in range(people):
        for number in range(1, rng.randint(1, 5) + 1):
            goals.append(
                {
                    "owner_id": f"U{person:07d}",
                    "number": number,
                    "title": f"Get better at skill {rng.randint(1, 50)} with some words of context",
                    "why": "",
                    "shared": rng.random() < 1 / 3,
                    "status": "open",
                    "created_at": CHECKIN - timedelta(weeks=rng.randint(1, 12)),
                }
            )
    with engine.begin() as connection:
        connection.execute(insert(Goal), goals)
        ids = list(connection.scalars(select(Goal.id)))
        connection.execute(
            insert(GoalMilestone),
            [{"goal_id": goal, "position": n, "text": f"Step {n}"} for goal in ids for n in (1, 2, 3)],
        )
        progress = [
            {"goal_id": goal, "note": "Tried it on two calls", "created_at": CHECKIN - timedelta(weeks=week, days=1)}
            for goal in ids
            for week in range(rng.randint(0, 4))  # week 0: this week's Tuesday
        ]
        connection.execute(insert(GoalProgress), progress)
    return len(ids), len(progress)


def timed(engine: Engine, work) -> tuple[float, object]:
    seconds, result = [], None
    # As in the kaizen process that runs the job: what start-up built is left out of full collections.
    ctx = freeze_start_up(build_context(load_settings(base_env()), FEATURES, engine=engine))
    for _ in range(RUNS):
        with ctx.session_factory() as session, session.begin() as transaction:
            started = time.perf_counter()
            result = work(ctx, session)
            session.flush()
            seconds.append(time.perf_counter() - started)
            transaction.rollback()
    return statistics.median(seconds) * 1000, result


def bench(engine: Engine, people: int) -> None:
    goals, progress = fill(engine, people)
    job = build_context(load_settings(base_env()), FEATURES, engine=engine).jobs["goal-checkins"]
    job_ms, lines = timed(engine, lambda ctx, session: job.work(ctx, session, Run(CHECKIN, "2026-W47", 1)))
    friday = CHECKIN + timedelta(days=2, hours=1)
    week = (friday - timedelta(days=7), friday)
    week_ms, _ = timed(engine, lambda ctx, session: week_part(session, ctx.settings, week, EVERYONE))
    window = digest_window(CHECKIN + timedelta(days=4, hours=-6), PARIS)
    digest_ms, _ = timed(engine, lambda ctx, session: digest_part(session, ctx.settings, window, [EVERYONE]))
    print(
        f"  {engine.dialect.name}: {goals:,} goals, {progress:,} check-ins with progress. "
        f"goal-checkins {job_ms:.0f} ms ({lines[-1]}); celebration part {week_ms:.0f} ms; "
        f"digest part {digest_ms:.0f} ms",
        flush=True,
    )


def main(people: int = 10_000) -> None:
    print(f"{people:,} people; median of {RUNS} runs")
    for engine in databases.each():
        bench(engine, people)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:2]))
