import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.jobs import run_job
from bot.feedback.blocks import FEEDBACK_MODAL
from bot.weekly.digest import chart_days, chart_description, digest_window
from storage import feedback, ideas
from storage.kudos import kudos_counts, received_counts
from storage.models import Member
from tests.bot.factories import kudos
from tests.handlers.test_feedback import answer_values, click_answer

PARIS = ZoneInfo("Europe/Paris")
MONDAY_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)


def member(user_id: str, **flags) -> Member:
    return Member(user_id=user_id, first_seen_at=datetime(2026, 1, 1, tzinfo=UTC), **flags)


def answer(slack, fake_slack, request_id, user, *, anonymous=False):
    view = click_answer(slack, fake_slack, request_id, user)
    values = answer_values("Good pace", anonymous=anonymous)
    slack.view_submission(FEEDBACK_MODAL, values, user=user, private_metadata=view["private_metadata"])


def test_each_lead_gets_the_digest_and_its_chart_by_dm(ctx, fake_slack, clock):
    with ctx.session_factory.begin() as session:
        session.add_all(
            [member("UNEVER"), member("UOLD"), member("URECENT"), member("UBOT", is_bot=True)]
            + [member("UGONE", deleted=True)]
        )
        session.add_all(
            [
                kudos("UANA", "UOLD", MONDAY_0900 - timedelta(days=40)),
                kudos("UANA", "URECENT", MONDAY_0900 - timedelta(days=3)),  # the 7 days before the digest
                kudos("UANA", "URECENT", MONDAY_0900 - timedelta(days=2)),
                kudos("UANA", "UBEN", MONDAY_0900 - timedelta(days=9)),  # the 7 days before those
            ]
        )
    clock.set(MONDAY_0900)

    report = run_job(ctx, "lead-digest")

    assert report.lines == ["lead digest and its chart by DM to 2 lead(s): UADMIN, ULEAD"]
    for lead in ("ULEAD", "UADMIN"):
        [dm] = fake_slack.posts_to(lead)
        text = str(dm["blocks"])
        assert dm["text"] == ":bar_chart: Your weekly Kaizen digest: 2 kudos in the last 7 days (+1)"
        assert "• Kudos: *2* (before: 1, +1)" in text
        assert "• Ideas: no new ideas and no status changes (nor the week before)" in text
        assert "none moved" not in text
        assert "2 people with no kudos in 30 days" in text and "<@UNEVER> (never), <@UOLD> (40 days)" in text
        assert "UBOT" not in text and "UGONE" not in text and "URECENT" not in text
        assert "*Kudos per day, last 4 weeks* — the chart follows." in text
        assert "Weekly totals, oldest first: 0 → 0 → 1 → 2." in text
        assert "busiest" not in text  # one kudos a day stands out from nothing
    opened = sorted(call["users"] for call in fake_slack.calls_to("conversations.open"))
    assert opened == ["UADMIN", "ULEAD"]
    uploads = fake_slack.calls_to("files.completeUploadExternal")
    assert sorted(call["channel_id"] for call in uploads) == ["DUADMIN", "DULEAD"]
    assert all(call["bytes"].startswith(b"\x89PNG") for call in fake_slack.calls_to("file_upload"))


def test_the_weeks_and_days_of_a_dst_change(ctx, settings):
    # Summer time ends in Paris on Sunday 25 October 2026; the digest runs Monday 26 at 09:00 CET.
    monday = datetime(2026, 10, 26, 9, 0, tzinfo=PARIS)
    with ctx.session_factory.begin() as session:
        session.add_all(
            [
                kudos("UANA", "UBEN", datetime(2026, 10, 19, 8, 30, tzinfo=PARIS)),  # before the 7 days
                kudos("UANA", "UBEN", datetime(2026, 10, 19, 9, 30, tzinfo=PARIS)),  # inside them
                kudos("UANA", "UBEN", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # 02:30 CEST, the first time
                kudos("UANA", "UBEN", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),  # 02:30 CET, the second time
                kudos("UANA", "UBEN", datetime(2026, 10, 25, 22, 30, tzinfo=UTC)),  # 23:30 CET, still Sunday
            ]
        )
    window = digest_window(monday, settings.timezone)
    with ctx.session_factory() as session:
        weeks = kudos_counts(session, [window.this_week, window.last_week])
        counts = kudos_counts(session, chart_days(window))
        per_person = received_counts(session, chart_days(window))  # a team lead's chart: the same days
    days = [start.date() for start, _ in chart_days(window)]
    assert per_person == {"UBEN": counts}

    assert weeks == [4, 1]
    # Each day of the chart runs from 09:00 to 09:00, the 25-hour one across the change included.
    per_day = dict(zip(days, counts, strict=True))
    assert days[-1] == date(2026, 10, 25) and len(days) == 28
    assert per_day[date(2026, 10, 25)] == 1 and per_day[date(2026, 10, 24)] == 2
    assert per_day[date(2026, 10, 19)] == 1 and per_day[date(2026, 10, 18)] == 1
    assert [sum(counts[-7:]), sum(counts[-14:-7])] == weeks


def test_feedback_and_ideas_are_counted_never_quoted(slack, ctx, clock, settings):
    clock.set(MONDAY_0900 - timedelta(days=10))  # the 7 days before last
    slack.command("/idea", "Old idea still waiting", user="UANA")
    slack.command("/feedback", "request <@UBEN|ben> about my escalation call", user="UANA")
    clock.set(MONDAY_0900 - timedelta(days=3))  # this week
    slack.command("/idea", "Macro for refund status", user="UCARL")
    slack.command("/idea", "status 2 implemented shipped on Friday", user="ULEAD")
    slack.command("/idea", "status 1 under-review", user="ULEAD")
    slack.command("/feedback", "request <@UDAN|dan> about my first week", user="UCARL")

    window = digest_window(MONDAY_0900, settings.timezone)
    with ctx.session_factory() as session:
        assert feedback.feedback_counts(session, window.this_week) == feedback.FeedbackCounts(1, 0, 0)
        assert feedback.feedback_counts(session, window.last_week).asked == 1
        assert ideas.idea_status_counts_by_author(session, window.this_week) == {
            "UCARL": {"new": 1, "implemented": 1},
            "UANA": {"under-review": 1},
        }
        assert ideas.idea_status_counts_by_author(session, window.last_week) == {"UANA": {"new": 1}}
        # Both requests are unanswered after more than 2 days; the oldest first.
        overdue = feedback.overdue_feedback_requests(session, MONDAY_0900 - timedelta(days=2))
        [waiting] = ideas.ideas_awaiting_review(session)
    assert [request.asked_at for request in overdue] == [
        MONDAY_0900 - timedelta(days=10),
        MONDAY_0900 - timedelta(days=3),
    ]
    assert (waiting.number, waiting.status, waiting.since) == (1, "under-review", MONDAY_0900 - timedelta(days=3))


def test_feedback_requests_and_their_answers_are_counted_apart_from_unrequested_feedback(slack, ctx, fake_slack, clock):
    clock.set(MONDAY_0900 - timedelta(days=3))
    slack.command("/feedback", "request <@UANA|ana> <@UBEN|ben> about my escalation call", user="UREQ")
    [opened] = fake_slack.posts_to("UANA")
    request_id = opened["blocks"][-1]["elements"][0]["value"]
    answer(slack, fake_slack, request_id, "UANA")
    slack.command("/feedback", "give <@UCARL|carl>", user="UDAN")
    metadata = fake_slack.modal()["private_metadata"]
    slack.view_submission(FEEDBACK_MODAL, answer_values("Clear notes"), user="UDAN", private_metadata=metadata)
    fake_slack.clear()
    clock.set(MONDAY_0900)

    run_job(ctx, "lead-digest")

    text = str(fake_slack.posts_to("ULEAD")[0]["blocks"])
    assert "• Feedback requests: *2* asked, *1* answered (before: 0 asked, 0 answered)" in text
    assert "• Feedback nobody asked for: *1* (before: 0)" in text


def test_the_chart_and_the_totals_cover_the_same_days_today_included(ctx, fake_slack, clock):
    with ctx.session_factory.begin() as session:
        session.add_all(
            [
                kudos("UANA", "UBEN", MONDAY_0900 - timedelta(minutes=30)),  # this morning
                kudos("UANA", "UBEN", MONDAY_0900 - timedelta(days=6, hours=23)),
                kudos("UANA", "UBEN", MONDAY_0900 - timedelta(days=7, hours=1)),  # the 7 days before those
            ]
        )
    clock.set(MONDAY_0900)

    run_job(ctx, "lead-digest")

    text = str(fake_slack.posts_to("ULEAD")[0]["blocks"])
    assert "• Kudos: *2* (before: 1, +1)" in text
    assert "Weekly totals, oldest first: 0 → 0 → 1 → 2" in text


def test_the_busiest_day_is_named_only_when_it_stands_out():
    days = [date(2026, 10, 26) + timedelta(days=n) for n in range(28)]
    at = MONDAY_0900.time()

    def described(counts: dict[int, int]) -> str:
        return chart_description(days, [counts.get(n, 0) for n in range(28)], at)

    assert "busiest" not in described({20: 1, 25: 2})  # small numbers are noise
    assert "busiest" not in described({n: 3 for n in range(28)} | {25: 5})  # not twice the usual
    assert "busiest" not in described({20: 4, 25: 4})  # no one day
    assert described({3: 1, 20: 2, 25: 6}) == (
        "Weekly totals, oldest first: 1 → 0 → 2 → 6; the busiest day was Friday 20 November, with 6. "
        "Each day runs from 09:00 to 09:00, like the totals."
    )


def test_without_kudos_in_4_weeks_the_digest_says_so_and_sends_no_chart(ctx, fake_slack, clock):
    with ctx.session_factory.begin() as session:
        session.add(kudos("UANA", "UBEN", MONDAY_0900 - timedelta(days=29)))
    clock.set(MONDAY_0900)

    report = run_job(ctx, "lead-digest")

    [dm] = fake_slack.posts_to("ULEAD")
    text = str(dm["blocks"])
    assert "No kudos in the last 4 weeks, so there is no chart this time." in text
    assert "chart follows" not in text
    assert fake_slack.calls_to("files.completeUploadExternal") == []
    assert report.lines == ["lead digest (no kudos in 4 weeks, so no chart) by DM to 2 lead(s): UADMIN, ULEAD"]


def test_the_chart_follows_its_digest_in_each_leads_dm(ctx, fake_slack, clock):
    with ctx.session_factory.begin() as session:
        session.add(kudos("UANA", "UBEN", MONDAY_0900 - timedelta(days=2)))
    clock.set(MONDAY_0900)

    run_job(ctx, "lead-digest")

    for lead in ("ULEAD", "UADMIN"):
        sent = [
            call.method
            for call in fake_slack.calls
            if call.get("channel") == lead or call.get("channel_id") == f"D{lead}"
        ]
        assert sent == ["chat.postMessage", "files.completeUploadExternal"]


def test_ideas_in_the_digest_are_said_plainly(slack, ctx, fake_slack, clock):
    clock.set(MONDAY_0900 - timedelta(days=10))
    slack.command("/idea", "Old idea", user="UANA")
    clock.set(MONDAY_0900 - timedelta(days=3))
    slack.command("/idea", "status 1 under-review", user="ULEAD")
    clock.set(MONDAY_0900 - timedelta(hours=2))
    slack.command("/idea", "Macro for refund status", user="UCARL")
    fake_slack.clear()
    clock.set(MONDAY_0900)

    run_job(ctx, "lead-digest")

    [dm] = fake_slack.posts_to("ULEAD")
    text = "\n".join(b["text"]["text"] for b in dm["blocks"] if b["type"] == "section")
    assert "• Ideas: 1 new, 1 under review (before: 1 new)" in text
    assert "• #2 Macro for refund status — new for less than a day" in text
    assert "• #1 Old idea — under review for 3 days" in text
    assert "for today" not in text
    print(dm["text"], json.dumps(dm["blocks"], indent=1, ensure_ascii=False), sep="\n")
