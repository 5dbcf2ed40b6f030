"""Tips: a short learning nudge every working day, in a channel and by DM to subscribers."""

from bot.core.context import Feature
from bot.core.parts import SlashCommand, channel_settings
from bot.tips import reports
from bot.tips.jobs import DAILY_TIP

FEATURE = Feature(
    name="tips",
    jobs=(DAILY_TIP,),
    home=reports.home_section,
    doctor=lambda _session, settings: channel_settings(KAIZEN_TIPS_CHANNEL=settings.tips_channel),
    commands=(SlashCommand("/tip", "Today's learning tip; subscribe to get it daily", "subscribe"),),
)
