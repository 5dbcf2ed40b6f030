"""Growth goals: what each person wants to get better at, with a weekly check-in, milestones
celebrated on the way, and help when they are stuck."""

from bot.core.context import Feature
from bot.core.parts import SlashCommand
from bot.goals import reports
from bot.goals.jobs import GOAL_CHECKINS

FEATURE = Feature(
    name="goals",
    jobs=(GOAL_CHECKINS,),
    home=reports.home_section,
    week=reports.week_part,
    digest=reports.digest_part,
    exports=(reports.EXPORT,),
    commands=(
        SlashCommand(
            "/goal",
            "Set a growth goal for yourself, with a weekly check-in",
            "add Handle billing disputes on my own by 2026-12-31",
        ),
    ),
)
