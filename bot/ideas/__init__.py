"""Ideas: improvements anyone can suggest and vote for, and leads move from new to implemented."""

from bot.core.context import Feature
from bot.core.parts import Moderation, SlashCommand, channel_settings
from bot.ideas import reports
from bot.ideas.rules import hide_idea

FEATURE = Feature(
    name="ideas",
    home=reports.home_section,
    week=reports.week_part,
    digest=reports.digest_part,
    exports=(reports.EXPORT,),
    moderation=Moderation("idea", hide_idea),
    doctor=lambda _session, settings: channel_settings(KAIZEN_IDEAS_CHANNEL=settings.ideas_channel),
    commands=(
        SlashCommand(
            "/idea", "Suggest an improvement, vote, follow it to done", "Pre-fill the refund form from the order page"
        ),
    ),
)
