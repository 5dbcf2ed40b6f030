"""Admin: `/kaizen` to hide abusive items (with an audit log), run a job, and see what the outbox
holds; and the Hide option on every feature's public messages."""

from bot.core.context import Feature
from bot.core.parts import SlashCommand

FEATURE = Feature(
    name="admin",
    commands=(
        SlashCommand(
            "/kaizen",
            "Admins: hide, run a job, see what waits to be sent",
            "hide kudos 12 | run-job NAME | status | help",
        ),
    ),
)
