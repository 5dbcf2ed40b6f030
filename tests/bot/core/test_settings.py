from datetime import time

import pytest

from bot.core.settings import ConfigError, load_settings
from tests.conftest import base_env


def test_defaults():
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1"})
    assert settings.database_url == "sqlite:///kaizen.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.timezone.key == "UTC"
    assert settings.values == ("growth-mindset", "customer-first", "ownership", "teamwork", "learning")
    assert settings.kudos_daily_limit == 5 and settings.kudos_emoji == "clap"
    assert settings.daily_tip_at == time(9, 30)
    assert (settings.celebration_at.weekday, settings.celebration_at.at) == (4, time(16, 0))
    assert (settings.digest_at.weekday, settings.digest_at.at) == (0, time(9, 0))
    assert settings.celebration_channel is None
    assert (settings.checkin_at.weekday, settings.checkin_at.at) == (2, time(15, 0))
    assert (settings.mentor_match_at.weekday, settings.mentor_match_at.at, settings.mentor_every_weeks) == (
        0,
        time(10, 0),
        2,
    )
    assert settings.skills[:2] == ("de-escalation", "product-knowledge") and len(settings.skills) == 6
    assert (settings.idea_review_votes, settings.lesson_promote_votes) == (5, 3)
    assert settings.zendesk_secret is None and settings.compliments_secret is None
    assert settings.compliments_public is False
    assert settings.include_guests is False
    assert (settings.feedback_max_people, settings.daily_post_limit, settings.zendesk_subdomain) == (10, 10, None)


def test_lessons_channel_defaults_to_tips_channel():
    assert load_settings(base_env()).lessons_channel == "CTIPS"
    assert load_settings(base_env(KAIZEN_LESSONS_CHANNEL="CLESSONS")).lessons_channel == "CLESSONS"
    assert load_settings(base_env(KAIZEN_COMPLIMENTS_PUBLIC="true")).compliments_public is True
    assert load_settings(base_env(KAIZEN_INCLUDE_GUESTS="yes")).include_guests is True


def test_celebration_channel_defaults_to_kudos_channel():
    assert load_settings(base_env()).celebration_channel == "CKUDOS"


def test_settings_are_frozen():
    settings = load_settings(base_env())
    with pytest.raises(AttributeError):
        settings.kudos_daily_limit = 9


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "must be a bot token starting with xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-1", "starting with xapp-"),
        ("KAIZEN_TIMEZONE", "Europe/Atlantis", "not a known IANA time zone"),
        ("KAIZEN_DAILY_TIP_AT", "9.30", "must be a time like 09:30"),
        ("KAIZEN_DAILY_TIP_AT", "25:00", "must be a time like 09:30"),
        ("KAIZEN_CELEBRATION_AT", "friday", "weekday and a time"),
        ("KAIZEN_DIGEST_AT", "someday 09:00", "weekday and a time"),
        ("KAIZEN_KUDOS_DAILY_LIMIT", "0", "at least 1"),
        ("KAIZEN_KUDOS_CHANNEL", "#kudos", "channel ID"),
        ("KAIZEN_LEADS", "U1,alice", "not valid: alice"),
        ("KAIZEN_CHECKIN_AT", "wed", "weekday and a time"),
        ("KAIZEN_MENTOR_EVERY_WEEKS", "0", "at least 1"),
        ("KAIZEN_SKILLS", "billing,Written Tone", "comma-separated list of words"),
        ("KAIZEN_IDEA_REVIEW_VOTES", "five", "at least 1"),
        ("KAIZEN_COMPLIMENTS_PUBLIC", "maybe", "true or false"),
        ("KAIZEN_INCLUDE_GUESTS", "guests", "true or false"),
        ("KAIZEN_FEEDBACK_MAX_PEOPLE", "0", "at least 1"),
        ("KAIZEN_DAILY_POST_LIMIT", "ten", "at least 1"),
        ("KAIZEN_ZENDESK_SUBDOMAIN", "acme.zendesk.com", "the name before .zendesk.com (acme for acme.zendesk.com)"),
    ],
)
def test_invalid_values_stop_with_one_clear_line(name, value, message):
    with pytest.raises(ConfigError) as error:
        load_settings(base_env(**{name: value}))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_require_names_the_missing_variable_and_where_to_get_it():
    settings = load_settings({})
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is missing.*OAuth & Permissions"):
        settings.require("SLACK_BOT_TOKEN")
