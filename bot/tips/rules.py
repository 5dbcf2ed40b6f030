"""Learning tips: the shipped set, today's tip, adding and retiring, and subscriptions."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy.orm import Session

from bot.core.refusal import Refused
from bot.core.settings import Settings
from bot.core.text import escape, from_slack_formatted
from storage import tips as store
from storage.db import lock_until_commit
from storage.outbox import claim_request
from storage.tips import Tip

TIPS_FILE = Path(__file__).with_name("tips.toml")
MAX_TIP_LENGTH = 500
# `#theme` at the very end; Slack turns `#feedback` into `<#C123|feedback>` when a channel has that name.
THEME_AT_END = re.compile(r"(?:^|\s)(?:#([\w-]+)|<#[CG][A-Z0-9]+\|([\w-]+)>)\s*$")


class TipRefused(Refused):
    """A /tip request that cannot be done."""


@cache
def builtin_tips() -> tuple[dict, ...]:
    """The tips in bot/tips/tips.toml, interleaved by theme so that consecutive days change theme."""
    with TIPS_FILE.open("rb") as file:
        tips = tomllib.load(file)["tip"]
    rank_in_theme: Counter[str] = Counter()
    ranked = []
    for tip in tips:
        ranked.append((rank_in_theme[tip["theme"]], tip))
        rank_in_theme[tip["theme"]] += 1
    ranked.sort(key=lambda pair: pair[0])  # stable: themes keep their file order within a rank
    return tuple({"key": t["key"], "theme": t["theme"], "text": escape(t["text"])} for _, t in ranked)


def themes() -> tuple[str, ...]:
    return tuple(dict.fromkeys(tip["theme"] for tip in builtin_tips()))


def todays_tip(session: Session, settings: Settings, now: datetime) -> Tip:
    """The tip of the day `now` falls in; chosen on first use as the active tip shown longest ago.
    A day with no daily post (the weekend) leaves the queued tips for the next working day."""
    day = now.astimezone(settings.timezone).date()
    tip = store.tip_of(session, day)
    if tip is None:
        store.add_builtin(session, list(builtin_tips()), now)
        store.set_tip_of(session, day, store.next_tip(session, day, queued_first=is_working_day(day)))
        tip = store.tip_of(session, day)  # ours, or the one a concurrent request chose first
    return tip


def queue_tip(
    session: Session,
    settings: Settings,
    *,
    text: str,
    theme: str | None,
    credit: str,
    added_by: str | None,
    now: datetime,
) -> Tip:
    """Add a tip that comes next: the daily tip of the next working day after `now`, or of the
    working day after the last tip queued before it; then one of the rotation like any tip. Its
    `show_from` is that day, which its author is told. `credit` (safe mrkdwn, e.g. "shared by
    <@U123>") is shown with it wherever it is shown."""
    lock_until_commit(session, "tips queue")  # two promotions at once take two days, not the same one
    today, last_queued = now.astimezone(settings.timezone).date(), store.last_queued_day(session)
    tip = Tip(
        theme=theme,
        text=text,
        credit=credit,
        added_by=added_by,
        show_from=next_working_day(max(today, last_queued) if last_queued else today),
        created_at=now,
    )
    session.add(tip)
    session.flush()
    return tip


def is_working_day(day: date) -> bool:
    """Monday to Friday: the days the daily tip is posted."""
    return day.weekday() < 5


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def parse_new_tip(text: str) -> tuple[str, str | None]:
    """`Reread the first message #empathy` → (safe mrkdwn text, "empathy")."""
    match = THEME_AT_END.search(text)
    if match is None:
        return from_slack_formatted(text).strip(), None
    return from_slack_formatted(text[: match.start()]).strip(), (match[1] or match[2]).lower()


def add_tip(session: Session, settings: Settings, *, user_id: str, text: str, request_key: str, now: datetime) -> Tip:
    """Raises TipRefused (nothing written) or DuplicateRequest."""
    if not settings.is_admin(user_id):
        raise TipRefused("Only admins can add tips. Got a good one? Share it with an admin, or post it with `/idea`.")
    body, theme = parse_new_tip(text)
    if theme is not None and theme not in themes():
        raise TipRefused(f"I don't know the theme `#{escape(theme)}`. Pick one of: {_theme_list()}.")
    if not body:
        raise TipRefused(
            "What's the tip? For example: `/tip add Reread the customer's first message before you close #empathy`."
        )
    if len(body) > MAX_TIP_LENGTH:
        raise TipRefused(f"Tips work best short: please keep it under {MAX_TIP_LENGTH} characters.")
    claim_request(session, request_key, now)
    tip = Tip(theme=theme, text=body, added_by=user_id, created_at=now)
    session.add(tip)
    session.flush()
    return tip


def retire_tip(session: Session, settings: Settings, *, user_id: str, argument: str, now: datetime) -> Tip:
    if not settings.is_admin(user_id):
        raise TipRefused("Only admins can retire tips. If one missed the mark, tell an admin its number.")
    number = argument.strip().lstrip("#")
    if not number.isdigit():
        raise TipRefused("Say which tip by its number: `/tip retire 12`. `/tip` shows you today's tip with its number.")
    store.add_builtin(session, list(builtin_tips()), now)
    tip = session.get(Tip, int(number))
    if tip is None or not tip.active:
        raise TipRefused(f"There is no active tip #{number}.")
    if store.count_active(session) == 1:
        raise TipRefused("That is the last active tip: add another with `/tip add` first.")
    tip.active = False
    return tip


def subscribe(session: Session, user_id: str, now: datetime) -> bool:
    return store.subscribe(session, user_id, now)


def unsubscribe(session: Session, user_id: str) -> bool:
    return store.unsubscribe(session, user_id)


def _theme_list() -> str:
    return ", ".join(f"#{theme}" for theme in themes())
