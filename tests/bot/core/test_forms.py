from slack_sdk import WebClient

from bot.core.blocks import notice_modal
from bot.core.forms import open_modal_at_once
from bot.core.refusal import Refused


def test_the_waiting_modal_is_replaced_with_the_hash_slack_gave(fake_slack):
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)

    open_modal_at_once(client, "trigger-1", "Lead actions", lambda: notice_modal("Lead actions", "Ready", close="OK"))

    [update] = fake_slack.calls_to("views.update")
    assert update["view_id"] == "Vtrigger-1" and update["hash"].startswith("Vtrigger-1-")
    assert "Ready" in str(update["view"])


def test_the_waiting_modal_is_replaced_even_when_slack_gives_no_hash(fake_slack):
    fake_slack.view_hash = False  # Slack sends one, but nothing requires it (a Slack emulator did not)
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)

    def refuse() -> dict:
        raise Refused("That idea is gone.")

    open_modal_at_once(client, "trigger-1", "Lead actions", refuse)

    [update] = fake_slack.calls_to("views.update")
    assert update["view_id"] == "Vtrigger-1" and "hash" not in update.params
    assert "That idea is gone." in str(update["view"])
