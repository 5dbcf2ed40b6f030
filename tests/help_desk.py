"""A help desk sending ratings to Kaizen's integrations: JSON bodies, signed as Zendesk signs its
webhooks (base64 of HMAC-SHA256 over timestamp + body), through the WSGI app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.wsgi_requests import call

ZENDESK_SECRET = "zendesk-webhook-secret"
COMPLIMENTS_SECRET = "any-desk-shared-secret"
ZENDESK_PATH = "/integrations/zendesk"
COMPLIMENTS_PATH = "/integrations/compliments"


def rating(ticket_id: Any = "4711", **fields: Any) -> bytes:
    body = {
        "ticket_id": ticket_id,
        "ticket_url": f"https://acme.zendesk.com/agent/tickets/{ticket_id}",
        "agent_email": "ana@example.com",
        "rating": "good",
        "comment": "Ana fixed it in five minutes, thank you!",
        **fields,
    }
    return json.dumps(body).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()).decode()


def zendesk_headers(body: bytes, at: datetime, secret: str = ZENDESK_SECRET) -> dict[str, str]:
    timestamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")  # as Zendesk sends it
    return {
        "X-Zendesk-Webhook-Signature": signature(secret, timestamp, body),
        "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
    }


def kaizen_headers(body: bytes, at: datetime, secret: str = COMPLIMENTS_SECRET) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    return {"X-Kaizen-Signature": signature(secret, timestamp, body), "X-Kaizen-Timestamp": timestamp}


class HelpDesk:
    """Posts to the app at the clock's time: `zendesk(body)` signed as Zendesk, `other(body)` as any desk."""

    def __init__(self, application: Callable, clock: Callable[[], datetime]):
        self.application = application
        self.clock = clock

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        return call(self.application, "POST", path, body, headers, content_type="application/json")

    def zendesk(self, body: bytes, **signing: Any) -> tuple[int, str]:
        return self.post(ZENDESK_PATH, body, zendesk_headers(body, signing.pop("at", self.clock()), **signing))

    def other(self, body: bytes, **signing: Any) -> tuple[int, str]:
        return self.post(COMPLIMENTS_PATH, body, kaizen_headers(body, signing.pop("at", self.clock()), **signing))
