"""The plain pieces a feature adds to the shared surfaces: the weekly celebration, the lead digest,
exports, `kaizen doctor` and the Slack app manifest. Each feature builds its own; core and the weekly feature
only assemble them, in the order of bot/features.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.core.settings import Settings
from storage.db import Range


@dataclass(frozen=True)
class WeekPart:
    """A feature's share of the weekly celebration; every part shown has its few words in the headline."""

    blocks: list[dict]
    summary: str  # a few words for the headline, e.g. "4 kudos for 3 teammates"

    def __post_init__(self) -> None:
        if not self.summary:
            raise ValueError("a part of the weekly celebration needs a summary for the headline")


@dataclass(frozen=True)
class DigestWindow:
    """The weeks a lead digest compares: the 7 days up to `now`, and the 7 before those."""

    now: datetime  # in the team's zone
    this_week: Range
    last_week: Range


@dataclass(frozen=True)
class DigestPart:
    """A feature's share of the lead digest: counts only."""

    comparison: list[str]  # lines of "this week against last week"
    blocks: list[dict] = field(default_factory=list)  # sections of its own
    summary: str = ""  # a few words for the headline, e.g. "2 kudos in the last 7 days (+1)"


ExportRows = Callable[[Session, datetime | None, ZoneInfo], Iterable[list[str]]]


@dataclass(frozen=True)
class Export:
    """`kaizen export NAME`: a header row, then rows from `--since` (None: all) on."""

    name: str
    header: list[str]
    rows: ExportRows


@dataclass(frozen=True)
class SlashCommand:
    command: str  # "/kudos"
    description: str
    usage_hint: str


@dataclass(frozen=True)
class MessageShortcut:
    callback_id: str
    name: str
    description: str


@dataclass(frozen=True)
class Moderation:
    """How admins hide one of a feature's items: `/kaizen hide KIND N`, or the Hide option on its
    public message (bot.core.blocks.hide_menu)."""

    kind: str  # the word admins type: "kudos", "idea", "feedback"
    # Hides item N (its rows, its messages), returns a few words saying what it was; raises Refused.
    hide: Callable[[Session, Settings, int, datetime], str]


@dataclass(frozen=True)
class DoctorPart:
    """What `kaizen doctor` checks on a feature's behalf: the channels it posts to and the people it
    relies on, each with where it is set ("KAIZEN_KUDOS_CHANNEL", "team Support's leads"), which the
    fix names."""

    channels: tuple[tuple[str, str], ...] = ()  # (channel ID, where it is set)
    people: tuple[tuple[str, str], ...] = ()  # (user ID, where it is set)


def channel_settings(**channels: str | None) -> DoctorPart:
    """The channels a feature posts to, by the variable that sets each; those not set are left out."""
    return DoctorPart(channels=tuple((channel, name) for name, channel in channels.items() if channel))
