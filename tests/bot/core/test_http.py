import hashlib
import hmac
import io
import time
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

from slack_bolt import BoltRequest
from sqlalchemy import func, select

from bot.core.app import create_app
from bot.core.context import build_context
from bot.core.http import wsgi_app
from bot.core.settings import load_settings
from bot.features import FEATURES
from storage.kudos import Kudos
from tests.slack_requests import signed_headers


def kudos_body(fake_slack) -> str:
    return urlencode(
        {
            "team_id": "T1",
            "user_id": "UGIVER",
            "command": "/kudos",
            "text": "<@UANA|ana> thanks for the cover",
            "response_url": fake_slack.response_url(),
            "trigger_id": "t-http",
            "channel_id": "C1",
        }
    )


def call(application, method, path, body="", headers=None):
    environ = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body.encode())),
            "wsgi.input": io.BytesIO(body.encode()),
        }
    )
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    status = []
    chunks = application(environ, lambda s, h: status.append(s))
    return int(status[0].split()[0]), b"".join(chunks).decode()


def kudos_count(ctx):
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Kudos))


def test_healthz(app, ctx):
    assert call(wsgi_app(app, ctx.engine), "GET", "/healthz") == (200, "ok\n")


def test_signed_request_is_served(app, ctx, fake_slack):
    body = kudos_body(fake_slack)
    status, _ = call(wsgi_app(app, ctx.engine), "POST", "/slack/events", body, signed_headers(body))
    assert status == 200 and kudos_count(ctx) == 1


def test_missing_wrong_or_stale_signatures_get_401_and_change_nothing(app, ctx, fake_slack):
    application = wsgi_app(app, ctx.engine)
    body = kudos_body(fake_slack)
    stale = signed_headers(body, timestamp=int(time.time()) - 10 * 60)
    wrong = signed_headers(body, secret="not-the-secret")
    for headers in ({}, wrong, stale):
        status, _ = call(application, "POST", "/slack/events", body, headers)
        assert status == 401
    assert kudos_count(ctx) == 0
    assert fake_slack.calls_to("chat.postMessage") == []


def test_other_paths_are_not_found(app, ctx):
    assert call(wsgi_app(app, ctx.engine), "GET", "/")[0] == 404


def test_without_a_signing_secret_no_http_request_is_served(env, fake_slack, engine, clock):
    """A missing secret never switches verification off: unsigned, and signed with an empty key, both refused."""
    del env["SLACK_SIGNING_SECRET"]
    ctx = build_context(load_settings(env), FEATURES, engine=engine, clock=clock)
    application = wsgi_app(create_app(ctx, process_before_response=True), ctx.engine)
    body = kudos_body(fake_slack)
    timestamp = str(int(time.time()))
    empty_key = hmac.new(b"", f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    signed_with_nothing = {"x-slack-request-timestamp": timestamp, "x-slack-signature": f"v0={empty_key}"}
    for headers in ({}, signed_with_nothing):
        status, _ = call(application, "POST", "/slack/events", body, headers)
        assert status == 401
    assert kudos_count(ctx) == 0


def test_socket_mode_requests_are_served_without_a_signing_secret(env, fake_slack, engine, clock):
    del env["SLACK_SIGNING_SECRET"]
    ctx = build_context(load_settings(env), FEATURES, engine=engine, clock=clock)
    app = create_app(ctx, process_before_response=True)
    body = kudos_body(fake_slack)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    response = app.dispatch(BoltRequest(body=body, headers=headers, mode="socket_mode"))
    assert response.status == 200 and kudos_count(ctx) == 1
