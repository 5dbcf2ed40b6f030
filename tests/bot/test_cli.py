import json
import os
import subprocess
import sys

import pytest

from bot.cli import main


def run_kaizen(*args, env=None, cwd):
    clean = {"PATH": os.environ["PATH"], **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=clean, cwd=cwd, timeout=60
    )


def test_run_without_tokens_says_what_is_missing_in_one_line(tmp_path):
    result = run_kaizen("run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kaizen: SLACK_BOT_TOKEN is missing: set it in .env (get it from your Slack app's OAuth & Permissions page, "
        "'Bot User OAuth Token' (xoxb-...))."
    ]
    assert "Traceback" not in result.stderr


def test_run_in_socket_mode_needs_the_app_token(tmp_path):
    result = run_kaizen("run", env={"SLACK_BOT_TOKEN": "xoxb-1"}, cwd=tmp_path)
    assert result.returncode == 2 and "SLACK_APP_TOKEN is missing" in result.stderr


@pytest.mark.parametrize("secret", [None, "", "   "])
def test_run_in_http_mode_needs_the_signing_secret(tmp_path, secret):
    env = {"SLACK_BOT_TOKEN": "xoxb-1"} | ({} if secret is None else {"SLACK_SIGNING_SECRET": secret})
    result = run_kaizen("run", "--http", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "SLACK_SIGNING_SECRET is missing" in result.stderr


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=not-a-bot-token\n")
    result = run_kaizen("run", cwd=tmp_path)
    assert "must be a bot token starting with xoxb-" in result.stderr


def test_migrate_creates_the_sqlite_database(tmp_path):
    result = run_kaizen("migrate", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "k.db").exists()


def test_manifest_socket_mode(capsys):
    assert main(["manifest"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["settings"]["socket_mode_enabled"] is True
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/kudos", "/feedback", "/idea", "/tip", "/kaizen", "/mentor", "/lesson", "/goal"}
    assert all(c["should_escape"] and "url" not in c for c in commands.values())
    assert manifest["features"]["shortcuts"][0]["callback_id"] == "give_kudos"
    assert sorted(manifest["settings"]["event_subscriptions"]["bot_events"]) == [
        "app_home_opened",
        "reaction_added",
        "reaction_removed",
        "subteam_members_changed",
        "subteam_updated",
    ]
    assert {"commands", "chat:write", "users:read", "reactions:read", "mpim:write", "usergroups:read"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )


def test_manifest_http_urls(capsys):
    main(["manifest", "--http", "https://kaizen.example.com"])
    manifest = json.loads(capsys.readouterr().out)
    url = "https://kaizen.example.com/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {url}
