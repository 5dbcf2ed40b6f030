"""The Socket Mode keeper against a local Socket Mode server the test starts, stops and starts again."""

import threading

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.socket_mode import SocketModeKeeper
from tests.conftest import wait_for
from tests.fake_socket_mode import FakeSocketMode


@pytest.fixture
def socket_mode(fake_slack):
    server = FakeSocketMode()
    yield server
    if server.server is not None:
        server.stop()


@pytest.fixture
def keeper(fake_slack):
    """A keeper for a small Bolt app (`/hello` answers in its ack), with short backoffs; stopped at the end."""
    app = App(client=WebClient(token="xoxb-test", base_url=fake_slack.api_url), token_verification_enabled=False)
    app.command("/hello")(lambda ack: ack("Hello!"))
    keeper = SocketModeKeeper(app, "xapp-test", first_backoff=0.05, max_backoff=0.2, ping_every=0.2)
    yield keeper
    keeper.stop()
    for thread in threading.enumerate():
        if thread.name == "kaizen-socket-mode":
            thread.join(10)
            assert not thread.is_alive(), "run() did not return after stop()"


def run_in_background(keeper: SocketModeKeeper) -> None:
    threading.Thread(target=keeper.run, name="kaizen-socket-mode", daemon=True).start()


def hello(socket_mode, fake_slack) -> str:
    return socket_mode.command("/hello", "", user="UANA", response_url=fake_slack.response_url())


def answered(socket_mode, envelope_id: str) -> bool:
    return socket_mode.acks.get(envelope_id, {}).get("payload") == {"text": "Hello!"}


def test_a_refused_connection_is_tried_again_with_backoff_until_the_server_is_there(
    keeper, socket_mode, fake_slack, caplog
):
    socket_mode.start()
    fake_slack.socket_mode_url = socket_mode.url
    socket_mode.stop()  # its port now refuses connections
    caplog.set_level("INFO", logger="bot.core.socket_mode")
    run_in_background(keeper)

    wait_for(lambda: caplog.text.count("Socket Mode: could not connect (ConnectionRefusedError") >= 3, "3 attempts")
    assert keeper.problem() == "socket disconnected"
    assert "connecting again in 0.05 s (attempt 2)" in caplog.text and "(attempt 3)" in caplog.text
    socket_mode.start()

    wait_for(lambda: keeper.problem() is None, "connected")
    assert "Socket Mode: connected" in caplog.text
    envelope_id = hello(socket_mode, fake_slack)
    wait_for(lambda: answered(socket_mode, envelope_id), "the command acknowledged with its answer")


def test_slacks_disconnect_message_opens_the_next_connection_before_the_old_one_closes(
    keeper, socket_mode, fake_slack, caplog
):
    fake_slack.socket_mode_url = socket_mode.start().url
    caplog.set_level("INFO", logger="bot.core.socket_mode")
    run_in_background(keeper)
    wait_for(lambda: keeper.problem() is None, "connected")

    socket_mode.send({"type": "disconnect", "reason": "refresh_requested"})

    wait_for(lambda: ("closed", 1) in socket_mode.history, "the first connection closed by the bot")
    assert socket_mode.history == [("opened", 1), ("opened", 2), ("closed", 1)]  # the next one first
    assert socket_mode.open_connections() == [socket_mode.connections[1]]
    assert len(fake_slack.calls_to("apps.connections.open")) == 2  # one new URL, not one per thread
    assert "Socket Mode: Slack asked for a new connection (disconnect, refresh_requested)" in caplog.text
    assert keeper.problem() is None
    envelope_id = hello(socket_mode, fake_slack)
    wait_for(lambda: answered(socket_mode, envelope_id), "a command over the new connection")


def test_a_wrong_app_token_stops_kaizen_run_at_once(fake_slack):
    app = App(client=WebClient(token="xoxb-test", base_url=fake_slack.api_url), token_verification_enabled=False)
    fake_slack.fail("apps.connections.open", error="invalid_auth")
    keeper = SocketModeKeeper(app, "xapp-wrong")

    with pytest.raises(SlackApiError) as refused:
        keeper.run()
    assert refused.value.response["error"] == "invalid_auth"


def test_slack_failing_to_give_a_url_is_tried_again(keeper, socket_mode, fake_slack, caplog):
    fake_slack.socket_mode_url = socket_mode.start().url
    fake_slack.fail("apps.connections.open", status=500, times=2)
    caplog.set_level("INFO", logger="bot.core.socket_mode")
    run_in_background(keeper)

    wait_for(lambda: keeper.problem() is None, "connected at the third attempt")
    assert caplog.text.count("could not connect (apps.connections.open answered 500 internal_error)") == 2
    assert "Socket Mode: connected" in caplog.text


def test_a_connection_gone_silent_is_dropped_and_replaced(keeper, socket_mode, fake_slack, caplog):
    fake_slack.socket_mode_url = socket_mode.start().url
    caplog.set_level("INFO", logger="bot.core.socket_mode")
    run_in_background(keeper)
    wait_for(lambda: keeper.problem() is None, "connected")

    socket_mode.go_silent()

    wait_for(lambda: "Socket Mode: the connection was lost (no answer to pings for 0.6 s)" in caplog.text, "noticed")
    wait_for(lambda: ("opened", 2) in socket_mode.history and keeper.problem() is None, "a new connection")
    envelope_id = hello(socket_mode, fake_slack)
    wait_for(lambda: answered(socket_mode, envelope_id), "a command over the new connection")
