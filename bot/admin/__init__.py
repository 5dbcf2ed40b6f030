"""Admin: `/kaizen` to hide abusive items (with an audit log, `kaizen export audit`), run a job, see what
the outbox holds and manage teams; and the Hide option on every feature's public messages."""

from bot.admin import reports
from bot.core.context import Feature
from bot.core.parts import SlashCommand

FEATURE = Feature(
    name="admin",
    exports=(reports.EXPORT,),
    commands=(
        SlashCommand(
            "/kaizen",
            "Admins: hide, run a job, see what waits to be sent, manage teams",
            "hide kudos 12 | run-job NAME | status | teams | team add NAME lead @x members @y | help",
        ),
    ),
)
