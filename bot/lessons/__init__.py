"""Lessons: what the team learns from customers, shared; the most useful become the daily tips."""

from bot.core.context import Feature
from bot.core.parts import SlashCommand, channel_settings
from bot.lessons import reports

FEATURE = Feature(
    name="lessons",
    home=reports.home_section,
    week=reports.week_part,
    digest=reports.digest_part,
    exports=(reports.EXPORT,),
    doctor=lambda _session, settings: channel_settings(KAIZEN_LESSONS_CHANNEL=settings.lessons_channel),
    commands=(
        SlashCommand(
            "/lesson",
            "Share what a customer taught you; the most useful become daily tips",
            "Repeat the order number back before you refund #active-listening",
        ),
    ),
)
