"""The outbox queries that run often use an index, never a scan of the whole table."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text

from storage import outbox as store
from storage.db import make_session_factory
from storage.models import OutboxMessage

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


def plans(engine, work) -> list[str]:
    """The query plan of every statement `work` runs."""
    statements = []
    listener = lambda conn, cursor, statement, parameters, context, many: statements.append((statement, parameters))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    with make_session_factory(engine).begin() as session:
        work(session)
    event.remove(engine, "before_cursor_execute", listener)
    found = []
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET enable_seqscan = off"))  # a tiny table: ask whether an index could serve
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith(("DELETE", "SELECT", "UPDATE")):
                rows = connection.exec_driver_sql(explain + statement, parameters).all()
                found.append("\n".join(str(row[-1]) for row in rows))
    return found


@pytest.mark.parametrize(
    "work",
    [
        lambda s: store.forget_lanes(s, ["home:UANA", "home:UBEN"], sent_before=NOW - timedelta(seconds=5), now=NOW),
        lambda s: store.delete_lane(s, "home:UANA"),
    ],
    ids=["forget_lanes", "delete_lane"],
)
def test_the_home_tab_clean_up_finds_its_rows_by_index(engine, work):
    for plan in plans(engine, work):
        assert "ix_outbox_messages_lane" in plan, plan
        assert "SCAN outbox_messages" not in plan and "Seq Scan on outbox_messages" not in plan, plan


def test_forgetting_many_lanes_keeps_only_what_was_sent_lately_and_says_when(engine):
    """Each lane loses its unsent messages and those sent before `sent_before`; a lane whose latest
    message went out lately says when, so the next one waits its turn."""
    sessions = make_session_factory(engine)
    keys = ["ana-old", "ana-lately", "ben-unsent", "cal-unsent"]
    with sessions.begin() as session:
        for key, lane, sent_at in [
            ("ana-old", "home:UANA", NOW - timedelta(minutes=5)),
            ("ana-lately", "home:UANA", NOW - timedelta(seconds=2)),
            ("ben-unsent", "home:UBEN", None),
            ("cal-unsent", "home:UCAL", None),  # not among the lanes forgotten
        ]:
            message = OutboxMessage(
                key=key,
                method="views.publish",
                payload={"user_id": lane[5:]},
                lane=lane,
                created_at=NOW,
                next_attempt_at=NOW,
            )
            if sent_at:
                message.status, message.sent_at = "sent", sent_at
            session.add(message)

    with sessions.begin() as session:
        last_sent = store.forget_lanes(
            session, ["home:UANA", "home:UBEN"], sent_before=NOW - timedelta(seconds=5), now=NOW
        )
        kept = [message.key for message in store.by_keys(session, keys)]

    assert last_sent == {"home:UANA": NOW - timedelta(seconds=2)}
    assert kept == ["ana-lately", "cal-unsent"]


def test_a_message_waits_while_a_later_one_of_its_lane_is_being_sent(engine):
    """Two requests at once: the later row committed first and is being sent; the earlier one, seen
    only now, goes after it rather than beside it into the same channel."""
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        for key in ("kudos:1", "kudos:2"):
            session.add(
                OutboxMessage(
                    key=key, method="chat.postMessage", payload={}, lane="CKUDOS", created_at=NOW, next_attempt_at=NOW
                )
            )
    with sessions.begin() as session:
        earlier, later = [message.id for message in store.by_keys(session, ["kudos:1", "kudos:2"])]
        session.execute(
            text("UPDATE outbox_messages SET claimed_until = :until WHERE id = :id"),
            {"until": NOW + timedelta(minutes=2), "id": later},
        )
    hold, spacing = timedelta(minutes=2), timedelta(seconds=1)

    with sessions.begin() as session:
        assert store.claim(session, earlier, NOW, hold, spacing) is None
    with sessions.begin() as session:
        store.mark_sent(session, later, NOW, {"channel": "CKUDOS", "ts": "1.0"})
    with sessions.begin() as session:
        assert store.claim(session, earlier, NOW + spacing / 2, hold, spacing) is None  # a lane's spacing after it
    with sessions.begin() as session:
        assert store.claim(session, earlier, NOW + spacing * 2, hold, spacing).key == "kudos:1"


def test_what_passed_in_the_last_second_is_counted_by_index(engine):
    for plan in plans(engine, lambda s: store.sent_since(s, "chat.postMessage", NOW - timedelta(seconds=1))):
        assert "ix_outbox_messages_sent" in plan, plan
