"""Teams: each lead sees and serves their own people. A team is a name, its leads, its members (Slack
user groups and people named one by one) and optionally its channel; admins manage them in Slack with
`/kaizen team …` and `/kaizen teams`, and the other features read who is in which team (bot.teams.people)."""

from bot.core.context import Feature
from bot.teams.groups import SCOPE
from bot.teams.people import doctor_part

FEATURE = Feature(
    name="teams",
    events=("subteam_members_changed", "subteam_updated"),  # a user group changed: its teams follow it
    scopes=(SCOPE,),  # usergroups:read: the user groups and their members
    doctor=doctor_part,  # each team's channel and leads
)
