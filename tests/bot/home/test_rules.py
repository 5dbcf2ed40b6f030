"""Home tabs are owed by the transaction that changed them and built by the outbox when it sends them."""

import json

from sqlalchemy import event, select

from bot.core.context import build_context
from bot.core.jobs import run_job
from bot.core.outbox import OUTBOX_KEYS
from bot.features import FEATURES
from bot.home.rules import home_changed
from storage.models import OutboxMessage
from storage.outbox import by_keys
from tests.bot.factories import kudos
from tests.conftest import OutboxTime


def published(fake_slack, user: str) -> list[dict]:
    return [call["view"] for call in fake_slack.calls_to("views.publish") if call["user_id"] == user]


def home_rows(session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.method == "views.publish")))


def give_kudos_unsent(ctx, clock, recipient: str) -> None:
    """A kudos and its Home tab change, committed by a process that dies before it sends anything."""
    with ctx.transaction(deliver=False) as session:
        session.add(kudos("UANA", recipient, clock()))
        home_changed(session, recipient)


def two_pairs_to_match(slack, fake_slack, clock) -> None:
    for user, text in [("UMAYA", "offer #billing"), ("UNOAH", "offer #sql"), ("UANA", "want #billing"),
                       ("UBEN", "want #sql")]:  # fmt: skip
        slack.command("/mentor", text, user=user)
    fake_slack.clear()
    clock.advance(seconds=10)  # past the gap since /mentor republished their Home tabs


def test_a_job_owes_home_tabs_without_building_them_and_they_reach_slack_after_it(slack, fake_slack, ctx, clock):
    two_pairs_to_match(slack, fake_slack, clock)
    at_commit = []

    @event.listens_for(ctx.session_factory, "before_commit")  # after the Home hook: sees what it wrote
    def rows_at_commit(session):
        session.flush()
        written = by_keys(session, session.info.get(OUTBOX_KEYS, []))
        at_commit.extend(dict(row.payload) for row in written if row.method == "views.publish")

    run_job(ctx, "mentor-matching")

    event.remove(ctx.session_factory, "before_commit", rows_at_commit)
    assert sorted(payload["user_id"] for payload in at_commit) == ["UANA", "UBEN", "UMAYA", "UNOAH"]
    assert all("view" not in payload for payload in at_commit)  # no view built in the job's transaction
    [ana] = published(fake_slack, "UANA")
    assert ana["type"] == "home"
    assert "This round you're learning #billing with <@UMAYA>." in json.dumps(ana["blocks"])
    [maya] = published(fake_slack, "UMAYA")
    assert "<@UANA>" in json.dumps(maya["blocks"])


def test_a_job_loses_no_home_tab_when_slack_fails_one(slack, fake_slack, ctx, clock):
    two_pairs_to_match(slack, fake_slack, clock)
    fake_slack.fail("views.publish", status=500)

    report = run_job(ctx, "mentor-matching")

    assert not report.backlog  # the job waited out the backoff and sent it again
    published_to = sorted(call["user_id"] for call in fake_slack.calls_to("views.publish"))
    assert published_to == ["UANA", "UBEN", "UMAYA", "UNOAH"]
    [ben] = published(fake_slack, "UBEN")
    assert "<@UNOAH>" in json.dumps(ben["blocks"])


def test_a_person_touched_twice_before_publishing_gets_one_latest_view(fake_slack, ctx, clock):
    give_kudos_unsent(ctx, clock, "UME")
    give_kudos_unsent(ctx, clock, "UME")
    with ctx.session_factory() as session:
        assert len([row for row in home_rows(session) if row.status == "pending"]) == 1

    ctx.outbox.sweep()

    [view] = published(fake_slack, "UME")
    assert "2 this week · 2 in all" in json.dumps(view["blocks"], ensure_ascii=False)


def test_a_home_tab_committed_but_never_sent_is_published_by_another_process(fake_slack, settings, engine, ctx, clock):
    give_kudos_unsent(ctx, clock, "UME")  # the process dies here

    other = build_context(settings, FEATURES, engine=engine, clock=clock)
    OutboxTime(clock).drive(other.outbox)
    other.outbox.sweep()

    [view] = published(fake_slack, "UME")
    assert "1 this week · 1 in all" in json.dumps(view["blocks"], ensure_ascii=False)


def test_a_view_slack_fails_to_take_is_built_again_and_sent(fake_slack, ctx, clock):
    fake_slack.fail("views.publish", status=503)
    give_kudos_unsent(ctx, clock, "UME")
    ctx.outbox.sweep()
    assert published(fake_slack, "UME") == []  # the 503 (the fake records no call Slack failed)
    give_kudos_unsent(ctx, clock, "UME")  # while it waits to be retried

    clock.advance(minutes=1)  # past the retry's backoff
    ctx.outbox.sweep()

    [view] = published(fake_slack, "UME")
    assert "2 this week · 2 in all" in json.dumps(view["blocks"], ensure_ascii=False)
    with ctx.session_factory() as session:
        assert [row.status for row in home_rows(session)] == ["sent"]
