"""Settings: read once from the environment (and `.env`), frozen, validated."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

DEFAULT_VALUES = "growth-mindset,customer-first,ownership,teamwork,learning"
DEFAULT_IDEA_CATEGORIES = "process,tooling,knowledge-base,customer-experience,team"
DEFAULT_SKILLS = "de-escalation,product-knowledge,billing,written-tone,technical-troubleshooting,coaching"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Where an admin finds each required value; shown when it is missing.
WHERE_TO_GET = {
    "SLACK_BOT_TOKEN": "your Slack app's OAuth & Permissions page, 'Bot User OAuth Token' (xoxb-...)",
    "SLACK_APP_TOKEN": "your Slack app's Basic Information page, 'App-Level Tokens' "
    "with the connections:write scope (xapp-...)",
    "SLACK_SIGNING_SECRET": "your Slack app's Basic Information page, 'Signing Secret'",
}


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line for the person starting the bot."""


@dataclass(frozen=True)
class WeeklyAt:
    weekday: int  # 0 = Monday, as datetime.weekday()
    at: time

    @property
    def day_name(self) -> str:
        return WEEKDAYS[self.weekday]


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None
    slack_app_token: str | None
    slack_signing_secret: str | None
    slack_api_url: str
    database_url: str
    timezone: ZoneInfo
    kudos_channel: str | None
    ideas_channel: str | None
    tips_channel: str | None
    celebration_channel: str | None
    leads: frozenset[str]
    admins: frozenset[str]
    values: tuple[str, ...]
    idea_categories: tuple[str, ...]
    kudos_daily_limit: int
    kudos_emoji: str
    daily_tip_at: time
    celebration_at: WeeklyAt
    digest_at: WeeklyAt
    checkin_at: WeeklyAt  # growth-goal check-ins
    mentor_match_at: WeeklyAt
    mentor_every_weeks: int
    skills: tuple[str, ...]  # offered and wanted for mentoring; free #tags are accepted too
    idea_review_votes: int  # votes that move a new idea to under-review
    lessons_channel: str | None
    lesson_promote_votes: int  # Useful votes that make a lesson a tip
    zendesk_secret: str | None  # signs the Zendesk webhook of customer compliments
    compliments_secret: str | None  # signs customer compliments from any other help desk
    compliments_public: bool  # also celebrate customer compliments in the kudos channel
    zendesk_subdomain: str | None  # `acme` for acme.zendesk.com: Zendesk's ticket links must point there
    include_guests: bool  # guest accounts count as members of the team (recognition gaps)
    feedback_max_people: int  # people one /feedback request may ask (admins: any number)
    daily_post_limit: int  # ideas and lessons together one person may post a day (admins: no limit)
    log_format: str  # "text" (readable) or "json" (one object a line)
    metrics_dir: str | None  # PROMETHEUS_MULTIPROC_DIR: where gunicorn's workers count for /metrics

    def require(self, *names: str) -> None:
        """Stop with one clear line if a variable needed by the chosen command is missing."""
        for name in names:
            if not getattr(self, name.lower()):
                raise ConfigError(f"{name} is missing: set it in .env (get it from {WHERE_TO_GET[name]}).")

    def is_lead(self, user_id: str) -> bool:
        return user_id in self.leads or user_id in self.admins

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins


def load_settings(env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Build the settings from `env` (default: the process environment after loading `.env`)."""
    if env is None:
        if dotenv:
            load_dotenv(os.environ.get("KAIZEN_ENV_FILE", ".env"), override=False)
        env = os.environ

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(name, "").strip()
        return value or default

    bot_token = get("SLACK_BOT_TOKEN")
    if bot_token and not bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-.")
    app_token = get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")

    api_url = get("SLACK_API_URL", "https://slack.com/api/")
    if not re.match(r"^https?://", api_url):
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}.")
    if not api_url.endswith("/"):
        api_url += "/"

    kudos_channel = _channel(get, "KAIZEN_KUDOS_CHANNEL")
    tips_channel = _channel(get, "KAIZEN_TIPS_CHANNEL")
    return Settings(
        slack_bot_token=bot_token,
        slack_app_token=app_token,
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_api_url=api_url,
        database_url=get("DATABASE_URL", "sqlite:///kaizen.db"),
        timezone=_zone(get("KAIZEN_TIMEZONE", "UTC")),
        kudos_channel=kudos_channel,
        ideas_channel=_channel(get, "KAIZEN_IDEAS_CHANNEL"),
        tips_channel=tips_channel,
        celebration_channel=_channel(get, "KAIZEN_CELEBRATION_CHANNEL") or kudos_channel,
        leads=_ids(get("KAIZEN_LEADS", ""), "KAIZEN_LEADS"),
        admins=_ids(get("KAIZEN_ADMINS", ""), "KAIZEN_ADMINS"),
        values=_words(get("KAIZEN_VALUES", DEFAULT_VALUES), "KAIZEN_VALUES"),
        idea_categories=_words(get("KAIZEN_IDEA_CATEGORIES", DEFAULT_IDEA_CATEGORIES), "KAIZEN_IDEA_CATEGORIES"),
        kudos_daily_limit=_positive_int(get("KAIZEN_KUDOS_DAILY_LIMIT", "5"), "KAIZEN_KUDOS_DAILY_LIMIT"),
        kudos_emoji=get("KAIZEN_KUDOS_EMOJI", "clap").strip(":"),
        daily_tip_at=_time(get("KAIZEN_DAILY_TIP_AT", "09:30"), "KAIZEN_DAILY_TIP_AT"),
        celebration_at=_weekly(get("KAIZEN_CELEBRATION_AT", "fri 16:00"), "KAIZEN_CELEBRATION_AT"),
        digest_at=_weekly(get("KAIZEN_DIGEST_AT", "mon 09:00"), "KAIZEN_DIGEST_AT"),
        checkin_at=_weekly(get("KAIZEN_CHECKIN_AT", "wed 15:00"), "KAIZEN_CHECKIN_AT"),
        mentor_match_at=_weekly(get("KAIZEN_MENTOR_MATCH_AT", "mon 10:00"), "KAIZEN_MENTOR_MATCH_AT"),
        mentor_every_weeks=_positive_int(get("KAIZEN_MENTOR_EVERY_WEEKS", "2"), "KAIZEN_MENTOR_EVERY_WEEKS"),
        skills=_words(get("KAIZEN_SKILLS", DEFAULT_SKILLS), "KAIZEN_SKILLS"),
        idea_review_votes=_positive_int(get("KAIZEN_IDEA_REVIEW_VOTES", "5"), "KAIZEN_IDEA_REVIEW_VOTES"),
        lessons_channel=_channel(get, "KAIZEN_LESSONS_CHANNEL") or tips_channel,
        lesson_promote_votes=_positive_int(get("KAIZEN_LESSON_PROMOTE_VOTES", "3"), "KAIZEN_LESSON_PROMOTE_VOTES"),
        zendesk_secret=get("KAIZEN_ZENDESK_SECRET"),
        compliments_secret=get("KAIZEN_COMPLIMENTS_SECRET"),
        compliments_public=_bool(get("KAIZEN_COMPLIMENTS_PUBLIC", "false"), "KAIZEN_COMPLIMENTS_PUBLIC"),
        zendesk_subdomain=_subdomain(get("KAIZEN_ZENDESK_SUBDOMAIN")),
        include_guests=_bool(get("KAIZEN_INCLUDE_GUESTS", "false"), "KAIZEN_INCLUDE_GUESTS"),
        feedback_max_people=_positive_int(get("KAIZEN_FEEDBACK_MAX_PEOPLE", "10"), "KAIZEN_FEEDBACK_MAX_PEOPLE"),
        daily_post_limit=_positive_int(get("KAIZEN_DAILY_POST_LIMIT", "10"), "KAIZEN_DAILY_POST_LIMIT"),
        log_format=_choice(get("KAIZEN_LOG_FORMAT", "text"), ("text", "json"), "KAIZEN_LOG_FORMAT"),
        metrics_dir=get("PROMETHEUS_MULTIPROC_DIR"),
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"KAIZEN_TIMEZONE {name!r} is not a known IANA time zone (e.g. Europe/Paris).") from None


def _channel(get, name: str) -> str | None:
    value = get(name)
    if value and not re.fullmatch(r"[CGD][A-Z0-9]+", value):
        raise ConfigError(f"{name} must be a channel ID like C0123456789, got {value!r}.")
    return value


def _subdomain(value: str | None) -> str | None:
    if value and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", value):
        raise ConfigError(
            f"KAIZEN_ZENDESK_SUBDOMAIN must be the name before .zendesk.com (acme for acme.zendesk.com), got {value!r}."
        )
    return value.lower() if value else None


def _ids(raw: str, name: str) -> frozenset[str]:
    ids = frozenset(part.strip() for part in raw.split(",") if part.strip())
    bad = sorted(i for i in ids if not re.fullmatch(r"[UW][A-Z0-9]+", i))
    if bad:
        raise ConfigError(f"{name} must list Slack user IDs like U0123456789; not valid: {', '.join(bad)}.")
    return ids


def _words(raw: str, name: str) -> tuple[str, ...]:
    words = tuple(dict.fromkeys(w.strip().lower().lstrip("#") for w in raw.split(",") if w.strip()))
    bad = [w for w in words if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", w)]
    if not words or bad:
        raise ConfigError(f"{name} must be a comma-separated list of words like customer-first.")
    return words


def _positive_int(raw: str, name: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, got {raw!r}.")
    return int(raw)


def _bool(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        raise ConfigError(f"{name} must be true or false, got {raw!r}.")
    return value in ("true", "yes", "1", "on")


def _choice(raw: str, choices: tuple[str, ...], name: str) -> str:
    value = raw.strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be {' or '.join(choices)}, got {raw!r}.")
    return value


def _time(raw: str, name: str) -> time:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw.strip())
    if not match:
        raise ConfigError(f"{name} must be a time like 09:30, got {raw!r}.")
    return time(int(match[1]), int(match[2]))


def _weekly(raw: str, name: str) -> WeeklyAt:
    parts = raw.strip().lower().split()
    if len(parts) != 2 or parts[0][:3] not in WEEKDAYS:
        raise ConfigError(f"{name} must be a weekday and a time like 'fri 16:00', got {raw!r}.")
    return WeeklyAt(WEEKDAYS.index(parts[0][:3]), _time(parts[1], name))
