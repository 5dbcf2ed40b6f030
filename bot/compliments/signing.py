"""How a help desk proves a compliment is its own: base64(HMAC-SHA256(secret, timestamp + raw body)),
Zendesk's webhook scheme, which Kaizen asks of every other help desk too."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from bot.core.refusal import Refused

WINDOW = timedelta(minutes=5)  # older (or further ahead) is refused: a replay, or a clock to set right


class BadSignature(Refused):
    """A request Kaizen cannot trust; nothing of it is kept."""


def check_signature(secret: str, timestamp: str | None, signature: str | None, body: bytes, now: datetime) -> None:
    """Raise BadSignature unless `signature` signs `timestamp` + `body` with `secret` and `timestamp`
    (Unix seconds, or ISO 8601 as Zendesk sends it) is within WINDOW of `now`."""
    if not timestamp or not signature:
        raise BadSignature("the signature or its timestamp header is missing")
    expected = base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature.strip().encode()):
        raise BadSignature("the signature does not match the body and timestamp")
    sent_at = _moment(timestamp.strip())
    if sent_at is None:
        raise BadSignature("the timestamp is neither Unix seconds nor ISO 8601")
    if abs(now - sent_at) > WINDOW:
        raise BadSignature("the timestamp is more than 5 minutes away from now")


def _moment(timestamp: str) -> datetime | None:
    try:
        if timestamp.isdigit():
            return datetime.fromtimestamp(int(timestamp), UTC)
        moment = datetime.fromisoformat(timestamp)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
