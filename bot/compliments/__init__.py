"""Customer compliments: a help desk's good rating becomes a kudos from a customer for the agent.

It has no Slack listeners: its requests come from a help desk, at the HTTP routes in
handlers/compliments.py (bot/features.py attaches them).
"""

from bot.compliments import reports
from bot.core.context import Feature

FEATURE = Feature(
    name="compliments",
    week=reports.week_part,
    digest=reports.digest_part,
    scopes=("users:read.email",),  # find the agent a compliment is for by their e-mail
)
