"""The Slack app manifest: everything Kaizen needs, for Socket Mode or HTTP request URLs."""

from __future__ import annotations

COMMANDS = {
    "/kudos": ("Recognise a teammate's effort and progress", "@ana thanks for clearing the queue #teamwork"),
    "/feedback": ("Ask for or give growth-oriented feedback", "request @ana @ben about the refund escalation"),
    "/idea": ("Suggest an improvement, vote, follow it to done", "Pre-fill the refund form from the order page"),
    "/tip": ("Today's learning tip; subscribe to get it daily", "subscribe"),
}
GIVE_KUDOS_SHORTCUT = "give_kudos"
BOT_EVENTS = ["app_home_opened", "reaction_added", "reaction_removed"]
BOT_SCOPES = [
    "commands",
    "chat:write",  # posts, DMs (to a user ID) and updates
    "im:write",  # open a lead's DM to upload the digest chart into it
    "users:read",  # check that a recipient is a person, not a bot or a deactivated account
    "reactions:read",  # reaction kudos
    "channels:history",  # the text of a message given kudos by reaction, in public channels
    "groups:history",  # ... and in private channels the bot is in
    "files:write",  # the chart in the lead digest
]


def build_manifest(request_url: str | None = None) -> dict:
    """Socket Mode when request_url is None; otherwise Slack sends every request to request_url."""
    commands = []
    for command, (description, hint) in COMMANDS.items():
        entry = {"command": command, "description": description, "usage_hint": hint, "should_escape": True}
        if request_url:
            entry["url"] = request_url
        commands.append(entry)
    events: dict = {"bot_events": BOT_EVENTS}
    interactivity: dict = {"is_enabled": True}
    if request_url:
        events["request_url"] = request_url
        interactivity["request_url"] = request_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Kaizen",
            "description": "Kudos, feedback, ideas and a daily tip: small steps, every day.",
            "background_color": "#2f4858",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "Kaizen", "always_online": True},
            "slash_commands": commands,
            "shortcuts": [
                {
                    "name": "Give kudos",
                    "type": "message",
                    "callback_id": GIVE_KUDOS_SHORTCUT,
                    "description": "Recognise the author of this message",
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": request_url is None,
            "token_rotation_enabled": False,
        },
    }
