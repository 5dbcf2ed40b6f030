"""The lead digest per lead: a team's lead reads about their team's people only, an org-wide lead
about everyone with a line per team."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.jobs import run_job
from bot.ideas.blocks import YOUR_PEOPLE
from storage import teams as store
from storage.feedback import Feedback
from storage.goals import Goal
from storage.ideas import Idea
from storage.models import Member
from storage.teams import Team, TeamGroup, TeamLead, TeamMember
from tests.bot.factories import kudos
from tests.bot.weekly.test_digest import MONDAY_0900

LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
TIER1, TIER2 = {"UANA", "UBEN"}, {"UCARL", "UDAN"}  # their people; UEVE is in no team


def make_team(session, name, leads, *, members=(), group=None):
    team = Team(name=name, name_key=name.casefold(), created_at=LONG_AGO, changed_at=LONG_AGO)
    team.leads = [TeamLead(user_id=lead) for lead in leads]
    team.members = [TeamMember(user_id=member) for member in members]
    if group:
        group_id, handle, people = group
        store.remember_group(
            session, group_id, handle=handle, name=handle, disabled=False, members=people, now=LONG_AGO
        )
        team.groups = [TeamGroup(group_id=group_id)]
    session.add(team)


@pytest.fixture
def floor(ctx, clock, fake_slack):
    """Two teams (Tier 1 from a user group, Tier 2 named), each with something to report; Slack knows
    the people and the group, as the digest refreshes the member directory first."""
    week = MONDAY_0900 - timedelta(days=3)
    for user in sorted(TIER1 | TIER2 | {"UEVE"}):
        fake_slack.add_user(user)
    fake_slack.add_group("STIER1", "tier1-agents", sorted(TIER1))
    with ctx.session_factory.begin() as session:
        session.add_all(Member(user_id=u, first_seen_at=LONG_AGO) for u in sorted(TIER1 | TIER2 | {"UEVE"}))
        make_team(session, "Tier 1", ["UMARIA"], group=("STIER1", "tier1-agents", sorted(TIER1)))
        make_team(session, "Tier 2", ["ULI"], members=sorted(TIER2))
        make_team(session, "Night shift", ["UNINA"], members=["UBEN", "UCARL"])
        session.flush()
        session.add_all(
            [
                kudos("UCARL", "UANA", week),  # Tier 2 thanks Tier 1
                kudos("UANA", "UCARL", week),
                kudos("UANA", "UCARL", week - timedelta(days=1)),
                kudos("UEVE", "UANA", week - timedelta(days=9)),
                Goal(owner_id="UBEN", number=1, title="Tier one goal", shared=True, created_at=LONG_AGO),
                Goal(owner_id="UDAN", number=1, title="Tier two goal", shared=True, created_at=LONG_AGO),
                Goal(owner_id="UEVE", number=1, title="No team goal", shared=True, created_at=LONG_AGO),
                Feedback(about_id="UDAN", giver_id="UEVE", requested=True, status="open", created_at=week),
                Idea(title="Idea from Tier two", author_id="UDAN", created_at=week),
                Idea(title="Idea from nobody", created_at=week),
            ]
        )
    clock.set(MONDAY_0900)


def digests(fake_slack) -> dict[str, str]:
    """Each lead's digest: its fallback text, blocks and chart, as one text."""
    sent: dict[str, str] = {}
    for call in fake_slack.calls_to("chat.postMessage"):
        sent[call["channel"]] = (
            sent.get(call["channel"], "") + call["text"] + json.dumps(call["blocks"], ensure_ascii=False)
        )
    for call in fake_slack.calls_to("files.completeUploadExternal"):
        lead = call["channel_id"].removeprefix("D")
        sent[lead] += json.dumps(call.params, ensure_ascii=False)
    return sent


def named(text: str) -> set[str]:
    return set(re.findall(r"<@([UW][A-Z0-9]+)", text)) | set(re.findall(r"\b(U[A-Z]{2,})\b", text))


def test_a_team_lead_reads_about_their_own_people_only(floor, ctx, fake_slack):
    report = run_job(ctx, "lead-digest")

    assert report.lines == [
        "lead digest and its chart by DM to 2 lead(s): UADMIN, ULEAD",
        "team digest by DM to 3 team lead(s): ULI, UMARIA, UNINA",
    ]
    sent = digests(fake_slack)
    # Never another team's people: not in a line, a mention, a goal, nor the chart.
    assert {"UBEN"} <= named(sent["UMARIA"]) and {"UDAN"} <= named(sent["ULI"])  # they are named
    assert named(sent["UMARIA"]) <= TIER1 | {"UMARIA"}, named(sent["UMARIA"]) - TIER1
    assert named(sent["ULI"]) <= TIER2 | {"ULI"}, named(sent["ULI"]) - TIER2
    assert named(sent["UNINA"]) <= {"UBEN", "UCARL", "UNINA"}
    assert "Tier two goal" not in sent["UMARIA"] and "Tier one goal" not in sent["ULI"]
    assert "No team goal" not in sent["UMARIA"] + sent["ULI"] + sent["UNINA"]

    tier1 = sent["UMARIA"]
    assert tier1.startswith(":bar_chart: Your weekly Kaizen digest for Tier 1: 1 kudos to its people (same as before)")
    assert "*Tier 1* — 2 people" in tier1
    assert "• Kudos to them: *1* (before: 1, same as before); from them: *2* (before: 0, +2)" in tier1
    assert "1 people with no kudos in 30 days" in tier1 and "<@UBEN> (never)" in tier1
    assert "<@UBEN>, goal 1: Tier one goal" in tier1  # their stalled shared goal
    assert "Kudos to your people per day, last 4 weeks" in tier1
    # Ideas waiting for review stay everyone's; only a lead's own people's are marked.
    assert "#1 Idea from Tier two" in tier1 and "#2 Idea from nobody" in tier1 and YOUR_PEOPLE not in tier1
    assert f"#1 Idea from Tier two — new for 3 days{YOUR_PEOPLE}" in sent["ULI"]
    assert "Overdue feedback requests* — 1 unanswered" in sent["ULI"]  # asked by UDAN


def test_an_org_wide_lead_reads_everyone_and_a_line_per_team(floor, ctx, fake_slack):
    run_job(ctx, "lead-digest")

    sent = digests(fake_slack)
    for lead in ("ULEAD", "UADMIN"):
        text = sent[lead]
        assert "• Kudos: *3* (before: 1, +2)" in text
        assert "*Teams* — the last 7 days" in text
        assert (
            "• *Night shift* — 2 people, 2 kudos this week, 50% recognised in 30 days, "
            "0 overdue feedback requests, 1 stalled shared goal"
        ) in text
        assert "• *Tier 1* — 2 people, 1 kudos this week, 50% recognised in 30 days" in text
        assert "• *Tier 2* — 2 people, 2 kudos this week, 50% recognised in 30 days, 1 overdue feedback request" in text
        assert "• _no team_ — 1 person, 0 kudos this week, 0% recognised in 30 days" in text
        assert all(goal in text for goal in ("Tier one goal", "Tier two goal", "No team goal"))
        assert YOUR_PEOPLE not in text


def test_a_lead_of_two_teams_gets_one_digest_with_a_part_for_each(ctx, fake_slack, clock):
    with ctx.session_factory.begin() as session:
        make_team(session, "Tier 1", ["UMARIA"], members=["UANA"])
        make_team(session, "Tier 2", ["UMARIA", "ULI"], members=["UCARL"])
        session.add(kudos("UCARL", "UANA", MONDAY_0900 - timedelta(days=1)))
    clock.set(MONDAY_0900)

    run_job(ctx, "lead-digest")

    [digest] = fake_slack.posts_to("UMARIA")
    assert digest["text"].startswith(
        ":bar_chart: Your weekly Kaizen digest for Tier 1 and Tier 2: Tier 1: 1 kudos to its people (+1); Tier 2:"
    )
    sections = [b["text"]["text"] for b in digest["blocks"] if b["type"] == "section"]
    assert [s.split("\n")[0] for s in sections if s.startswith("*Tier")] == [
        "*Tier 1* — 1 person",
        "*Tier 2* — 1 person",
    ]
    [only_tier2] = fake_slack.posts_to("ULI")
    assert "Tier 1" not in only_tier2["text"] and "UANA" not in json.dumps(only_tier2["blocks"])
    # One chart each, of their own people's kudos.
    charts = {call["channel_id"]: call for call in fake_slack.calls_to("files.completeUploadExternal")}
    assert set(charts) >= {"DUMARIA"}
    assert "DULI" not in charts  # nobody in Tier 2 received kudos: no chart, and the digest says so
    assert "No kudos to your people in the last 4 weeks" in json.dumps(only_tier2["blocks"])


def test_a_request_answered_anonymously_never_counts_for_the_team_of_who_is_still_to_answer(ctx, fake_slack, clock):
    asked = MONDAY_0900 - timedelta(days=5)
    with ctx.session_factory.begin() as session:
        make_team(session, "Tier 1", ["UMARIA"], members=["UANA"])
        make_team(session, "Tier 2", ["ULI"], members=["UBEN", "UREQ"])
        session.add_all(
            [
                # UREQ asked UANA and UCARL together; UCARL answered anonymously, UANA has not.
                Feedback(
                    about_id="UREQ", giver_id="UANA", batch_key="b1", requested=True, status="open", created_at=asked
                ),
                Feedback(
                    about_id="UREQ",
                    batch_key="b1",
                    requested=True,
                    status="answered",
                    anonymous=True,
                    created_at=asked,
                    answered_at=asked,
                ),
                # UBEN asked UANA alone.
                Feedback(
                    about_id="UBEN", giver_id="UANA", batch_key="b2", requested=True, status="open", created_at=asked
                ),
            ]
        )
    clock.set(MONDAY_0900)

    run_job(ctx, "lead-digest")

    sent = digests(fake_slack)
    assert "Overdue feedback requests* — 1 unanswered" in sent["UMARIA"]  # UBEN's, asked of UANA
    assert "Overdue feedback requests* — 2 unanswered" in sent["ULI"]  # UREQ's and UBEN's: theirs


def test_a_shared_goal_reaches_only_its_owners_leads(slack, ctx, fake_slack, clock):
    slack.command("/kaizen", "team add Tier 1 lead <@UMARIA|maria> members <@UANA|ana>", user="UADMIN")
    slack.command("/kaizen", "team add Tier 2 lead <@ULI|li> members <@UBEN|ben>", user="UADMIN")
    slack.command("/goal", "add Handle billing disputes on my own", user="UANA")
    with ctx.session_factory.begin() as session:
        session.scalar(select(Goal)).shared = True
    clock.set(MONDAY_0900 + timedelta(weeks=3))
    fake_slack.clear()

    run_job(ctx, "lead-digest")

    sent = digests(fake_slack)
    seen_by = {lead for lead, text in sent.items() if "Handle billing disputes" in text}
    assert seen_by == {"UMARIA", "ULEAD", "UADMIN"}  # its owner's team lead and the org-wide leads, not ULI
