"""Feedback: growth-oriented feedback, asked for or given, possibly anonymous."""

from bot.core.context import Feature
from bot.core.parts import Moderation, SlashCommand
from bot.feedback import reports
from bot.feedback.jobs import FORGET_COUNTS_JOB, REMINDERS_JOB
from bot.feedback.rules import hide_feedback

FEATURE = Feature(
    name="feedback",
    jobs=(REMINDERS_JOB, FORGET_COUNTS_JOB),
    home=reports.home_section,
    digest=reports.digest_part,
    exports=(reports.EXPORT,),
    moderation=Moderation("feedback", hide_feedback),
    commands=(
        SlashCommand(
            "/feedback", "Ask for or give growth-oriented feedback", "request @ana @ben about the refund escalation"
        ),
    ),
)
