import csv
import io
import json

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.core.jobs import run_job
from bot.ideas.blocks import VOTE_ACTION
from bot.teams import blocks as messages
from storage import teams as store
from storage.admin import ModerationLog
from storage.models import Member
from tests.conftest import WEDNESDAY_MORNING

TIER1 = "<!subteam^STIER1|@tier1-agents>"


def replies(fake_slack) -> list[str]:
    return [c["text"] for c in fake_slack.calls_to("response_url")]


def teams(ctx) -> dict[str, dict]:
    """Each team, by name: its leads, named members, groups, channel and people."""
    with ctx.session_factory() as session:
        people = store.people_by_team(session)
        return {
            t.name: {
                "leads": t.lead_ids,
                "members": t.member_ids,
                "groups": t.group_ids,
                "channel": t.channel_id,
                "people": sorted(people.get(t.id, ())),
            }
            for t in store.all_teams(session)
        }


def audit(ctx) -> list[tuple]:
    with ctx.session_factory() as session:
        entries = session.scalars(select(ModerationLog).order_by(ModerationLog.id))
        return [(e.action, e.kind, e.admin_id, e.detail) for e in entries]


def test_an_admin_makes_a_team_from_a_user_group_and_people_and_every_change_is_audited(slack, fake_slack, ctx):
    fake_slack.add_group("STIER1", "tier1-agents", ["UANA", "UBEN", "UBOT"], name="Tier 1 agents")
    with ctx.session_factory.begin() as session:
        session.add(Member(user_id="UBOT", is_bot=True, first_seen_at=WEDNESDAY_MORNING))

    slack.command(
        "/kaizen",
        f"team add Tier 1 lead <@UMARIA|maria> members {TIER1} <@UCARL|carl> channel <#CTIER1|tier1>",
        user="UADMIN",
    )

    assert teams(ctx) == {
        "Tier 1": {
            "leads": ["UMARIA"],
            "members": ["UCARL"],
            "groups": ["STIER1"],
            "channel": "CTIER1",
            "people": ["UANA", "UBEN", "UCARL"],  # the group's and the named, not the bot
        }
    }
    assert replies(fake_slack)[-1].startswith(":white_check_mark: Team *Tier 1* created: 3 people now.")
    assert "invite Kaizen there" in replies(fake_slack)[-1]

    # The same name in another case replaces it; the log says what changed.
    slack.command("/kaizen", f"team add TIER 1 leads <@UMARIA|maria> <@ULI|li> members {TIER1}", user="UADMIN")
    assert list(teams(ctx)) == ["TIER 1"]
    assert teams(ctx)["TIER 1"]["leads"] == ["ULI", "UMARIA"] and teams(ctx)["TIER 1"]["members"] == []
    assert audit(ctx) == [
        (
            "create",
            "team",
            "UADMIN",
            "Tier 1: leads <@UMARIA>; members @tier1-agents, <@UCARL>; channel <#CTIER1>",
        ),
        (
            "change",
            "team",
            "UADMIN",
            "TIER 1: name Tier 1 → TIER 1; leads added <@ULI>; members removed <@UCARL>; channel <#CTIER1> → none",
        ),
    ]

    fake_slack.clear()
    slack.command("/kaizen", "teams", user="UADMIN")
    [answer] = fake_slack.calls_to("response_url")
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "*TIER 1* — led by <@ULI> and <@UMARIA>; 2 people from @tier1-agents (2)" in shown
    assert "<@UADMIN> created Tier 1: leads <@UMARIA>" in shown and "<@UADMIN> changed TIER 1: name" in shown
    assert [e["action_id"] for e in answer["blocks"][-2]["elements"]] == [messages.ADD_TEAM, messages.EDIT_TEAM]

    slack.command("/kaizen", "team remove tier 1", user="UADMIN")
    assert teams(ctx) == {} and replies(fake_slack)[-1].startswith(":wastebasket: Team *TIER 1* removed")
    assert audit(ctx)[-1][:3] == ("remove", "team", "UADMIN")


def test_only_admins_change_teams_and_nothing_changes_for_anyone_else(slack, fake_slack, ctx):
    answer = slack.command("/kaizen", "team add Tier 1 lead <@UMARIA|maria> members <@UANA|ana>", user="ULEAD")
    assert "Only Kaizen admins" in answer.body
    answer = slack.command("/kaizen", "teams", user="UANA")
    assert "Only Kaizen admins" in answer.body
    assert teams(ctx) == {} and audit(ctx) == [] and fake_slack.calls_to("response_url") == []


def test_bad_team_commands_get_a_reason_and_store_nothing(slack, fake_slack, ctx):
    fake_slack.add_user("UBOT", is_bot=True)
    for text, reason in [
        ("team add Tier 1 members <@UANA|ana>", "Say who leads the team"),
        ("team add lead <@UMARIA|maria> members <@UANA|ana>", "Name the team first"),
        ("team add Tier 1 lead <@UMARIA|maria>", "Name the team's members"),
        ("team add Tier 1 lead <@UMARIA|maria> members ana", "I don't understand `ana`"),
        ("team add Tier 1 lead <@UBOT|bot> members <@UANA|ana>", "<@UBOT> is a bot"),
        ("team add Tier 1 lead <@UMARIA|maria> members <@UANA|ana> channel tier1", "After `channel` comes one channel"),
        ("team add <@UANA|ana> lead <@UMARIA|maria> members <@UANA|ana>", "A team's name is plain words"),
        (f"team add Tier 1 lead <@UMARIA|maria> members {TIER1}", "Slack has no active user group @tier1-agents"),
        ("team remove Tier 9", "There's no team called Tier 9"),
        ("team rename Tier 1", "Say what to do"),
    ]:
        slack.command("/kaizen", text, user="UADMIN")
        assert reason in replies(fake_slack)[-1], (text, replies(fake_slack)[-1])
    assert teams(ctx) == {} and audit(ctx) == []


def test_without_usergroups_read_a_group_team_is_refused_with_what_to_add_and_teams_says_so(slack, fake_slack, ctx):
    fake_slack.fail("usergroups.list", error="missing_scope", times=5)

    slack.command("/kaizen", f"team add Tier 1 lead <@UMARIA|maria> members {TIER1}", user="UADMIN")
    assert "lacks the `usergroups:read` scope" in replies(fake_slack)[-1]
    assert teams(ctx) == {}

    slack.command("/kaizen", "team add Tier 1 lead <@UMARIA|maria> members <@UANA|ana>", user="UADMIN")
    assert teams(ctx)["Tier 1"]["people"] == ["UANA"]  # people named one by one still work
    slack.command("/kaizen", "teams", user="UADMIN")
    assert "lacks the `usergroups:read` scope" in json.dumps(fake_slack.calls_to("response_url")[-1]["blocks"])


def test_the_team_form_adds_and_edits_a_team(slack, fake_slack, ctx):
    fake_slack.add_group("STIER1", "tier1-agents", ["UANA", "UBEN"])
    slack.command("/kaizen", "teams", user="UADMIN")  # reads the user groups the form offers
    slack.block_action(messages.ADD_TEAM, user="UADMIN")
    form = fake_slack.modal()
    assert [b["block_id"] for b in form["blocks"] if b["type"] == "input"] == [
        messages.NAME,
        messages.LEADS,
        messages.GROUPS,
        messages.MEMBERS,
        messages.CHANNEL,
    ]
    [group_input] = [b for b in form["blocks"] if b.get("block_id") == messages.GROUPS]
    assert group_input["element"]["options"][0]["value"] == "STIER1"

    def submit(name, leads, groups, members, channel, metadata=""):
        return slack.view_submission(
            messages.TEAM_MODAL,
            {
                messages.NAME: {messages.NAME: {"value": name}},
                messages.LEADS: {messages.LEADS: {"selected_users": leads}},
                messages.GROUPS: {messages.GROUPS: {"selected_options": [{"value": g} for g in groups]}},
                messages.MEMBERS: {messages.MEMBERS: {"selected_users": members}},
                messages.CHANNEL: {messages.CHANNEL: {"selected_conversation": channel}},
            },
            user="UADMIN",
            private_metadata=metadata,
        )

    refused = submit("Tier 1", [], ["STIER1"], [], None)
    assert json.loads(refused.body)["errors"] == {
        messages.LEADS: "A team needs at least one lead. " + messages.ADD_USAGE
    }
    submit("Tier 1", ["UMARIA"], ["STIER1"], ["UCARL"], "CTIER1")
    assert teams(ctx)["Tier 1"]["people"] == ["UANA", "UBEN", "UCARL"]

    with ctx.session_factory() as session:
        [team_id] = [str(t.id) for t in store.all_teams(session)]
    slack.block_action(
        messages.EDIT_TEAM, user="UADMIN", extra={"type": "static_select", "selected_option": {"value": team_id}}
    )
    form = fake_slack.modal()
    assert form["private_metadata"] == team_id
    assert form["blocks"][0]["element"]["initial_value"] == "Tier 1"
    submit("Tier One", ["UMARIA"], [], ["UCARL"], None, metadata=team_id)  # renamed, the group dropped
    assert teams(ctx) == {
        "Tier One": {"leads": ["UMARIA"], "members": ["UCARL"], "groups": [], "channel": None, "people": ["UCARL"]}
    }
    assert (
        audit(ctx)[-1][3] == "Tier One: name Tier 1 → Tier One; groups removed @tier1-agents; channel <#CTIER1> → none"
    )

    fake_slack.clear()
    slack.block_action(messages.ADD_TEAM, user="UANA")
    assert fake_slack.calls_to("views.open") == [] and "Only Kaizen admins" in replies(fake_slack)[0]


@pytest.fixture
def review_at_two(env):
    env["KAIZEN_IDEA_REVIEW_VOTES"] = "2"


def test_a_team_lead_acts_as_a_lead_without_being_in_kaizen_leads(review_at_two, slack, fake_slack, ctx):
    slack.command("/kaizen", "team add Tier 1 lead <@UMARIA|maria> members <@UANA|ana>", user="UADMIN")
    slack.command("/idea", "Macro for refund status", user="UANA")

    slack.command("/idea", "status 1 planned", user="UMARIA")
    assert replies(fake_slack)[-1].startswith("Idea #1")
    slack.command("/idea", "status 1 in-progress", user="UANA")
    assert replies(fake_slack)[-1].startswith("Only leads can change an idea's status")

    # Enough votes bring an idea to review: every lead hears of it, team leads too.
    slack.command("/idea", "Shared macros folder", user="UBEN")
    for voter in ("UCARL", "UDAN"):
        slack.block_action(VOTE_ACTION, "2", user=voter)
    assert {"ULEAD", "UMARIA"} <= {call["channel"] for call in fake_slack.calls_to("chat.postMessage")}


def test_kaizen_export_audit_has_hides_and_team_changes(slack, ctx, engine, env, monkeypatch, capsys, tmp_path):
    slack.command("/kaizen", "team add Tier 1 lead <@UMARIA|maria> members <@UANA|ana>", user="UADMIN")
    slack.command("/kudos", "<@UANA|ana> thanks for nothing")
    slack.command("/kaizen", "hide kudos 1", user="UADMIN")
    for name, value in {**env, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()

    assert main(["export", "audit"]) == 0

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["admin"], r["action"], r["kind"], r["detail"]) for r in rows] == [
        ("UADMIN", "create", "team", "Tier 1: leads @UMARIA; members @UANA"),
        ("UADMIN", "hide", "kudos", ""),
    ]
    assert rows[0]["date"] == "2026-11-18T10:00:00+01:00"


def test_the_daily_member_directory_reads_the_user_groups(ctx, fake_slack, clock):
    fake_slack.add_user("UANA")
    fake_slack.add_group("STIER1", "tier1-agents", ["UANA", "UBEN"])

    report = run_job(ctx, "member-directory")

    assert "1 user group(s) read" in " ".join(report.lines)
    with ctx.session_factory() as session:
        [group] = store.groups(session)
        assert (group.handle, store.group_sizes(session)) == ("tier1-agents", {"STIER1": 2})


def test_without_usergroups_read_the_member_directory_still_runs_and_says_what_to_add(ctx, fake_slack):
    fake_slack.add_user("UANA")
    fake_slack.fail("usergroups.list", error="missing_scope")

    report = run_job(ctx, "member-directory")

    assert report.lines[0] == "1 accounts in users.list; 1 of them count as team members"
    assert report.lines[1].startswith("user groups not read: Kaizen can't read Slack user groups: its app lacks")


def test_a_team_follows_its_user_group_when_slack_says_it_changed(slack, fake_slack, ctx):
    fake_slack.add_group("STIER1", "tier1-agents", ["UANA", "UBEN"])
    slack.command("/kaizen", f"team add Tier 1 lead <@UMARIA|maria> members {TIER1}", user="UADMIN")

    fake_slack.add_group("STIER1", "tier1-agents", ["UANA", "UCARL"])
    slack.event({"type": "subteam_members_changed", "subteam_id": "STIER1", "added_users": ["UCARL"]})
    assert teams(ctx)["Tier 1"]["people"] == ["UANA", "UCARL"]
    assert fake_slack.calls_to("usergroups.users.list")[-1]["usergroup"] == "STIER1"

    renamed = {**fake_slack.groups["STIER1"], "handle": "tier-one", "users": ["UANA"]}
    slack.event({"type": "subteam_updated", "subteam": renamed})
    assert teams(ctx)["Tier 1"]["people"] == ["UANA", "UCARL"]  # the members Slack lists now
    with ctx.session_factory() as session:
        assert [g.handle for g in store.groups(session)] == ["tier-one"]

    fake_slack.add_group("STIER1", "tier-one", [], disabled=True)
    slack.event({"type": "subteam_updated", "subteam": fake_slack.groups["STIER1"]})
    assert teams(ctx)["Tier 1"]["people"] == []  # a disabled group has no members
