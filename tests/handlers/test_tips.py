import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.core.jobs import run_job
from storage.tips import DailyTip, Tip, TipSubscriber


def replies(fake_slack):
    return [c for c in fake_slack.calls_to("response_url")]


def tips_added(ctx):
    with ctx.session_factory() as session:
        return session.scalars(select(Tip).where(Tip.key.is_(None)).order_by(Tip.id)).all()


def test_tip_is_the_same_all_day_and_changes_the_next(slack, fake_slack, clock):
    slack.command("/tip")
    clock.advance(hours=8)
    slack.command("/tip", "today")
    clock.advance(hours=8)  # the next day in Paris
    slack.command("/tip")

    first, again, tomorrow = replies(fake_slack)
    assert first["response_type"] == "ephemeral"
    assert first["text"] == again["text"] != tomorrow["text"]
    assert "Today's tip" in first["text"] and "/tip subscribe" in str(first["blocks"])


def test_subscribe_and_unsubscribe(slack, fake_slack, ctx):
    slack.command("/tip", "subscribe", user="UANA")
    slack.command("/tip", "subscribe", user="UANA")
    with ctx.session_factory() as session:
        assert session.scalars(select(TipSubscriber.user_id)).all() == ["UANA"]
    slack.command("/tip", user="UANA")
    slack.command("/tip", "unsubscribe", user="UANA")
    slack.command("/tip", "unsubscribe", user="UANA")

    subscribed, already, tip, unsubscribed, not_subscribed = [r["text"] for r in replies(fake_slack)]
    assert "Subscribed" in subscribed and "already subscribed" in already
    assert "/tip unsubscribe" in str(replies(fake_slack)[2]["blocks"])
    assert "Unsubscribed" in unsubscribed and "weren't subscribed" in not_subscribed
    with ctx.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(TipSubscriber)) == 0


def test_admin_adds_a_tip_with_a_theme(slack, fake_slack, ctx):
    slack.command("/tip", "add Say the customer's name back to them <!here> #empathy", user="UADMIN")
    slack.command("/tip", "add Reread the first message before closing <#C0FEED|feedback>", user="UADMIN")
    slack.command("/tip", "add Breathe out before a hard call", user="UADMIN")

    added = tips_added(ctx)
    assert [(t.theme, t.added_by, t.active) for t in added] == [
        ("empathy", "UADMIN", True),
        ("feedback", "UADMIN", True),
        (None, "UADMIN", True),
    ]
    assert added[0].text == "Say the customer's name back to them @here"
    assert f"Added tip {added[0].id}" in replies(fake_slack)[0]["text"]


def test_adding_is_for_admins_and_known_themes(slack, fake_slack, ctx):
    slack.command("/tip", "add Be kind #empathy", user="ULEAD")
    slack.command("/tip", "add Be kind #kindness", user="UADMIN")
    slack.command("/tip", "add #empathy", user="UADMIN")

    not_admin, unknown_theme, empty = [r["text"] for r in replies(fake_slack)]
    assert "Only admins can add tips" in not_admin
    assert "`#kindness`" in unknown_theme
    assert "#growth-mindset" in unknown_theme and "#active-listening" in unknown_theme
    assert "What's the tip?" in empty
    assert all(r["response_type"] == "ephemeral" for r in replies(fake_slack))
    assert tips_added(ctx) == []


def test_a_retried_add_is_recorded_once(slack, ctx):
    slack.command("/tip", "add Ask one more question #active-listening", user="UADMIN", trigger_id="t-1")
    slack.command("/tip", "add Ask one more question #active-listening", user="UADMIN", trigger_id="t-1")
    assert len(tips_added(ctx)) == 1


def test_admin_retires_a_tip_and_it_is_not_shown_again(slack, fake_slack, ctx, clock):
    slack.command("/tip")
    today = replies(fake_slack)[0]["text"]
    fake_slack.clear()
    with ctx.session_factory() as session:
        tomorrow = session.scalar(select(Tip).where(Tip.active).order_by(Tip.id).offset(1).limit(1))

    slack.command("/tip", f"retire {tomorrow.id}", user="ULEAD")
    slack.command("/tip", "retire 9999", user="UADMIN")
    slack.command("/tip", "retire soon", user="UADMIN")
    slack.command("/tip", f"retire #{tomorrow.id}", user="UADMIN")
    clock.advance(days=1)
    slack.command("/tip")

    not_admin, unknown, not_a_number, retired, next_day = [r["text"] for r in replies(fake_slack)]
    assert "Only admins can retire tips" in not_admin
    assert "no active tip #9999" in unknown
    assert "/tip retire 12" in not_a_number
    assert f"Retired tip {tomorrow.id}" in retired
    assert tomorrow.text not in next_day and next_day != today
    with ctx.session_factory() as session:
        assert session.get(Tip, tomorrow.id).active is False


def test_help_and_unknown_words(slack):
    assert "/tip subscribe" in slack.command("/tip", "help").body
    assert "/tip add" not in slack.command("/tip", "help").body
    assert "/tip add" in slack.command("/tip", "help", user="UADMIN").body
    assert "I don't know `sometimes`" in slack.command("/tip", "sometimes").body


def test_the_tip_number_is_shown_only_where_admins_act(slack, fake_slack, ctx, clock):
    slack.command("/tip", "subscribe", user="UANA")
    clock.set(datetime(2026, 11, 19, 9, 30, tzinfo=ZoneInfo("Europe/Paris")))
    run_job(ctx, "daily-tip")
    slack.command("/tip", user="UANA")
    slack.command("/tip", user="UADMIN")
    with ctx.session_factory() as session:
        [shown] = session.scalars(select(Tip).join(DailyTip, DailyTip.tip_id == Tip.id)).all()

    [post] = fake_slack.posts_to("CTIPS")
    [dm] = fake_slack.posts_to("UANA")
    member, admin = replies(fake_slack)[1:]
    number = re.compile(rf"\btip {shown.id}\b")
    for everyone in (post, dm, member):
        assert shown.text in everyone["text"] and not number.search(json.dumps([everyone["text"], everyone["blocks"]]))
    note = admin["blocks"][-1]["elements"][0]["text"]
    assert note == f"Admins: this is tip {shown.id}. `/tip retire {shown.id}` stops showing it."
    print(json.dumps([post["blocks"], admin["blocks"]], indent=1, ensure_ascii=False))

    slack.command("/tip", "add Breathe out before a hard call #resilience", user="UADMIN")
    [added] = tips_added(ctx)
    slack.command("/tip", f"retire {added.id}", user="UADMIN")
    confirmed, retired = [r["text"] for r in replies(fake_slack)[-2:]]
    assert confirmed == f":white_check_mark: Added tip {added.id}. It comes round before any tip repeats."
    assert retired == f"Retired tip {added.id} (“Breathe out before a hard call”): it won't be shown again."
