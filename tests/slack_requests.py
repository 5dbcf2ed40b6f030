"""Signed requests into a Bolt app, shaped like the ones Slack sends."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret"
_ids = itertools.count(1)


def signed_headers(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"x-slack-request-timestamp": str(timestamp), "x-slack-signature": signature}


class SlackRequests:
    """Builds and dispatches commands, interactions and events; returns Bolt's response."""

    def __init__(self, app: App, response_url: str, *, team_id: str = "T1"):
        self.app = app
        self.response_url = response_url
        self.team_id = team_id

    def dispatch(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> BoltResponse:
        all_headers = {"content-type": content_type, **signed_headers(body), **(headers or {})}
        return self.app.dispatch(BoltRequest(body=body, headers=all_headers))

    def command(
        self,
        name: str,
        text: str = "",
        *,
        user: str = "UGIVER",
        channel: str = "CGENERAL",
        trigger_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> BoltResponse:
        body = urlencode(
            {
                "token": "legacy",
                "team_id": self.team_id,
                "channel_id": channel,
                "user_id": user,
                "user_name": user.lower(),
                "command": name,
                "text": text,
                "response_url": self.response_url,
                "trigger_id": trigger_id or f"trigger-{next(_ids)}",
            }
        )
        return self.dispatch(body, "application/x-www-form-urlencoded", headers)

    def interaction(self, payload: dict[str, Any], headers: dict[str, str] | None = None) -> BoltResponse:
        payload = {"team": {"id": self.team_id}, **payload}
        body = urlencode({"payload": json.dumps(payload)})
        return self.dispatch(body, "application/x-www-form-urlencoded", headers)

    def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        user: str = "UGIVER",
        private_metadata: str = "",
        view_id: str | None = None,
    ) -> BoltResponse:
        return self.interaction(
            {
                "type": "view_submission",
                "user": {"id": user},
                "trigger_id": f"trigger-{next(_ids)}",
                "view": {
                    "id": view_id or f"V{next(_ids)}",
                    "callback_id": callback_id,
                    "type": "modal",
                    "private_metadata": private_metadata,
                    "state": {"values": values},
                },
            }
        )

    def block_action(
        self,
        action_id: str,
        value: str = "",
        *,
        user: str = "UGIVER",
        channel: str = "CGENERAL",
        message_ts: str = "1700000000.000100",
        extra: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
    ) -> BoltResponse:
        action = {
            "action_id": action_id,
            "block_id": "b",
            "type": "button",
            "value": value,
            "action_ts": str(time.time()),
            **(extra or {}),
        }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user},
            "trigger_id": f"trigger-{next(_ids)}",
            "actions": [action],
        }
        if view is not None:  # a Home tab or modal: Slack gives no response_url there
            payload["view"] = view
        else:
            payload["response_url"] = self.response_url
            payload["channel"] = {"id": channel}
            payload["container"] = {"type": "message", "channel_id": channel, "message_ts": message_ts}
            payload["message"] = {"ts": message_ts, "text": ""}
        return self.interaction(payload)

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, headers: dict[str, str] | None = None
    ) -> BoltResponse:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": self.team_id,
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": event_id or f"Ev{next(_ids)}",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        return self.dispatch(body, "application/json", headers)
