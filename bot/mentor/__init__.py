"""Mentoring: people who want to learn a skill are paired with people who offer it, every few weeks."""

from bot.core.context import Feature
from bot.core.parts import SlashCommand
from bot.mentor import reports
from bot.mentor.jobs import MENTOR_FOLLOW_UPS, MENTOR_MATCHING

FEATURE = Feature(
    name="mentor",
    jobs=(MENTOR_MATCHING, MENTOR_FOLLOW_UPS),
    home=reports.home_section,
    digest=reports.digest_part,
    commands=(SlashCommand("/mentor", "Offer or learn a skill: mentoring pairs by skill", "offer #billing"),),
    scopes=("mpim:write",),  # open each pair's group DM
)
