"""The engines Kaizen opens: what a failed statement leaves in the logs."""

import logging

import pytest
from sqlalchemy import delete, inspect, text
from sqlalchemy.exc import DBAPIError

from storage.db import make_session_factory
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


def test_a_failed_statement_logs_none_of_its_bound_values(engine, caplog):
    """As when an anonymous answer's transaction fails: its DELETE names the giver's Home lane."""
    giver_lane = "home:UANONYMOUSGIVER"
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement logged, as with echo
    with pytest.raises(DBAPIError) as failure, make_session_factory(engine).begin() as session:
        # A schema behind the code (say, a migration not run yet) makes the DELETE fail; the
        # rename is rolled back with the transaction.
        session.execute(text("ALTER TABLE outbox_messages RENAME COLUMN lane TO lane_before"))
        session.execute(delete(OutboxMessage).where(OutboxMessage.lane == giver_lane))
    log.error("The transaction failed", exc_info=failure.value)  # as Bolt logs a listener's error

    assert "[SQL: DELETE FROM outbox_messages" in str(failure.value)  # the statement, not its values
    assert "UANONYMOUSGIVER" not in str(failure.value)
    assert "UANONYMOUSGIVER" not in caplog.text
    assert "parameters hidden" in caplog.text
    assert "lane" in {column["name"] for column in inspect(engine).get_columns("outbox_messages")}
