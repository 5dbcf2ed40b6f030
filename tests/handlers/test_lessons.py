import json
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.core.jobs import run_job
from bot.features import tables
from bot.tips.rules import themes
from storage.lessons import Lesson, LessonVote
from storage.models import OutboxMessage
from storage.tips import DailyTip, Tip

THURSDAY_0930_PARIS = datetime(2026, 11, 19, 8, 30, tzinfo=UTC)
FRIDAY_0930_PARIS = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
MONDAY_0930_PARIS = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
LESSON = "Repeat the order number back before you refund: half the mix-ups vanish"


def lessons(ctx):
    with ctx.session_factory() as session:
        return session.scalars(select(Lesson).order_by(Lesson.id)).all()


def votes(ctx, lesson_id=1):
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).where(LessonVote.lesson_id == lesson_id))


def promoted_tips(ctx):
    with ctx.session_factory() as session:
        return session.scalars(select(Tip).where(Tip.show_from.is_not(None)).order_by(Tip.id)).all()


def replies(fake_slack):
    return [c["text"] for c in fake_slack.calls_to("response_url")]


def useful(slack, user, lesson_id=1):
    return slack.block_action("lesson_useful", str(lesson_id), user=user, channel="CTIPS")


def submitted_via_modal(slack, text, *, user="UANA", theme=None, anonymous=False):
    values = {
        "text": {"text": {"type": "plain_text_input", "value": text}},
        "theme": {"theme": {"type": "static_select", "selected_option": {"value": theme} if theme else None}},
        "anonymous": {
            "anonymous": {"type": "checkboxes", "selected_options": [{"value": "anonymous"}] if anonymous else []}
        },
    }
    return slack.view_submission("lesson_modal", values, user=user)


def button_of(blocks):
    [actions] = [b for b in blocks if b["type"] == "actions"]
    [button] = actions["elements"]
    return button


def tip_job_posts(fake_slack):
    return [p for p in fake_slack.posts_to("CTIPS") if "tip" in p["text"].lower() and "Lesson #" not in p["text"]]


# --- sharing -----------------------------------------------------------------------------
def test_a_lesson_from_the_command_is_stored_posted_with_a_useful_button_and_confirmed(slack, fake_slack, ctx):
    slack.command("/lesson", f"{LESSON} <!channel> #active-listening", user="UANA")

    [lesson] = lessons(ctx)
    assert (lesson.text, lesson.theme, lesson.author_id, lesson.tip_id) == (
        LESSON + " @channel",
        "active-listening",
        "UANA",
        None,
    )
    [post] = fake_slack.posts_to("CTIPS")  # KAIZEN_LESSONS_CHANNEL defaults to the tips channel
    sent = json.dumps(post["blocks"])
    assert "Lesson #1" in post["text"] and "0 Useful votes" in post["text"]
    assert LESSON in sent and "<@UANA>" in sent and "#active-listening" in sent and "<!channel>" not in sent
    assert "3 Useful votes make it a daily tip" in sent
    button = button_of(post["blocks"])
    assert (button["action_id"], button["value"], button["text"]["text"]) == ("lesson_useful", "1", ":bulb: Useful (0)")
    [reply] = replies(fake_slack)
    assert "Your lesson is number *#1*" in reply and "<#CTIPS>" in reply


def test_a_theme_slack_turned_into_a_channel_link_is_still_the_theme(slack, ctx):
    slack.command("/lesson", "Say what you'll do next, and when <#C0FEED|empathy>")
    [lesson] = lessons(ctx)
    assert (lesson.text, lesson.theme) == ("Say what you'll do next, and when", "empathy")


@pytest.fixture
def lessons_channel(env):
    env["KAIZEN_LESSONS_CHANNEL"] = "CLESSONS"


@pytest.fixture
def no_channels(env):
    env.pop("KAIZEN_TIPS_CHANNEL")  # and so no lessons channel either


@pytest.fixture(params=[3, 20])
def promote_votes(request, env):
    env["KAIZEN_LESSON_PROMOTE_VOTES"] = str(request.param)


def test_lessons_go_to_their_own_channel_when_one_is_set(lessons_channel, slack, fake_slack, ctx):
    slack.command("/lesson", LESSON)
    assert len(fake_slack.posts_to("CLESSONS")) == 1 and fake_slack.posts_to("CTIPS") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#empathy", "What did you learn?"),
        ("x" * 501, "That lesson has 501 characters; please keep it to 500"),
        ("&amp;" * 400 + " " + "y" * 100, "That lesson has 501 characters"),
        ("Be patient #kindness", "I don't know the theme `#kindness`"),
    ],
)
def test_bad_lessons_are_answered_and_store_nothing(slack, fake_slack, ctx, text, expected):
    slack.command("/lesson", text)
    [reply] = replies(fake_slack)
    assert expected in reply
    assert lessons(ctx) == []
    assert fake_slack.calls_to("chat.postMessage") == []


def test_the_length_counts_what_was_typed_not_the_escaping(slack, ctx):
    slack.command("/lesson", "&lt;&amp;&gt;" * 166 + "ab")  # 500 characters typed, 2,160 once escaped
    [lesson] = lessons(ctx)
    assert lesson.text.startswith("&lt;&amp;&gt;")


def test_no_text_opens_the_modal_and_a_submission_records_it(slack, fake_slack, ctx):
    slack.command("/lesson", "  ", trigger_id="trigger-lesson-modal")
    [opened] = fake_slack.calls_to("views.open")
    assert opened["trigger_id"] == "trigger-lesson-modal"
    view = opened["view"]
    assert view["callback_id"] == "lesson_modal"
    assert [b["block_id"] for b in view["blocks"]] == ["text", "theme", "anonymous"]
    assert view["blocks"][0]["element"]["max_length"] == 500
    assert [o["value"] for o in view["blocks"][1]["element"]["options"]] == list(themes())

    response = submitted_via_modal(slack, "Ask <what> they tried first", theme="empathy")

    assert '"response_action": "update"' in response.body and "#1" in response.body
    [lesson] = lessons(ctx)
    assert (lesson.text, lesson.theme, lesson.author_id) == ("Ask &lt;what&gt; they tried first", "empathy", "UANA")
    assert len(fake_slack.posts_to("CTIPS")) == 1


def test_bad_modal_submissions_show_the_reason_on_the_field(slack, fake_slack, ctx):
    empty = submitted_via_modal(slack, "   ")
    too_long = submitted_via_modal(slack, "z" * 501)
    bad_theme = submitted_via_modal(slack, "Fine", theme="astrology")
    assert '"errors"' in empty.body and '"text"' in empty.body and "What did you learn?" in empty.body
    assert '"text"' in too_long.body and "501 characters" in too_long.body
    assert '"theme"' in bad_theme.body
    assert lessons(ctx) == [] and fake_slack.calls_to("chat.postMessage") == []


def test_a_retried_command_records_once(slack, fake_slack, ctx):
    slack.command("/lesson", LESSON, trigger_id="trigger-retried")
    slack.command("/lesson", LESSON, trigger_id="trigger-retried", headers={"x-slack-retry-num": "1"})
    assert len(lessons(ctx)) == 1 and len(fake_slack.posts_to("CTIPS")) == 1


def test_help_list_and_words_that_start_a_lesson(slack, fake_slack, ctx):
    slack.command("/lesson", "list")
    assert "No lessons yet" in replies(fake_slack)[0]
    slack.command("/lesson", "List the refund steps before you start #process-improvement", user="UANA")
    slack.command("/lesson", "Help the customer name the problem in their words", user="UBEN")
    useful(slack, "UCARL", lesson_id=2)
    fake_slack.clear()

    slack.command("/lesson", "help")
    slack.command("/lesson", "list")

    help_text, listed = replies(fake_slack)
    assert "/lesson list" in help_text and "#active-listening" in help_text and "3 Useful votes" in help_text
    assert listed.splitlines()[1:] == [
        "• *#2* Help the customer name the problem in their words — 1 Useful vote · shared by <@UBEN>",
        "• *#1* List the refund steps before you start — 0 Useful votes · #process-improvement · shared by <@UANA>",
    ]
    assert [lesson.theme for lesson in lessons(ctx)] == ["process-improvement", None]


def test_without_a_channel_a_lesson_is_kept_and_can_still_become_a_tip(no_channels, slack, fake_slack, ctx):
    slack.command("/lesson", LESSON, user="UANA")
    slack.command("/lesson", "promote 1", user="UADMIN")
    assert "not posted" in replies(fake_slack)[0]
    assert [lesson.tip_id for lesson in lessons(ctx)] == [promoted_tips(ctx)[0].id]
    assert fake_slack.calls_to("chat.update") == []


# --- votes and promotion -------------------------------------------------------------------
def test_useful_toggles_one_vote_per_person_and_the_post_shows_the_count(slack, fake_slack, ctx):
    slack.command("/lesson", LESSON, user="UANA")
    fake_slack.clear()

    useful(slack, "UBEN")
    assert votes(ctx) == 1
    [update] = fake_slack.calls_to("chat.update")
    assert update["channel"] == "CTIPS" and update["text"].endswith("1 Useful vote")
    assert button_of(update["blocks"])["text"]["text"] == ":bulb: Useful (1)"
    assert "You found lesson #1 useful (1 Useful vote now)" in replies(fake_slack)[0]

    useful(slack, "UBEN")
    assert votes(ctx) == 0
    assert fake_slack.calls_to("chat.update")[-1]["text"].endswith("0 Useful votes")
    assert "withdrawn" in replies(fake_slack)[1]

    useful(slack, "UANA")  # the author
    useful(slack, "UBEN", lesson_id=99)
    own, unknown = replies(fake_slack)[2:]
    assert "your own lesson" in own and "There is no lesson #99" in unknown
    assert votes(ctx) == 0


def test_one_vote_per_person_is_a_database_rule(slack, ctx, clock):
    slack.command("/lesson", LESSON)
    with pytest.raises(IntegrityError), ctx.session_factory.begin() as session:
        session.add_all([LessonVote(lesson_id=1, voter_id="UBEN", created_at=clock()) for _ in range(2)])


def test_the_third_useful_vote_makes_the_lesson_a_tip_once_and_tells_its_author(slack, fake_slack, ctx):
    slack.command("/lesson", f"{LESSON} #active-listening", user="UANA")
    useful(slack, "UBEN")
    useful(slack, "UCARL")
    assert promoted_tips(ctx) == [] and fake_slack.posts_to("UANA") == []

    useful(slack, "UDAN")

    [tip] = promoted_tips(ctx)
    assert (tip.text, tip.theme, tip.credit, tip.active, tip.added_by) == (
        LESSON,
        "active-listening",
        "shared by <@UANA>",
        True,
        None,
    )
    assert tip.show_from.isoformat() == "2026-11-19"  # the next working day
    [lesson] = lessons(ctx)
    assert (lesson.tip_id, lesson.promoted_by) == (tip.id, None) and lesson.promoted_at is not None
    [dm] = fake_slack.posts_to("UANA")
    assert "is a tip now: the daily tip on Thursday 19 November" in dm["text"]
    assert f"tip {tip.id}" in json.dumps(dm["blocks"]) and LESSON in json.dumps(dm["blocks"])
    assert f"became tip {tip.id}" in json.dumps(fake_slack.calls_to("chat.update")[-1]["blocks"])
    assert "That made it a tip" in replies(fake_slack)[-1]

    # Withdrawn and given again: still one tip, and one DM.
    useful(slack, "UDAN")
    useful(slack, "UEVE")
    useful(slack, "UDAN")
    assert len(promoted_tips(ctx)) == 1 and lessons(ctx)[0].tip_id == tip.id
    assert len(fake_slack.posts_to("UANA")) == 1
    assert votes(ctx) == 4


def test_twenty_people_pressing_useful_at_once_promote_it_exactly_once(promote_votes, slack, fake_slack, ctx):
    slack.command("/lesson", LESSON, user="UANA")
    voters = [f"UVOTER{n:02d}" for n in range(20)]
    barrier = threading.Barrier(len(voters))
    statuses = []

    def press(user):
        barrier.wait()
        statuses.append(useful(slack, user).status)

    threads = [threading.Thread(target=press, args=(user,)) for user in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 20
    assert votes(ctx) == 20
    [tip] = promoted_tips(ctx)
    assert lessons(ctx)[0].tip_id == tip.id
    assert len(fake_slack.posts_to("UANA")) == 1
    assert sum("That made it a tip" in reply for reply in replies(fake_slack)) == 1
    with ctx.session_factory() as session:
        last_update = session.scalars(
            select(OutboxMessage).where(OutboxMessage.method == "chat.update").order_by(OutboxMessage.id.desc())
        ).first()
    assert last_update.payload["text"].endswith("20 Useful votes")


def test_an_admin_promotes_a_lesson_at_once(slack, fake_slack, ctx):
    slack.command("/lesson", LESSON, user="UANA")
    fake_slack.clear()

    slack.command("/lesson", "promote 1", user="ULEAD")
    slack.command("/lesson", "promote", user="UADMIN")
    slack.command("/lesson", "promote 7", user="UADMIN")
    slack.command("/lesson", "promote #1", user="UADMIN")
    slack.command("/lesson", "promote 1", user="UADMIN")

    not_admin, no_number, unknown, promoted, again = replies(fake_slack)
    [tip] = promoted_tips(ctx)
    assert "Only admins" in not_admin and "3 Useful votes" in not_admin
    assert "`/lesson promote 12`" in no_number
    assert "There is no lesson #7" in unknown
    assert f"Lesson #1 is a tip now: tip {tip.id}, the daily tip on Thursday 19 November" in promoted
    assert f"already tip {tip.id}" in again
    [lesson] = lessons(ctx)
    assert (lesson.tip_id, lesson.promoted_by) == (tip.id, "UADMIN")
    assert tip.added_by == "UADMIN"
    assert len(fake_slack.posts_to("UANA")) == 1


# --- the promoted lesson as the daily tip ---------------------------------------------------
def test_the_next_working_days_tip_is_the_lesson_with_its_credit_then_it_joins_the_rotation(
    slack, fake_slack, ctx, clock
):
    slack.command("/tip", "subscribe", user="USUB")
    slack.command("/tip")  # Wednesday's tip is chosen before the promotion...
    slack.command("/lesson", LESSON, user="UANA")
    slack.command("/lesson", "promote 1", user="UADMIN")
    slack.command("/tip")  # ...and stays Wednesday's tip
    wednesday, _, _, wednesday_again = replies(fake_slack)[1:5]
    assert LESSON not in wednesday and wednesday == wednesday_again
    fake_slack.clear()

    clock.set(THURSDAY_0930_PARIS)
    run_job(ctx, "daily-tip")
    slack.command("/tip", user="UME")
    slack.event({"type": "app_home_opened", "user": "UME", "channel": "DHOME", "tab": "home"})

    [post] = fake_slack.posts_to("CTIPS")
    [dm] = fake_slack.posts_to("USUB")
    [asked] = fake_slack.calls_to("response_url")
    [home] = [c for c in fake_slack.calls_to("views.publish") if c["user_id"] == "UME"]
    credited = f"{LESSON}\n— shared by <@UANA>"
    in_json = json.dumps(credited, ensure_ascii=False)[1:-1]
    for shown in (post, dm, asked):
        assert credited in shown["text"] and in_json in json.dumps(shown["blocks"], ensure_ascii=False)
    assert in_json in json.dumps(home["view"], ensure_ascii=False)

    fake_slack.clear()
    clock.set(FRIDAY_0930_PARIS)
    run_job(ctx, "daily-tip")
    [friday] = fake_slack.posts_to("CTIPS")
    assert LESSON not in friday["text"]
    with ctx.session_factory() as session:
        shown = session.scalars(select(DailyTip.tip_id).where(DailyTip.tip_id == promoted_tips(ctx)[0].id)).all()
    assert len(shown) == 1  # once, then in the rotation like any tip


def test_a_lesson_promoted_on_friday_is_mondays_tip(slack, fake_slack, ctx, clock):
    clock.set(datetime(2026, 11, 20, 17, 0, tzinfo=UTC))
    slack.command("/lesson", LESSON, user="UANA")
    slack.command("/lesson", "promote 1", user="UADMIN")
    assert "the daily tip on Monday 23 November" in replies(fake_slack)[-1]

    clock.set(datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    slack.command("/tip")  # someone asks on Saturday: not yet
    assert LESSON not in replies(fake_slack)[-1]
    clock.set(MONDAY_0930_PARIS)
    run_job(ctx, "daily-tip")
    assert LESSON in fake_slack.posts_to("CTIPS")[-1]["text"]


def test_two_lessons_promoted_the_same_day_come_one_day_after_the_other(slack, fake_slack, ctx, clock):
    slack.command("/lesson", LESSON, user="UANA")
    slack.command("/lesson", "Ask what they already tried before you suggest anything", user="UBEN")
    slack.command("/lesson", "promote 2", user="UADMIN")
    slack.command("/lesson", "promote 1", user="UADMIN")
    fake_slack.clear()

    for day in (THURSDAY_0930_PARIS, FRIDAY_0930_PARIS):
        clock.set(day)
        run_job(ctx, "daily-tip")

    thursday, friday = fake_slack.posts_to("CTIPS")
    assert "Ask what they already tried" in thursday["text"] and "<@UBEN>" in thursday["text"]
    assert LESSON in friday["text"] and "<@UANA>" in friday["text"]


def test_each_author_is_told_the_day_their_lesson_is_actually_shown(slack, fake_slack, ctx, clock):
    clock.set(THURSDAY_0930_PARIS)
    run_job(ctx, "daily-tip")  # Thursday's tip is out: the queue starts on Friday
    for author, text in (("UANA", LESSON), ("UBEN", "Ask what they tried first"), ("UCAL", "Say what happens next")):
        slack.command("/lesson", text, user=author)
    slack.command("/lesson", "promote 1", user="UADMIN")
    useful(slack, "UX", 2), useful(slack, "UY", 2), useful(slack, "UZ", 2)  # the third vote promotes it
    slack.command("/lesson", "promote 3", user="UADMIN")

    told = {author: fake_slack.posts_to(author)[0]["text"] for author in ("UANA", "UBEN", "UCAL")}
    assert told == {
        "UANA": "Your lesson #1 is a tip now: the daily tip on Friday 20 November.",
        "UBEN": "Your lesson #2 is a tip now: the daily tip on Monday 23 November.",
        "UCAL": "Your lesson #3 is a tip now: the daily tip on Tuesday 24 November.",
    }
    assert "the daily tip on Tuesday 24 November" in replies(fake_slack)[-1]
    fake_slack.clear()
    for day in (FRIDAY_0930_PARIS, MONDAY_0930_PARIS, datetime(2026, 11, 24, 8, 30, tzinfo=UTC)):
        clock.set(day)
        run_job(ctx, "daily-tip")
    credited = [author for post in tip_job_posts(fake_slack) for author in told if f"<@{author}>" in post["text"]]
    assert credited == ["UANA", "UBEN", "UCAL"]


def test_tip_at_the_weekend_leaves_a_queued_lesson_for_the_next_working_day(slack, fake_slack, ctx, clock):
    slack.command("/tip", "subscribe", user="USUB")
    slack.command("/lesson", LESSON, user="UANA")
    slack.command("/lesson", "promote 1", user="UADMIN")  # Thursday's tip; Kaizen is down all Thursday
    fake_slack.clear()

    for saturday_or_sunday in (21, 22):
        clock.set(datetime(2026, 11, saturday_or_sunday, 10, 0, tzinfo=UTC))
        slack.command("/tip")
    clock.set(MONDAY_0930_PARIS)
    run_job(ctx, "daily-tip")

    assert [LESSON in reply for reply in replies(fake_slack)] == [False, False]
    [post] = tip_job_posts(fake_slack)
    [dm] = fake_slack.posts_to("USUB")
    assert LESSON in post["text"] and LESSON in dm["text"]


def test_a_promoted_tip_retired_before_it_was_shown_is_not_shown(slack, fake_slack, ctx, clock):
    slack.command("/lesson", LESSON, user="UANA")
    slack.command("/lesson", "promote 1", user="UADMIN")
    [tip] = promoted_tips(ctx)
    slack.command("/tip", f"retire {tip.id}", user="UADMIN")
    assert f"Retired tip {tip.id}" in replies(fake_slack)[-1]

    clock.set(THURSDAY_0930_PARIS)
    run_job(ctx, "daily-tip")
    [post] = fake_slack.posts_to("CTIPS")[1:]
    assert LESSON not in post["text"]


# --- Home ----------------------------------------------------------------------------------
def test_home_shows_your_lessons_and_their_votes(slack, fake_slack, ctx, clock):
    slack.command("/lesson", "Say the refund amount twice #empathy", user="UME")
    slack.command("/lesson", LESSON, user="UME")
    slack.command("/lesson", "Not mine", user="UOTHER")
    useful(slack, "UBEN", lesson_id=1)
    slack.command("/lesson", "promote 1", user="UADMIN")
    fake_slack.clear()
    clock.advance(seconds=10)

    slack.event({"type": "app_home_opened", "user": "UME", "channel": "DHOME", "tab": "home"})

    [publish] = [c for c in fake_slack.calls_to("views.publish") if c["user_id"] == "UME"]
    content = json.dumps(publish["view"], ensure_ascii=False)
    [tip] = promoted_tips(ctx)
    assert "Your lessons" in content
    assert f"*#2* {LESSON} — 0 Useful votes" in content
    assert f"*#1* Say the refund amount twice — 1 Useful vote · #empathy · :star: tip {tip.id}" in content
    assert "Not mine" not in content


def test_a_vote_republishes_the_authors_home(slack, fake_slack, ctx, clock):
    slack.command("/lesson", LESSON, user="UME")
    clock.advance(seconds=10)
    fake_slack.clear()
    useful(slack, "UBEN")
    [publish] = [c for c in fake_slack.calls_to("views.publish") if c["user_id"] == "UME"]
    assert "1 Useful vote" in json.dumps(publish["view"])


# --- anonymity -----------------------------------------------------------------------------
def test_an_anonymous_lesson_leaves_no_trace_of_its_author(slack, fake_slack, ctx, clock):
    author = "UHIDDEN7"
    slack.command("/tip", "subscribe", user="USUB")
    slack.command("/lesson", "", user=author)
    response = submitted_via_modal(slack, LESSON, user=author, theme="empathy", anonymous=True)
    for voter in ("UBEN", "UCARL", "UDAN"):
        useful(slack, voter)
    slack.command("/lesson", "list")
    clock.set(THURSDAY_0930_PARIS)
    run_job(ctx, "daily-tip")
    clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    run_job(ctx, "weekly-celebration")
    run_job(ctx, "lead-digest")

    assert "#1" in response.body and author not in response.body
    [lesson] = lessons(ctx)
    [tip] = promoted_tips(ctx)
    assert lesson.author_id is None and lesson.tip_id == tip.id and tip.credit == "a lesson from the team"
    assert LESSON in fake_slack.posts_to("CTIPS")[-1]["text"]
    with ctx.engine.connect() as connection:
        for table in tables().sorted_tables:
            for row in connection.execute(table.select()):
                assert author not in str(tuple(row)), (table.name, row)
    assert fake_slack.calls, "nothing was recorded"
    for call in fake_slack.calls:
        assert author not in json.dumps(call.params, default=str), call
    assert "shared anonymously" in json.dumps(fake_slack.posts_to("CTIPS")[0]["blocks"])
