from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from bot.core.jobs import run_job
from bot.tips.rules import builtin_tips, next_working_day, queue_tip, themes, todays_tip
from storage import tips as store
from storage.tips import Tip

SPEC_THEMES = {
    "growth-mindset",
    "feedback",
    "resilience",
    "empathy",
    "active-listening",
    "collaboration-and-mentorship",
    "process-improvement",
    "measuring-what-matters",
}
FRIDAY_0930_PARIS = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def test_the_shipped_tips_cover_every_theme_and_load():
    tips = builtin_tips()
    assert len(tips) >= 60
    assert set(themes()) == SPEC_THEMES
    assert len({t["key"] for t in tips}) == len(tips)
    assert all(0 < len(t["text"]) <= 280 for t in tips)
    # Interleaved: eight days in a row bring eight different themes.
    assert len({t["theme"] for t in tips[:8]}) == 8


def test_no_tip_repeats_until_every_active_tip_was_shown(ctx):
    day = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with ctx.session_factory.begin() as session:
        shown = [todays_tip(session, ctx.settings, day + timedelta(days=n)).id for n in range(len(builtin_tips()))]
        added = Tip(text="A new one", created_at=day, added_by="UADMIN")
        session.add(added)
        session.flush()
        after = [todays_tip(session, ctx.settings, day + timedelta(days=len(shown) + n)).id for n in range(3)]
    assert len(set(shown)) == len(shown) == len(builtin_tips())
    # A newly added tip has never been shown: it comes before any repeat, then the oldest come round again.
    assert after == [added.id, shown[0], shown[1]]


def test_builtin_tips_are_added_once(ctx, clock):
    with ctx.session_factory.begin() as session:
        store.add_builtin(session, list(builtin_tips()), clock())
        store.add_builtin(session, list(builtin_tips()), clock())
        assert session.scalar(select(func.count()).select_from(Tip)) == len(builtin_tips())


def test_daily_tip_posts_to_the_channel_and_dms_subscribers_once(ctx, fake_slack, slack, clock):
    slack.command("/tip", "subscribe", user="UANA")
    slack.command("/tip", "subscribe", user="UBEN")

    clock.set(FRIDAY_0930_PARIS)
    report = run_job(ctx, "daily-tip")
    clock.advance(hours=2)
    again = run_job(ctx, "daily-tip")

    assert report.ran and report.period == "2026-11-20" and not again.ran
    [post] = fake_slack.posts_to("CTIPS")
    [dm_ana] = fake_slack.posts_to("UANA")
    assert len(fake_slack.posts_to("UBEN")) == 1
    with ctx.session_factory() as session:
        tip = todays_tip(session, ctx.settings, FRIDAY_0930_PARIS)
    assert tip.text in post["text"] and tip.text in dm_ana["text"]
    assert "/tip unsubscribe" in str(dm_ana["blocks"])
    assert report.lines[-1] == f"tip {tip.id} by DM to 2 subscribers"


def test_a_queued_tip_waits_for_the_next_working_day_then_comes_before_any_other(ctx):
    wednesday = datetime(2026, 11, 18, 9, tzinfo=UTC)
    with ctx.session_factory.begin() as session:
        first = todays_tip(session, ctx.settings, wednesday - timedelta(days=1))
        queued = queue_tip(
            session, ctx.settings, text="A lesson", theme=None, credit="shared by <@UANA>", added_by=None, now=wednesday
        )
        days = [todays_tip(session, ctx.settings, wednesday + timedelta(days=n)).id for n in range(3)]
    assert queued.show_from == date(2026, 11, 19)
    # Wednesday: the rotation goes on; Thursday: the queued tip; Friday: the rotation again.
    assert days == [first.id + 1, queued.id, first.id + 2]


def test_the_next_working_day_skips_the_weekend():
    assert [next_working_day(date(2026, 11, d)).isoformat() for d in (19, 20, 21, 22)] == [
        "2026-11-20",
        "2026-11-23",
        "2026-11-23",
        "2026-11-23",
    ]
