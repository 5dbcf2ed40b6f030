"""The Slack app manifest: what every feature asks for, for Socket Mode or HTTP request URLs."""

from __future__ import annotations

from bot.core.context import Feature

# What the platform itself needs; each feature adds its own commands, events and scopes.
CORE_SCOPES = (
    "commands",
    "chat:write",  # posts, DMs (to a user ID) and updates
    "im:write",  # open a DM to upload a file into it
    "users:read",  # check that someone named is a person, not a bot or a deactivated account
)


def bot_scopes(features: tuple[Feature, ...]) -> list[str]:
    return list(dict.fromkeys([*CORE_SCOPES, *(scope for f in features for scope in f.scopes)]))


def bot_events(features: tuple[Feature, ...]) -> list[str]:
    return list(dict.fromkeys(event for f in features for event in f.events))


def build_manifest(features: tuple[Feature, ...], request_url: str | None = None) -> dict:
    """Socket Mode when request_url is None; otherwise Slack sends every request to request_url."""
    commands = []
    for feature in features:
        for command in feature.commands:
            entry = {
                "command": command.command,
                "description": command.description,
                "usage_hint": command.usage_hint,
                "should_escape": True,
            }
            if request_url:
                entry["url"] = request_url
            commands.append(entry)
    shortcuts = [
        {"name": s.name, "type": "message", "callback_id": s.callback_id, "description": s.description}
        for feature in features
        for s in feature.shortcuts
    ]
    events: dict = {"bot_events": bot_events(features)}
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
            "shortcuts": shortcuts,
        },
        "oauth_config": {"scopes": {"bot": bot_scopes(features)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": request_url is None,
            "token_rotation_enabled": False,
        },
    }
