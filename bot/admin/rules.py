"""What admins may do from Slack: hide an item of any feature that offers it (Feature.moderation),
Only people in KAIZEN_ADMINS."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.context import Feature
from bot.core.refusal import Refused
from bot.core.settings import Settings
from storage import admin as store
from storage.outbox import claim_request


class AdminRefused(Refused):
    """Something only admins may do, or an admin command that cannot be done."""


def check_admin(settings: Settings, user_id: str) -> None:
    if not settings.is_admin(user_id):
        raise AdminRefused("Only Kaizen admins (KAIZEN_ADMINS) can do that. `/kaizen help` says what they can do.")


def kinds(features: tuple[Feature, ...]) -> list[str]:
    """What admins can hide, as they type it: kudos, idea, feedback."""
    return [feature.moderation.kind for feature in features if feature.moderation]


def parse_hide(text: str, features: tuple[Feature, ...]) -> tuple[str, int]:
    """`kudos 12`, `idea #7` (after `/kaizen hide`) → (kind, number)."""
    match = re.fullmatch(r"(\w+)\s+#?(\d+)", text.strip())
    if not match or match[1].lower() not in kinds(features):
        raise AdminRefused(f"Say what to hide and its number: {' or '.join(_examples(features))}.")
    return match[1].lower(), int(match[2])


def hide(
    session: Session,
    settings: Settings,
    features: tuple[Feature, ...],
    *,
    by: str,
    kind: str,
    number: int,
    request_key: str,
    now: datetime,
) -> str:
    """An admin hides item `number` of `kind`; the audit log keeps who and when. Returns what was hidden.

    Raises Refused (not an admin, no such item, hidden already) or DuplicateRequest (a double click).
    """
    check_admin(settings, by)
    moderation = next((f.moderation for f in features if f.moderation and f.moderation.kind == kind), None)
    if moderation is None:
        raise AdminRefused(f"I can hide {', '.join(kinds(features))}; not `{kind}`.")
    if number >= 2**31:  # past any id the database hands out (and PostgreSQL's integer column)
        raise AdminRefused(f"There is no {kind} #{number}.")
    claim_request(session, request_key, now)
    hidden = moderation.hide(session, settings, number, now)
    store.log_hide(session, kind, number, by, now)
    return hidden


def _examples(features: tuple[Feature, ...]) -> list[str]:
    return [f"`/kaizen hide {kind} 12`" for kind in kinds(features)]
