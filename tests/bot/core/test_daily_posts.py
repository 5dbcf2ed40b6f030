"""The daily post limit: ideas and lessons together, per person and day, by command and by form."""

import json
import threading

import pytest
from sqlalchemy import func, select

from storage.daily_posts import DailyPostCount
from storage.ideas import Idea
from storage.lessons import Lesson
from tests.handlers.test_ideas import submitted_via_modal as idea_form
from tests.handlers.test_lessons import submitted_via_modal as lesson_form


@pytest.fixture
def env(env):
    env["KAIZEN_DAILY_POST_LIMIT"] = "3"
    return env


def posts(ctx) -> tuple[int, int]:
    """(ideas, lessons) stored."""
    with ctx.session_factory() as session:
        return session.scalar(select(func.count(Idea.id))), session.scalar(select(func.count(Lesson.id)))


def replies(fake_slack) -> list[str]:
    return [call["text"] for call in fake_slack.calls_to("response_url")]


REFUSAL = (
    "You've posted 3 ideas and lessons today, the most one person can in a day, so the channels stay easy "
    "to follow. You can post more at midnight (Europe/Paris), in 14 h."
)


def test_ideas_and_lessons_share_the_limit_anonymous_ones_and_forms_included(slack, fake_slack, ctx):
    slack.command("/idea", "Pre-fill the refund form", user="UANA")
    assert '"response_action": "update"' in idea_form(slack, title="Shared macros", user="UANA", anonymous=True).body
    slack.command("/lesson", "Repeat the order number back", user="UANA")
    assert posts(ctx) == (2, 1)
    fake_slack.clear()

    slack.command("/idea", "One more idea", user="UANA")
    slack.command("/lesson", "One more lesson", user="UANA")
    refused_idea = json.loads(idea_form(slack, title="Another one", user="UANA").body)
    refused_lesson = json.loads(lesson_form(slack, "Another lesson", user="UANA", anonymous=True).body)

    assert replies(fake_slack) == [REFUSAL, REFUSAL]
    assert refused_idea == {"response_action": "errors", "errors": {"title": REFUSAL}}
    assert refused_lesson == {"response_action": "errors", "errors": {"text": REFUSAL}}
    assert posts(ctx) == (2, 1) and fake_slack.calls_to("chat.postMessage") == []
    with ctx.session_factory() as session:
        [count] = session.scalars(select(DailyPostCount)).all()
    assert count.posted == 3  # the refused ones counted nothing
    assert "UANA" not in count.poster_key  # a pseudonym: anonymous posts are counted, never named

    slack.command("/idea", "Someone else's idea", user="UBEN")  # the limit is each person's own
    slack.command("/lesson", "An admin's lesson", user="UADMIN")
    assert posts(ctx) == (3, 2)


def test_the_limit_resets_at_midnight_in_the_teams_zone(slack, fake_slack, ctx, clock):
    for n in range(3):
        slack.command("/idea", f"Idea {n}", user="UANA")
    clock.advance(hours=13, minutes=59)  # 23:59 in Paris
    slack.command("/idea", "Just before midnight", user="UANA")
    assert replies(fake_slack)[-1].endswith("You can post more at midnight (Europe/Paris), in 1 min.")

    clock.advance(minutes=1)
    slack.command("/idea", "A new day", user="UANA")
    assert posts(ctx) == (4, 0)
    with ctx.session_factory() as session:
        assert [c.posted for c in session.scalars(select(DailyPostCount))] == [1]  # yesterday's count is gone


def test_the_limit_holds_when_posts_arrive_at_the_same_moment(slack, fake_slack, ctx):
    attempts = 8
    start = threading.Barrier(attempts)

    def post(n: int) -> None:
        start.wait()
        slack.command("/idea" if n % 2 else "/lesson", f"Post {n}", user="UANA")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(posts(ctx)) == 3
    assert replies(fake_slack).count(REFUSAL) == attempts - 3
