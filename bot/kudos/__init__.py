"""Kudos: recognition of effort and progress, by command, form, reaction or message shortcut."""

from bot.core.context import Feature
from bot.core.parts import MessageShortcut, Moderation, SlashCommand, channel_settings
from bot.kudos import reports
from bot.kudos.blocks import GIVE_KUDOS_SHORTCUT
from bot.kudos.rules import hide_kudos

FEATURE = Feature(
    name="kudos",
    home=reports.home_section,
    week=reports.week_part,
    digest=reports.digest_part,
    exports=(reports.EXPORT,),
    moderation=Moderation("kudos", hide_kudos),
    doctor=lambda _session, settings: channel_settings(KAIZEN_KUDOS_CHANNEL=settings.kudos_channel),
    commands=(
        SlashCommand(
            "/kudos", "Recognise a teammate's effort and progress", "@ana thanks for clearing the queue #teamwork"
        ),
    ),
    shortcuts=(MessageShortcut(GIVE_KUDOS_SHORTCUT, "Give kudos", "Recognise the author of this message"),),
    events=("reaction_added", "reaction_removed"),
    scopes=(
        "reactions:read",  # reaction kudos
        "channels:history",  # the text of a message given kudos by reaction (public channels only)
        "channels:read",  # whether a channel is public: only then is that text quoted
        "groups:read",  # ... a private channel answers that only with this
    ),
)
