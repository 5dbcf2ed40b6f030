import hashlib
import hmac
import socket
import threading
import time
from dataclasses import replace
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from slack_bolt import BoltRequest
from sqlalchemy import func, select

from bot.core.app import create_app
from bot.core.context import Feature, Route, build_context
from bot.core.http import TokenCheck, serve_in_background, wsgi_app
from bot.core.settings import load_settings
from bot.features import FEATURES
from storage.kudos import Kudos
from storage.migrate import alembic_config
from tests.conftest import wait_for
from tests.slack_requests import signed_headers
from tests.wsgi_requests import call, chunked, environ_for, respond


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


def echo(ctx, headers, body):
    return 200, f"{headers.get('x-desk')} sent {len(body)} bytes"


ECHO = Feature("echo", routes=(Route("/echo", echo, max_body=10),))


def test_feature_routes_are_served_with_their_headers_and_body(app, ctx):
    application = wsgi_app(app, replace(ctx, features=(ECHO,)))

    assert call(application, "POST", "/echo", "0123456789", {"X-Desk": "help"}) == (200, "help sent 10 bytes\n")
    assert call(application, "POST", "/echo", "0123456789!") == (413, "the body is over 10 bytes\n")
    assert call(application, "GET", "/echo") == (405, "/echo takes a POST\n")
    assert call(application, "GET", "/healthz") == (200, "ok\n")


def test_beside_socket_mode_a_small_server_serves_health_and_routes_but_not_slack(ctx):
    server = serve_in_background(wsgi_app(None, replace(ctx, features=(ECHO,))), port=0, host="127.0.0.1")
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with urlopen(f"{base}/healthz", timeout=10) as response:
            assert (response.status, response.read()) == (200, b"ok\n")
        request = Request(f"{base}/echo", data=b"hello", headers={"X-Desk": "any"}, method="POST")
        with urlopen(request, timeout=10) as response:
            assert response.read() == b"any sent 5 bytes\n"
        with pytest.raises(HTTPError) as refused:
            urlopen(Request(f"{base}/slack/events", data=b"{}", method="POST"), timeout=10)
        assert refused.value.code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_without_a_signing_secret_no_http_request_is_served(env, fake_slack, engine, clock):
    """A missing secret never switches verification off: unsigned, and signed with an empty key, both refused."""
    del env["SLACK_SIGNING_SECRET"]
    ctx = build_context(load_settings(env), FEATURES, engine=engine, clock=clock)
    application = wsgi_app(create_app(ctx, process_before_response=True), ctx)
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


# --- hostile bodies: refused before they are read ------------------------------------------------
def padded_kudos_body(fake_slack, size: int) -> str:
    """A signed /kudos command whose body is exactly `size` bytes (a padding field makes it up)."""
    body = kudos_body(fake_slack) + "&padding="
    return body + "x" * (size - len(body))


def test_a_slack_request_over_1_mb_is_refused_before_anything_reads_it(app, ctx, fake_slack):
    application = wsgi_app(app, ctx)
    exactly_1_mb = padded_kudos_body(fake_slack, 1024 * 1024)
    assert call(application, "POST", "/slack/events", exactly_1_mb, signed_headers(exactly_1_mb))[0] == 200
    assert kudos_count(ctx) == 1

    one_more = padded_kudos_body(fake_slack, 1024 * 1024 + 1)
    environ = environ_for("POST", "/slack/events", one_more, signed_headers(one_more))
    assert respond(application, environ) == (413, "the body is over 1 MB\n")
    assert environ["wsgi.input"].given == 0

    announced = environ_for("POST", "/slack/events", b"", {})
    announced["CONTENT_LENGTH"] = str(50 * 1024 * 1024)  # and the body never comes
    assert respond(application, announced) == (413, "the body is over 1 MB\n")
    assert announced["wsgi.input"].given == 0
    assert kudos_count(ctx) == 1


def test_a_chunked_slack_request_is_read_up_to_1_mb_and_refused_past_it(app, ctx, fake_slack):
    application = wsgi_app(app, ctx)
    body = kudos_body(fake_slack)
    assert respond(application, chunked(environ_for("POST", "/slack/events", body, signed_headers(body))))[0] == 200
    assert kudos_count(ctx) == 1  # Bolt got the whole body, though no Content-Length said how long it is

    endless = chunked(environ_for("POST", "/slack/events", b"x" * (3 * 1024 * 1024), {}))
    assert respond(application, endless) == (413, "the body is over 1 MB\n")
    assert endless["wsgi.input"].given == 1024 * 1024 + 1
    assert kudos_count(ctx) == 1


@pytest.fixture
def small_server(ctx):
    """The --port server with 2 threads and a client timeout of half a second, serving the echo route."""
    server = serve_in_background(
        wsgi_app(None, replace(ctx, features=(ECHO,))), port=0, host="127.0.0.1", threads=2, client_timeout=0.5
    )
    yield server
    server.shutdown()
    server.server_close()


def raw_request(server, head: str) -> bytes:
    """Send `head` (a request line and headers) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as connection:
        connection.sendall(head.encode())
        return b"".join(iter(lambda: connection.recv(65536), b""))


def test_the_port_server_refuses_an_announced_body_over_its_cap_without_waiting_for_it(small_server):
    answer = raw_request(small_server, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 413 ") and answer.endswith(b"the body is over 10 bytes\n")


def test_the_port_server_asks_for_a_content_length_instead_of_a_chunked_body(small_server):
    answer = raw_request(small_server, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 411 ")


def test_the_port_server_drops_a_client_that_sends_nothing(small_server):
    with socket.create_connection(("127.0.0.1", small_server.server_port), timeout=10) as silent:
        assert silent.recv(1) == b""  # closed by the server (without a client timeout, this recv times out)
    with socket.create_connection(("127.0.0.1", small_server.server_port), timeout=10) as slow:
        slow.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhe")  # and the rest never comes
        answer = b"".join(iter(lambda: slow.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.0 408 ") and answer.endswith(b"the body did not arrive in time\n")


def test_the_port_server_serves_connections_on_a_bounded_pool_of_threads(small_server):
    before = threading.active_count()
    silent = [socket.create_connection(("127.0.0.1", small_server.server_port), timeout=10) for _ in range(10)]
    try:
        wait_for(lambda: threading.active_count() >= before + 2, "the server took the first connections")
        time.sleep(0.2)  # time for more threads to start, were they going to
        assert threading.active_count() - before == 2
        # Each silent client is dropped after its timeout, so the threads come free: the next request is served.
        with urlopen(f"http://127.0.0.1:{small_server.server_port}/healthz", timeout=20) as response:
            assert response.status == 200
    finally:
        for connection in silent:
            connection.close()


@pytest.fixture
def migrated(engine):
    """The test database stamped with the migrations' head, as `kaizen migrate` leaves it."""
    command.stamp(alembic_config(engine), "head", purge=True)
    return engine


def test_readyz_answers_ok_when_the_database_its_schema_slack_and_the_socket_are_all_right(migrated, ctx, fake_slack):
    connected = True
    application = wsgi_app(None, ctx, socket_problem=lambda: None if connected else "socket disconnected")

    assert call(application, "GET", "/readyz") == (200, "ok\n")
    assert call(application, "GET", "/readyz") == (200, "ok\n")
    assert len(fake_slack.calls_to("auth.test")) == 1  # Slack's answer is kept a while: probes come every few seconds
    connected = False
    assert call(application, "GET", "/readyz") == (503, "socket disconnected\n")
    assert call(application, "GET", "/healthz") == (200, "ok\n")  # liveness: the process itself is fine


def test_readyz_says_when_the_schema_is_not_the_one_this_code_needs(migrated, ctx):
    head = ScriptDirectory.from_config(alembic_config(migrated)).get_current_head()
    command.stamp(alembic_config(migrated), "0012_goals", purge=True)
    try:
        assert call(wsgi_app(None, ctx), "GET", "/readyz") == (
            503,
            f"database schema at 0012_goals, this Kaizen needs {head}: run `kaizen migrate`\n",
        )
    finally:
        command.stamp(alembic_config(migrated), "head", purge=True)  # PostgreSQL's database outlives the test
    assert call(wsgi_app(None, ctx), "GET", "/readyz") == (200, "ok\n")


def test_readyz_says_when_slack_refuses_the_token_and_asks_again_only_after_a_while(migrated, ctx, fake_slack):
    fake_slack.fail("auth.test", error="invalid_auth")
    now = [0.0]
    check = TokenCheck(ctx.client, every=30, monotonic=lambda: now[0])

    assert check.problem() == "Slack refuses the bot token (invalid_auth)"
    now[0] = 29.0
    assert check.problem() == "Slack refuses the bot token (invalid_auth)"
    assert len(fake_slack.calls_to("auth.test")) == 1
    now[0] = 30.0
    assert check.problem() is None
    assert len(fake_slack.calls_to("auth.test")) == 2

    fake_slack.fail("auth.test", status=500)
    now[0] = 60.0
    assert check.problem() == "Slack could not check the bot token: auth.test answered 500 internal_error"


def test_readyz_says_when_slack_cannot_be_reached(migrated, ctx, fake_slack):
    fake_slack.stop()
    assert call(wsgi_app(None, ctx), "GET", "/readyz")[1].startswith("cannot reach Slack to check the bot token: ")
