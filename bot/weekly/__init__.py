"""Weekly: the celebration everyone sees and the digest leads get, assembled from every feature's part."""

from bot.core.context import Feature
from bot.core.parts import channel_settings
from bot.weekly.celebration import WEEKLY_CELEBRATION
from bot.weekly.digest import LEAD_DIGEST

FEATURE = Feature(
    name="weekly",
    jobs=(WEEKLY_CELEBRATION, LEAD_DIGEST),
    scopes=("files:write",),  # the chart in the lead digest
    doctor=lambda _session, settings: channel_settings(KAIZEN_CELEBRATION_CHANNEL=settings.celebration_channel),
)
