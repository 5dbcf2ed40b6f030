"""The lead digest and the weekly celebration on a big history: 10,000 people, 1,000,000 kudos.

    .venv/bin/python -m bench.digest [KUDOS] [PEOPLE] [TEAMS]

Seeds SQLite (and PostgreSQL when reachable) in bulk, at a steady 10,000 kudos a week going
back from now — so 100,000 kudos are ten weeks of history and 1,000,000 two years — then
times both jobs as dry runs (queries, messages and the charts; nothing kept) at 100,000 kudos
and at the full count. A week's work stays the same size as history grows: with the indexes
the time should stay flat.

With TEAMS (say 40), the people are split into that many teams, each made from a user group and
led by a lead of its own, beside 2 org-wide leads: the digest job then builds an org-wide digest
with a line per team and a digest (and a chart) for each team lead.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, text

from bench import databases
from bot.core.context import build_context
from bot.core.jobs import run_job
from bot.core.settings import load_settings
from bot.features import FEATURES
from storage.kudos import Kudos
from storage.models import Member
from storage.teams import Team, TeamGroup, TeamLead, UserGroup, UserGroupMember
from tests.conftest import base_env

KUDOS_PER_WEEK = 10_000
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday, 16:00 in Paris
CHUNK = 50_000


def kudos_rows(start: int, stop: int, people: int):
    """Kudos number n, n seconds·(week / KUDOS_PER_WEEK) before NOW; 5% of people never receive any."""
    rng = random.Random(start)
    step = timedelta(days=7) / KUDOS_PER_WEEK
    values = ["teamwork", "ownership", "learning", "customer-first", "growth-mindset"]
    for n in range(start, stop):
        yield {
            "batch_key": f"bench:{n}",
            "giver_id": f"U{rng.randrange(people):07d}",
            "recipient_id": f"U{rng.randrange(people * 95 // 100):07d}",
            "message": "thanks for staying late to clear the queue",
            "values": " ".join(rng.sample(values, rng.randrange(3))),
            "source": "command",
            "created_at": NOW - n * step,
        }


def seed(engine: Engine, start: int, stop: int, people: int) -> None:
    rows = kudos_rows(start, stop, people)
    if engine.dialect.name == "postgresql":
        columns = ["batch_key", "giver_id", "recipient_id", "message", "values", "source", "created_at"]
        with engine.begin() as connection:
            cursor = connection.connection.cursor()
            quoted = ", ".join(f'"{c}"' for c in columns)
            with cursor.copy(f"COPY kudos ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    row["created_at"] = row["created_at"].replace(tzinfo=None)  # naive UTC, as UTCDateTime stores
                    copy.write_row([row[c] for c in columns])
        # As autovacuum leaves a table in use: statistics, and the visibility map index-only scans rely on.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE kudos"))
        return
    while chunk := [row for _, row in zip(range(CHUNK), rows, strict=False)]:
        with engine.begin() as connection:
            connection.execute(insert(Kudos), chunk)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def seed_people(engine: Engine, people: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(Member),
            [{"user_id": f"U{n:07d}", "name": f"agent {n}", "first_seen_at": NOW} for n in range(people)],
        )


def seed_teams(engine: Engine, people: int, teams: int) -> None:
    """`teams` teams of equal size, each from a user group, each with a lead of its own (UL000000…)."""
    size = people // teams
    with engine.begin() as connection:
        connection.execute(
            insert(UserGroup),
            [{"id": f"S{n:04d}", "handle": f"team-{n}", "name": f"Team {n}", "synced_at": NOW} for n in range(teams)],
        )
        connection.execute(
            insert(UserGroupMember),
            [{"group_id": f"S{p // size:04d}", "user_id": f"U{p:07d}"} for p in range(size * teams)],
        )
        connection.execute(
            insert(Team),
            [
                {"id": n + 1, "name": f"Team {n}", "name_key": f"team {n}", "created_at": NOW, "changed_at": NOW}
                for n in range(teams)
            ],
        )
        connection.execute(insert(TeamLead), [{"team_id": n + 1, "user_id": f"UL{n:06d}"} for n in range(teams)])
        connection.execute(insert(TeamGroup), [{"team_id": n + 1, "group_id": f"S{n:04d}"} for n in range(teams)])


def timed(ctx, job: str, runs: int = 3) -> str:
    run_job(ctx, job, NOW, dry_run=True)  # warm up: imports, caches, matplotlib's fonts
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        report = run_job(ctx, job, NOW, dry_run=True)
        seconds.append(time.perf_counter() - started)
    assert report.ran
    return f"{job} {statistics.median(seconds) * 1000:.0f} ms"


def bench(engine: Engine, total: int, people: int, teams: int) -> None:
    leads = (
        {"KAIZEN_LEADS": "UHEAD1,UHEAD2", "KAIZEN_ADMINS": ""}
        if teams
        else {"KAIZEN_LEADS": "U0000001,U0000002,U0000003"}
    )
    ctx = build_context(load_settings(base_env(**leads)), FEATURES, engine=engine)
    started = time.perf_counter()
    seed_people(engine, people)
    if teams:
        seed_teams(engine, people, teams)
    done = 0
    for size in sorted({min(100_000, total), total}):
        seed(engine, done, size, people)
        done = size
        print(
            f"  {engine.dialect.name}, {size:,} kudos (seeded in {time.perf_counter() - started:.0f} s): "
            f"{timed(ctx, 'lead-digest')}, {timed(ctx, 'weekly-celebration')}",
            flush=True,
        )


def main(total: int = 1_000_000, people: int = 10_000, teams: int = 0) -> None:
    in_teams = f" in {teams} teams (a lead each) and 2 org-wide leads" if teams else ""
    print(f"{people:,} people{in_teams}, {KUDOS_PER_WEEK:,} kudos a week; median of 3 dry runs")
    for engine in databases.each():
        bench(engine, total, people, teams)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:4]))
