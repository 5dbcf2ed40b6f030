"""The App Home tab: each person's kudos, feedback, ideas, tip and more, kept current."""

from bot.core.context import Feature
from bot.home.rules import republish_homes

FEATURE = Feature(name="home", on_context=republish_homes, events=("app_home_opened",))
