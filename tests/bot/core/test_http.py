import io
import time
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

from sqlalchemy import func, select

from bot.core.http import wsgi_app
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
    assert call(wsgi_app(app, ctx), "GET", "/healthz") == (200, "ok\n")


def test_signed_request_is_served(app, ctx, fake_slack):
    body = kudos_body(fake_slack)
    status, _ = call(wsgi_app(app, ctx), "POST", "/slack/events", body, signed_headers(body))
    assert status == 200 and kudos_count(ctx) == 1


def test_missing_wrong_or_stale_signatures_get_401_and_change_nothing(app, ctx, fake_slack):
    application = wsgi_app(app, ctx)
    body = kudos_body(fake_slack)
    stale = signed_headers(body, timestamp=int(time.time()) - 10 * 60)
    wrong = signed_headers(body, secret="not-the-secret")
    for headers in ({}, wrong, stale):
        status, _ = call(application, "POST", "/slack/events", body, headers)
        assert status == 401
    assert kudos_count(ctx) == 0
    assert fake_slack.calls_to("chat.postMessage") == []


def test_other_paths_are_not_found(app, ctx):
    assert call(wsgi_app(app, ctx), "GET", "/")[0] == 404
