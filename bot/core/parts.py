"""The plain pieces a feature adds to the shared surfaces: the weekly celebration, the lead digest,
exports, `kaizen doctor` and the Slack app manifest. Each feature builds its own; core and the weekly feature
only assemble them, in the order of bot/features.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.core.settings import Settings
from storage.db import Range


@dataclass(frozen=True)
class Scope:
    """The people a report is about: everyone (`people` None), or a team's people."""

    name: str = ""  # the team's name (plain text); "" for everyone
    people: frozenset[str] | None = None

    @property
    def everyone(self) -> bool:
        return self.people is None

    def covers(self, user_id: str | None) -> bool:
        """Whether this person is one of the scope's; nobody (an anonymous author) is only everyone's."""
        return self.people is None or (user_id is not None and user_id in self.people)

    def total(self, per_person: Mapping[str | None, Sequence[int]], width: int) -> list[int]:
        """The scope's people's counts (`width` of them each) added up, looking up only its people, so
        a part adds up forty teams in one pass over the people rather than forty over the counts."""
        rows = per_person.values() if self.people is None else (per_person[p] for p in self.people if p in per_person)
        totals = [0] * width
        for row in rows:
            for i, n in enumerate(row):
                totals[i] += n
        return totals


EVERYONE = Scope()


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
    """A feature's share of the lead digest about one scope (everyone, or a team's people): counts only,
    and it names nobody outside the scope."""

    comparison: list[str]  # lines of "this week against last week"
    blocks: list[dict] = field(default_factory=list)  # sections of its own
    summary: str = ""  # a few words for the headline, e.g. "2 kudos in the last 7 days (+1)"
    # A team's scope: a few words for its line in an org-wide lead's digest, e.g. "12 kudos this week".
    brief: list[str] = field(default_factory=list)
    # Everyone's scope: what every lead gets once about the whole workspace, whatever their scope, with
    # what concerns the reader's own people (the Scope given) marked, e.g. the ideas waiting for review.
    workspace: Callable[[Scope], list[dict]] | None = None


# A feature's digest hook: its part for each of the scopes, in their order (None: nothing to say), built
# in one pass over the weeks' data however many scopes there are.
DigestParts = Callable[[Session, Settings, DigestWindow, Sequence[Scope]], list[DigestPart | None]]


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
