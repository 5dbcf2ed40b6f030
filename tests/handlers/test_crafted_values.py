"""A button, menu option or checkbox whose value Kaizen never put there (a forged payload: not a
number, or past the integer columns' range) is refused politely, where the person pressed it, and
nothing is done: no traceback, no 500."""

import json
import logging

import pytest

from bot.core.blocks import HIDE_ACTION
from bot.feedback.blocks import ANSWER_BUTTON, REPORT_BUTTON
from bot.goals.blocks import DONE_ACTION, PROGRESS_ACTION, PROGRESS_MODAL, REACHED, STUCK_ACTION
from bot.ideas.blocks import LEAD_ACTIONS, MERGE_MODAL, MOVE_ACTION, STATUS_ACTION, VOTE_ACTION
from bot.lessons.blocks import USEFUL_ACTION
from bot.mentor.blocks import FOLLOW_UP_ACTION

REFUSED = "I can't find that any more, so nothing was done."
CRAFTED = ["abc", "12abc", "99999999999", "²"]


def shown(fake_slack) -> str:
    """Everything the person was shown: ephemeral replies, and the modals opened or updated."""
    replies = [call["text"] for call in fake_slack.calls_to("response_url")]
    return json.dumps(replies + [call["view"] for call in fake_slack.calls_to("views.update")])


@pytest.fixture
def no_errors_logged(caplog):
    yield
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("crafted", CRAFTED)
@pytest.mark.parametrize(
    ("action_id", "value", "extra", "in_modal"),
    [
        (VOTE_ACTION, "{}", None, False),
        (LEAD_ACTIONS, "{}", None, False),
        (STATUS_ACTION, "", {"selected_option": {"value": "{}:planned"}}, False),
        (f"{MOVE_ACTION}:planned", "{}:planned", None, True),
        (HIDE_ACTION, "idea:{}", None, False),
        (HIDE_ACTION, "", {"selected_option": {"value": "kudos:{}"}}, False),
        (PROGRESS_ACTION, "{}", None, False),
        (STUCK_ACTION, "{}", None, False),
        (DONE_ACTION, "{}", None, False),
        (USEFUL_ACTION, "{}", None, False),
        (ANSWER_BUTTON, "{}", None, False),
        (REPORT_BUTTON, "{}", None, False),
        (FOLLOW_UP_ACTION + "met", "{}:met", None, False),
    ],
)
def test_a_crafted_value_is_refused_where_it_was_pressed(
    slack, fake_slack, no_errors_logged, action_id, value, extra, in_modal, crafted
):
    if extra:
        extra = {"selected_option": {"value": extra["selected_option"]["value"].format(crafted)}}
    view = {"id": "VPANEL", "type": "modal"} if in_modal else None

    response = slack.block_action(action_id, value.format(crafted), user="UADMIN", extra=extra, view=view)

    assert response.status == 200
    assert REFUSED in shown(fake_slack)


@pytest.mark.parametrize("crafted", CRAFTED)
@pytest.mark.parametrize(
    ("callback_id", "values", "metadata", "field"),
    [
        (
            PROGRESS_MODAL,
            {"note": {"note": {"value": "tried"}}, REACHED: {REACHED: {"selected_options": [{"value": "{}"}]}}},
            "1",
            REACHED,
        ),
        (MERGE_MODAL, {"target": {"target": {"selected_option": {"value": "{}"}}}}, '{"idea": 1}', "target"),
    ],
)
def test_a_crafted_option_in_a_form_is_refused_on_its_field(
    slack, no_errors_logged, callback_id, values, metadata, field, crafted
):
    values = json.loads(json.dumps(values).replace("{}", crafted))

    response = slack.view_submission(callback_id, values, user="UADMIN", private_metadata=metadata)

    assert response.status == 200
    assert json.loads(response.body) == {"response_action": "errors", "errors": {field: REFUSED}}
