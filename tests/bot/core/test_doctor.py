"""`kaizen doctor` against the fake Slack and a real database: one line per check, the fix beside each
that fails, exit 0 only when none fails; it changes nothing and prints no token."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError

from bot.cli import main
from bot.core.doctor import REINSTALL, run_checks
from bot.features import tables
from storage.db import make_engine, make_read_only_engine, make_session_factory
from storage.migrate import head_revisions, schema_revisions, upgrade
from storage.models import JobRun, OutboxMessage
from storage.outbox import mark_failed

APP_TOKEN = "xapp-1-secret-app-token"


def everything_stored(engine) -> str:
    with engine.connect() as connection:
        return repr([tuple(row) for table in tables().sorted_tables for row in connection.execute(table.select())])


def doctor(env, database_url, monkeypatch, capsys, tmp_path) -> tuple[int, list[str]]:
    """`kaizen doctor` as an admin runs it: its exit status and the lines it printed."""
    for name, value in {**env, "DATABASE_URL": database_url, "KAIZEN_ENV_FILE": os.devnull}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    status = main(["doctor"])
    out, err = capsys.readouterr()
    assert err == ""
    return status, out.splitlines()


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_everything_in_place_passes_and_the_doctor_changes_nothing(
    engine, env, fake_slack, monkeypatch, capsys, tmp_path
):
    env["SLACK_APP_TOKEN"] = APP_TOKEN
    with make_session_factory(engine).begin() as session:  # one message waits, just written
        session.add(waiting_post("k1", datetime.now(UTC)))
    stored = everything_stored(engine)

    status, lines = doctor(env, url_of(engine), monkeypatch, capsys, tmp_path)

    assert status == 0, "\n".join(lines)
    assert all(line.startswith("✓ ") for line in lines[:-1]), lines
    for expected in (
        "✓ Slack accepts the bot token: @kaizen in https://kaizen-test.slack.com/",
        "✓ Socket Mode: Slack opens a connection for the app token",
        "✓ KAIZEN_KUDOS_CHANNEL and KAIZEN_CELEBRATION_CHANNEL: Kaizen is in #ckudos",
        "✓ KAIZEN_TIPS_CHANNEL and KAIZEN_LESSONS_CHANNEL: Kaizen is in #ctips",
        "✓ KAIZEN_IDEAS_CHANNEL: Kaizen is in #cideas",
        "✓ KAIZEN_LEADS: 1 active person",
        "✓ KAIZEN_ADMINS: 1 active person",
        f"✓ the schema is current ({', '.join(sorted(head_revisions()))})",
        "✓ the outbox: 1 message waits; Slack refused 0 messages in the last day",
        "✓ time zone Europe/Paris: it is "[:26],
    ):
        assert any(line.startswith(expected) for line in lines), (expected, lines)
    assert any(line.startswith("✓ the bot token has the ") for line in lines)
    for job in ("daily-tip", "weekly-celebration", "lead-digest", "housekeeping"):
        assert any(line.startswith(f"✓ {job}: next run ") for line in lines), job
    assert lines[-1] == f"All {len(lines) - 1} checks pass."
    # It only asked; nothing was posted, opened or written, and no token was shown.
    asked = {call.method for call in fake_slack.calls}
    assert asked == {"auth.test", "apps.connections.open", "conversations.info", "users.info"}
    assert everything_stored(engine) == stored
    assert "xoxb-" not in "\n".join(lines) and "xapp-" not in "\n".join(lines)


def test_each_problem_is_one_line_with_its_fix_and_the_status_is_1(
    engine, env, fake_slack, monkeypatch, capsys, tmp_path
):
    env.update(KAIZEN_LEADS="ULEAD,UGONE", KAIZEN_ADMINS="UADMIN,UBOT,WNOBODY", KAIZEN_LESSONS_CHANNEL="CLESSONS")
    fake_slack.scopes -= {"mpim:write", "files:write"}
    fake_slack.add_channel("CKUDOS", name="kudos", member=False)
    fake_slack.add_channel("CTIPS", name="tips", archived=True)
    fake_slack.add_channel("CIDEAS", exists=False)
    fake_slack.add_user("UGONE", deleted=True)
    fake_slack.add_user("UBOT", is_bot=True)
    fake_slack.unknown_users.add("WNOBODY")
    now = datetime.now(UTC)
    with make_session_factory(engine).begin() as session:
        session.add(waiting_post("stuck", now - timedelta(hours=2)))
        session.add(refused := waiting_post("refused", now))
        session.flush()
        mark_failed(session, refused.id, "200 not_in_channel")

    status, lines = doctor(env, url_of(engine), monkeypatch, capsys, tmp_path)

    assert status == 1
    failed = [line for line in lines if line.startswith("✗ ")]
    assert failed == [
        f"✗ the bot token lacks the scope(s) mpim:write, files:write — {REINSTALL}",
        "✗ KAIZEN_KUDOS_CHANNEL and KAIZEN_CELEBRATION_CHANNEL: Kaizen is not in #kudos — "
        "invite @Kaizen to #kudos (`/invite @Kaizen`)",
        "✗ KAIZEN_IDEAS_CHANNEL: Slack knows no channel CIDEAS — "
        "check KAIZEN_IDEAS_CHANNEL; if the channel is private, invite @Kaizen to it first",
        "✗ KAIZEN_TIPS_CHANNEL: #tips is archived — unarchive #tips, or set KAIZEN_TIPS_CHANNEL to another channel",
        "✗ UGONE in KAIZEN_LEADS is deactivated — take UGONE out of KAIZEN_LEADS",
        "✗ UBOT in KAIZEN_ADMINS is a bot — take UBOT out of KAIZEN_ADMINS",
        "✗ WNOBODY in KAIZEN_ADMINS is no one in this workspace — take WNOBODY out of KAIZEN_ADMINS",
        "✗ the outbox: 1 message waits, one for 2 h; Slack refused 1 message in the last day — "
        "a running Kaizen process sends them: is one running?; Slack will not take those: below, why and what to do",
    ]
    assert "✓ KAIZEN_LESSONS_CHANNEL: Kaizen is in #clessons" in lines
    # Under the outbox's line, what /kaizen status says of it: here, the refusal and what to do.
    refusal = "    • `200 not_in_channel` ×1: a post in <#CKUDOS> — invite Kaizen there: `/invite @Kaizen`"
    assert refusal in lines
    assert lines[-1] == f"8 checks fail, {len(lines) - 1 - 8 - 4} pass: fix what each ✗ says."


def test_a_refused_token_or_an_unreachable_slack_is_said_and_nothing_else_is_asked(
    engine, env, fake_slack, monkeypatch, capsys, tmp_path
):
    fake_slack.fail("auth.test", error="token_revoked")
    status, lines = doctor(env, url_of(engine), monkeypatch, capsys, tmp_path)
    assert status == 1
    assert lines[0] == (
        "✗ Slack refuses the bot token (token_revoked) — set SLACK_BOT_TOKEN to the app's Bot User OAuth Token, "
        "and check the app is still installed"
    )
    assert [call.method for call in fake_slack.calls] == ["auth.test"]

    env["SLACK_API_URL"] = "http://127.0.0.1:9/api/"  # nothing listens there
    status, lines = doctor(env, url_of(engine), monkeypatch, capsys, tmp_path)
    assert status == 1 and lines[0].startswith("✗ Slack does not answer at http://127.0.0.1:9/api/ (")


def test_a_refused_app_token_is_said_without_showing_it(engine, env, fake_slack, monkeypatch, capsys, tmp_path):
    env["SLACK_APP_TOKEN"] = APP_TOKEN
    fake_slack.fail("apps.connections.open", error="invalid_auth")
    status, lines = doctor(env, url_of(engine), monkeypatch, capsys, tmp_path)
    assert status == 1
    assert lines[1].startswith("✗ Slack refuses the app token (invalid_auth) — set SLACK_APP_TOKEN to an app-level")
    assert APP_TOKEN not in "\n".join(lines) and "xoxb-test" not in "\n".join(lines)


def test_a_schema_behind_says_run_migrate_and_is_not_migrated(env, fake_slack, monkeypatch, capsys, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0012_goals")

    status, lines = doctor(env, url_of(engine), monkeypatch, capsys, tmp_path)

    assert status == 1
    assert f"✗ the schema is at 0012_goals, not {', '.join(sorted(head_revisions()))} — run `kaizen migrate`" in lines
    assert schema_revisions(engine)[0] == {"0012_goals"}  # the doctor did not migrate it
    engine.dispose()


def test_a_missing_sqlite_database_is_said_and_not_created(env, fake_slack, monkeypatch, capsys, tmp_path):
    missing = tmp_path / "nowhere.db"
    status, lines = doctor(env, f"sqlite:///{missing}", monkeypatch, capsys, tmp_path)
    assert status == 1
    assert (
        "✗ the database cannot be read: unable to open database file — "
        "check DATABASE_URL (a SQLite file is made by `kaizen migrate`)" in lines
    )
    assert not missing.exists()


def test_teams_have_their_channels_and_leads_checked(slack, ctx, fake_slack):
    fake_slack.add_channel("CSUPPORT", name="support", member=False)
    leads, members = "<@UOLDLEAD|old> <@ULEAD|lead>", "<@UANA|ana>"
    team = f"team add Support lead {leads} members {members} channel <#CSUPPORT|support>"
    slack.command("/kaizen", team, user="UADMIN")
    fake_slack.add_user("UOLDLEAD", deleted=True)  # since the team was made

    lines = [str(check) for check in run_checks(ctx)]

    not_in = "✗ team Support's channel: Kaizen is not in #support — invite @Kaizen to #support (`/invite @Kaizen`)"
    assert not_in in lines
    assert "✗ UOLDLEAD in team Support's leads is deactivated — take UOLDLEAD out of team Support's leads" in lines
    assert "✓ team Support's leads: 1 active person" in lines


def test_the_doctors_database_connection_cannot_write(engine):
    read_only = make_read_only_engine(url_of(engine))
    with pytest.raises(DBAPIError), read_only.begin() as connection:
        connection.execute(insert(JobRun).values(job="daily-tip", period="2026-11-18", started_at=datetime.now(UTC)))
    read_only.dispose()
    with engine.connect() as connection:
        assert connection.execute(select(JobRun)).all() == []


def waiting_post(key: str, written_at: datetime) -> OutboxMessage:
    """A post to #kudos written at `written_at` and not sent yet."""
    payload = {"channel": "CKUDOS"}
    return OutboxMessage(
        key=key, method="chat.postMessage", payload=payload, created_at=written_at, next_attempt_at=written_at
    )
