"""The parts of one message reach Slack in the order written, also when Slack fails in between."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.jobs import run_job
from storage.outbox import by_key
from tests.bot.factories import kudos

PARIS = ZoneInfo("Europe/Paris")


def test_a_celebration_in_several_parts_arrives_in_order_through_a_5xx(ctx, fake_slack, clock):
    with ctx.session_factory.begin() as session:
        session.add_all(
            # Enough people for the celebration to take two messages (50 blocks each).
            kudos("UGIVER", f"U{n:05d}", datetime(2026, 11, 18, 10, tzinfo=PARIS), "learning")
            for n in range(10_000)
        )
    clock.set(datetime(2026, 11, 20, 16, 0, tzinfo=PARIS))
    fake_slack.fail("chat.postMessage", status=503)  # the first part, once

    report = run_job(ctx, "weekly-celebration")

    texts = [post["text"] for post in fake_slack.posts_to("CKUDOS")]
    assert len(texts) >= 2 and report.backlog.waiting == 0
    assert texts[0].startswith(":tada: This week, together")
    parts = [int(re.search(r"\((\d+)/\d+\)", text)[1]) for text in texts[1:]]
    assert parts == list(range(2, len(texts) + 1))


def test_the_digest_chart_follows_its_text_even_when_the_text_is_held_back(ctx, fake_slack, clock):
    with ctx.session_factory.begin() as session:
        session.add(kudos("UANA", "UBEN", datetime(2026, 11, 20, 10, tzinfo=PARIS)))  # so there is a chart
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=PARIS))
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=2)  # both leads' texts wait a second

    run_job(ctx, "lead-digest")

    order = [(c.method, c.get("channel") or c.get("users") or c.get("channel_id")) for c in fake_slack.calls]
    for lead in ("ULEAD", "UADMIN"):
        text = order.index(("chat.postMessage", lead))
        chart = order.index(("conversations.open", lead))  # the chart's upload starts by opening the DM
        uploaded = order.index(("files.completeUploadExternal", "D" + lead))
        assert text < chart < uploaded


def test_successive_updates_of_one_idea_follow_its_post_and_each_other(slack, ctx, fake_slack, clock):
    fake_slack.fail("chat.postMessage", status=503)  # the idea's post waits 15 s
    slack.command("/idea", "Callback slots", user="UANA")
    for status in ("under-review", "planned"):
        slack.command("/idea", f"status 1 {status}", user="ULEAD")
    assert fake_slack.calls_to("chat.update") == []  # not before the post

    clock.advance(seconds=15)
    ctx.outbox.sweep()
    [post] = fake_slack.posts_to("CIDEAS")
    [update] = fake_slack.calls_to("chat.update")  # the older update was replaced by the newer one
    with ctx.session_factory() as session:
        posted = by_key(session, "idea:1:post").result
    assert (update["channel"], update["ts"]) == (posted["channel"], posted["ts"]) and update.at > post.at
    assert update["text"].endswith("Planned, 0 votes")
