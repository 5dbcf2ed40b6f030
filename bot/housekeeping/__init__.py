"""Housekeeping: a daily clean-up, so the tables the platform shares do not grow for ever."""

from bot.core.context import Feature
from bot.housekeeping.jobs import CLEAN_UP

FEATURE = Feature(name="housekeeping", jobs=(CLEAN_UP,))
