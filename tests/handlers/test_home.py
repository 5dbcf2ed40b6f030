import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.cli import main
from bot.tips.blocks import TIP_TOGGLE
from storage.db import make_session_factory
from storage.feedback import Feedback
from storage.models import OutboxMessage
from storage.tips import is_subscribed


def open_home(slack, user="UME"):
    return slack.event({"type": "app_home_opened", "user": user, "channel": "DHOME", "tab": "home"})


def published(fake_slack, user="UME"):
    return [c for c in fake_slack.calls_to("views.publish") if c["user_id"] == user]


def text_of(view: dict) -> str:
    return json.dumps(view, ensure_ascii=False)


def test_home_shows_kudos_feedback_ideas_and_todays_tip(slack, fake_slack, ctx, clock):
    slack.command("/kudos", "<@UME|me> thanks for the calm handover #teamwork", user="UANA")
    slack.command("/feedback", "request <@UME|me> about my first escalation call", user="UBEN")
    slack.command("/idea", "Pre-fill the refund form from the order page", user="UME")
    fake_slack.clear()
    clock.advance(seconds=10)  # past the gap since those changes republished UME's home

    open_home(slack)

    [publish] = published(fake_slack)
    view = publish["view"]
    assert view["type"] == "home"
    content = text_of(view)
    assert "1 this week · 1 in all" in content and "thanks for the calm handover" in content
    assert "<@UBEN> asked about my first escalation call" in content
    [button] = [
        b["accessory"] for b in view["blocks"] if b.get("accessory", {}).get("text", {}).get("text") == "Give feedback"
    ]
    assert button["action_id"] == "feedback_answer"
    assert "Pre-fill the refund form from the order page — New · 0 votes" in content
    assert "Today's tip" in content and "No tips yet." not in content
    [toggle] = [b for b in view["blocks"] if b.get("block_id") == "tip"]
    assert toggle["elements"][0]["value"] == "subscribe"


def test_home_stays_within_block_kits_limit_for_any_history(slack, fake_slack, ctx, clock):
    for giver in range(60):
        slack.command("/kudos", f"<@UME|me> thanks for shift {giver}", user=f"UGIVER{giver}")
    for asker in range(30):
        slack.command("/feedback", f"request <@UME|me> about case {asker}", user=f"UASK{asker}")
    for n in range(40):
        if n and n % ctx.settings.daily_post_limit == 0:
            clock.advance(days=1)  # the daily post limit: Wednesday to Saturday, still this week
        slack.command("/idea", f"Idea number {n}", user="UME")
    fake_slack.clear()
    clock.advance(minutes=1)

    open_home(slack)

    [publish] = published(fake_slack)
    blocks = publish["view"]["blocks"]
    assert len(blocks) <= 100
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    content = text_of(publish["view"])
    assert "60 this week · 60 in all" in content
    assert "…and 25 more: `/feedback list`" in content
    assert "…and 30 older ones: `/idea list`" in content


def test_tip_toggle_subscribes_and_republishes(slack, fake_slack, ctx, clock):
    open_home(slack)
    clock.advance(seconds=10)
    slack.block_action(TIP_TOGGLE, "subscribe", user="UME", view={"id": "VHOME", "type": "home"})
    with ctx.session_factory() as session:
        assert is_subscribed(session, "UME")
    latest = published(fake_slack)[-1]["view"]
    [toggle] = [b for b in latest["blocks"] if b.get("block_id") == "tip"]
    assert toggle["elements"][0]["value"] == "unsubscribe"

    clock.advance(seconds=10)
    slack.block_action(TIP_TOGGLE, "unsubscribe", user="UME", view={"id": "VHOME", "type": "home"})
    with ctx.session_factory() as session:
        assert not is_subscribed(session, "UME")
    assert len(published(fake_slack)) == 3


def test_republishing_is_throttled_and_the_newest_view_wins(slack, fake_slack, ctx, clock):
    open_home(slack)
    slack.command("/kudos", "<@UME|me> first", user="UANA")  # republishes UME's home, too soon
    slack.command("/kudos", "<@UME|me> second", user="UBEN")
    assert len(published(fake_slack)) == 1
    with ctx.session_factory() as session:
        pending = session.scalars(
            select(OutboxMessage).where(OutboxMessage.method == "views.publish", OutboxMessage.status == "pending")
        ).all()
    assert len(pending) == 1  # the second change replaced the first unsent view

    clock.advance(seconds=5)
    ctx.outbox.sweep()
    views = published(fake_slack)
    assert len(views) == 2 and "2 this week · 2 in all" in text_of(views[-1]["view"])


def test_other_tabs_are_ignored(slack, fake_slack):
    slack.event({"type": "app_home_opened", "user": "UME", "channel": "DHOME", "tab": "messages"})
    assert published(fake_slack) == []


def test_answering_from_home_a_request_that_expired_explains_in_a_modal(slack, fake_slack, ctx, clock):
    slack.command("/feedback", "request <@UME|me> about my call", user="UBEN")
    clock.advance(days=15)
    from bot.core.jobs import run_job

    run_job(ctx, "feedback-reminders")
    fake_slack.clear()
    slack.block_action("feedback_answer", "1", user="UME", view={"id": "VHOME", "type": "home"})
    assert "expired" in json.dumps(fake_slack.modal()).lower()
    assert fake_slack.calls_to("response_url") == []


def test_a_job_run_from_the_cli_republishes_the_home_tabs_it_changed(
    fake_slack, engine, env, monkeypatch, capsys, tmp_path
):
    """No Bolt app in this process: the hook comes with every context, the CLI's included."""
    asked = datetime.now(UTC) - timedelta(days=15)
    with make_session_factory(engine).begin() as session:
        request = Feedback(
            about_id="UREQ",
            giver_id="UME",
            batch_key="command:trigger-1",
            topic="",
            requested=True,
            status="open",
            created_at=asked,
        )
        session.add(request)
    for name, value in {**env, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    assert main(["jobs", "run", "feedback-reminders"]) == 0

    assert "1 request expired" in capsys.readouterr().out
    [publish] = published(fake_slack)
    assert "Nothing waiting on you." in text_of(publish["view"])
