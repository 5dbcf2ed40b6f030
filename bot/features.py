"""The one list of Kaizen's features.

The app (listeners), the HTTP server (routes), the scheduler and `kaizen jobs run` (jobs), `kaizen
export` (exports), the manifest (commands, events, scopes), the Home tab, the weekly celebration and
the lead digest (their parts, in this order) and the migrations (tables) all read it. A new feature
is a package in bot/, a module in handlers/ and one in storage/, and one line here.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import handlers.admin
import handlers.compliments
import handlers.feedback
import handlers.goals
import handlers.home
import handlers.ideas
import handlers.kudos
import handlers.lessons
import handlers.mentor
import handlers.teams
import handlers.tips
from bot import (
    admin,
    compliments,
    directory,
    feedback,
    goals,
    home,
    housekeeping,
    ideas,
    kudos,
    lessons,
    mentor,
    teams,
    tips,
    weekly,
)
from bot.core.context import Feature
from storage.models import Base

FEATURES: tuple[Feature, ...] = (
    kudos.FEATURE.with_listeners(handlers.kudos.register),
    compliments.FEATURE.with_routes(handlers.compliments.ROUTES),
    feedback.FEATURE.with_listeners(handlers.feedback.register),
    ideas.FEATURE.with_listeners(handlers.ideas.register),
    tips.FEATURE.with_listeners(handlers.tips.register),
    lessons.FEATURE.with_listeners(handlers.lessons.register),
    goals.FEATURE.with_listeners(handlers.goals.register),
    mentor.FEATURE.with_listeners(handlers.mentor.register),
    home.FEATURE.with_listeners(handlers.home.register),
    weekly.FEATURE,
    housekeeping.FEATURE,
    directory.FEATURE,
    teams.FEATURE.with_listeners(handlers.teams.register),
    admin.FEATURE.with_listeners(handlers.admin.register),
)


def tables() -> MetaData:
    """Every table, for Alembic and the tests: each feature's storage module declares its tables on
    the shared declarative base, and importing the features above imported those modules."""
    return Base.metadata
