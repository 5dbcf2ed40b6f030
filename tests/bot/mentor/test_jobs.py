import json
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from bot.cli import main
from bot.core.jobs import run_job
from bot.core.scheduler import add_jobs
from bot.mentor.blocks import FOLLOW_UP_ACTION
from storage.mentor import MentorPair
from storage.models import Member
from storage.outbox import by_key

PARIS = ZoneInfo("Europe/Paris")
ROUND_DAY = datetime(2026, 11, 16, 10, 0, tzinfo=PARIS)  # the fixed clock's Monday starts a round


def mentor(slack, user, text):
    slack.command("/mentor", text, user=user)


def team(slack):
    mentor(slack, "UMAYA", "offer #billing")
    mentor(slack, "UNOAH", "offer #written-tone #coaching")
    mentor(slack, "UANA", "want #billing")
    mentor(slack, "UBEN", "want #written-tone #sql")
    mentor(slack, "UCAL", "want #sql")


def pairs(ctx):
    with ctx.session_factory() as session:
        rows = session.scalars(select(MentorPair).order_by(MentorPair.id))
        return [(p.round.isoformat(), p.mentor_id, p.learner_id, p.skill) for p in rows]


def matching(ctx, **options):
    return run_job(ctx, "mentor-matching", **options)


def group_posts(fake_slack, *users):
    return fake_slack.posts_to("D" + ",".join(users))


def test_each_pair_gets_a_group_dm_and_learners_nobody_can_teach_hear_why(slack, fake_slack, ctx, clock):
    team(slack)
    fake_slack.clear()
    clock.advance(seconds=10)  # past the gap since /mentor republished their Home tabs

    report = matching(ctx)

    assert report.period == "2026-W47"
    assert report.lines == [
        "UMAYA mentors UANA in #billing",
        "UNOAH mentors UBEN in #written-tone",
        "round of Mon 16 Nov: 2 new pairs, 1 learner without a mentor (1 told why)",
    ]
    assert pairs(ctx) == [("2026-11-16", "UMAYA", "UANA", "billing"), ("2026-11-16", "UNOAH", "UBEN", "written-tone")]
    assert sorted(c["users"] for c in fake_slack.calls_to("conversations.open")) == ["UMAYA,UANA", "UNOAH,UBEN"]
    [intro] = group_posts(fake_slack, "UMAYA", "UANA")
    assert intro["text"] == ":handshake: <@UMAYA>, meet <@UANA>: a mentoring match for #billing"
    shown = json.dumps(intro["blocks"])
    assert "A first conversation to try:* Open a recent billing ticket together" in shown
    assert "Mon 30 Nov at 10:00" in shown
    [dm] = fake_slack.posts_to("UCAL")
    assert "No mentor for you this round: nobody offers #sql yet" in dm["text"]
    assert fake_slack.posts_to("UBEN") == []  # matched on #written-tone: no word about #sql
    published = {c["user_id"] for c in fake_slack.calls_to("views.publish")}
    assert published == {"UMAYA", "UANA", "UNOAH", "UBEN"}


def test_a_round_is_claimed_once_and_off_weeks_do_nothing(slack, fake_slack, ctx, clock):
    team(slack)
    matching(ctx)
    fake_slack.clear()

    assert not matching(ctx).ran
    # A forced run of the same round pairs nobody twice and tells nobody twice.
    forced = matching(ctx, force=True)
    assert forced.lines == ["round of Mon 16 Nov: 0 new pairs, 1 learner without a mentor (0 told why)"]
    assert fake_slack.calls_to("chat.postMessage") == []
    # …but pairs a newcomer, within the mentor's places left: UMAYA has one more.
    mentor(slack, "UDEV", "want #billing")
    mentor(slack, "UEVE", "want #billing")
    fake_slack.clear()
    report = matching(ctx, force=True)
    assert report.lines[0] == "UMAYA mentors UDEV in #billing"
    [dm] = fake_slack.posts_to("UEVE")
    assert "everyone who offers #billing already has their learners this round" in dm["text"]

    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=PARIS))  # the second week of the round
    fake_slack.clear()
    report = matching(ctx)
    assert report.ran and report.lines == ["no round this week: the next one is matched Mon 30 Nov at 10:00"]
    assert fake_slack.calls_to("chat.postMessage") == [] and len(pairs(ctx)) == 3


def test_the_next_round_pairs_someone_new_when_it_can(slack, fake_slack, ctx, clock):
    mentor(slack, "UMAYA", "offer #billing")
    mentor(slack, "UNOAH", "offer #billing")
    mentor(slack, "UOLGA", "offer #coaching")
    mentor(slack, "UANA", "want #billing")
    mentor(slack, "UBEN", "want #coaching")
    matching(ctx)

    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=PARIS))
    report = matching(ctx)

    assert report.period == "2026-W49"
    assert pairs(ctx) == [
        ("2026-11-16", "UMAYA", "UANA", "billing"),
        ("2026-11-16", "UOLGA", "UBEN", "coaching"),
        ("2026-11-30", "UNOAH", "UANA", "billing"),  # someone new
        ("2026-11-30", "UOLGA", "UBEN", "coaching"),  # the only one who offers coaching: again, rather than nobody
    ]


def test_a_learner_left_out_hears_it_once_and_again_only_for_a_new_wish(slack, fake_slack, ctx, clock):
    mentor(slack, "UCAL", "want #sql")
    matching(ctx)
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=PARIS))
    matching(ctx)
    assert len(fake_slack.posts_to("UCAL")) == 1

    mentor(slack, "UCAL", "want #excel")
    clock.set(datetime(2026, 12, 14, 10, 0, tzinfo=PARIS))
    matching(ctx)

    texts = [post["text"] for post in fake_slack.posts_to("UCAL")]
    assert len(texts) == 2 and "nobody offers #excel and #sql yet" in texts[1]


def click(slack, pair_id, answer, user, trigger_id=None):
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "trigger_id": trigger_id or f"trigger-{user}-{answer}",
        "actions": [
            {"action_id": FOLLOW_UP_ACTION + answer, "block_id": "b", "type": "button", "value": f"{pair_id}:{answer}"}
        ],
        "response_url": slack.response_url,
        "channel": {"id": "DGROUP"},
        "container": {"type": "message", "channel_id": "DGROUP", "message_ts": "1.0"},
        "message": {"ts": "1.0", "text": ""},
    }
    return slack.interaction(payload)


def answers(ctx):
    with ctx.session_factory() as session:
        return [(p.answer, p.answered_by) for p in session.scalars(select(MentorPair).order_by(MentorPair.id))]


def test_a_week_later_one_follow_up_per_pair_and_its_answers_are_kept(slack, fake_slack, ctx, clock):
    team(slack)
    matching(ctx)
    fake_slack.clear()

    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=PARIS))
    assert run_job(ctx, "mentor-follow-ups").lines == []
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=PARIS))  # a week after the round was matched
    assert run_job(ctx, "mentor-follow-ups").lines == [
        "asked UMAYA and UANA whether they met",
        "asked UNOAH and UBEN whether they met",
    ]
    assert run_job(ctx, "mentor-follow-ups", force=True).lines == []
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=PARIS))
    assert run_job(ctx, "mentor-follow-ups").lines == []
    [follow_up] = group_posts(fake_slack, "UMAYA", "UANA")
    assert "a week ago you were paired for #billing. Did you meet?" in follow_up["text"]
    buttons = follow_up["blocks"][1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Yes", "Not yet", "Not going to happen"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 2

    fake_slack.clear()
    click(slack, 1, "not-yet", "UANA")
    assert answers(ctx) == [("not-yet", "UANA"), (None, None)]
    [update] = fake_slack.calls_to("chat.update")
    assert update["channel"] == "DUMAYA,UANA" and update["ts"] == follow_up_ts(ctx)
    assert "<@UANA>: :hourglass_flowing_sand: not yet" in json.dumps(update["blocks"])
    assert {c["user_id"] for c in fake_slack.calls_to("views.publish")} == {"UMAYA", "UANA"}

    click(slack, 1, "met", "UMAYA")  # a later answer replaces the earlier one
    click(slack, 1, "met", "UMAYA", trigger_id="trigger-UMAYA-met")  # the same click, retried by Slack
    click(slack, 1, "met", "UANA")  # the same answer again: nothing changes
    assert answers(ctx) == [("met", "UMAYA"), (None, None)]
    assert len(fake_slack.calls_to("chat.update")) == 2

    fake_slack.clear()
    click(slack, 2, "met", "UANA")  # not their pair: answered as a pair that does not exist, naming nobody
    click(slack, 99, "met", "UANA")
    assert answers(ctx)[1] == (None, None)
    assert [c["text"] for c in fake_slack.calls_to("response_url")] == [
        "I can't find that mentoring pair any more."
    ] * 2


def follow_up_ts(ctx):
    with ctx.session_factory() as session:
        return by_key(session, "mentor:pair:1:follow-up").result["ts"]


def test_the_lead_digest_counts_pairs_made_and_met_and_skills_nobody_offers(slack, fake_slack, ctx, clock):
    run_job(ctx, "lead-digest")
    assert "Mentoring" not in json.dumps(fake_slack.posts_to("ULEAD")[0]["blocks"])  # nobody uses it yet

    team(slack)
    mentor(slack, "UDEV", "want #sql")
    matching(ctx)
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=PARIS))
    run_job(ctx, "mentor-follow-ups")
    click(slack, 1, "met", "UANA")
    click(slack, 2, "not-going", "UBEN")
    fake_slack.clear()

    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=PARIS))
    run_job(ctx, "lead-digest")

    [digest] = fake_slack.posts_to("ULEAD")
    shown = json.dumps(digest["blocks"], ensure_ascii=False)
    assert "• Mentoring: *0* pairs made, *1* said they met (before: 2 made, 0 met)" in shown
    assert "Latest round (Mon 16 Nov): 2 pairs; 1 met, 0 not yet, 1 not going to happen, 0 no answer yet." in shown
    assert "Wanted, and nobody offers: #sql (3 people)." in shown


def test_the_home_tab_shows_your_current_pair(slack, fake_slack, ctx, clock):
    team(slack)
    matching(ctx)
    fake_slack.clear()
    clock.advance(minutes=1)

    slack.event({"type": "app_home_opened", "user": "UANA", "channel": "DHOME", "tab": "home"})

    [publish] = fake_slack.calls_to("views.publish")
    shown = json.dumps(publish["view"])
    assert "This round you're learning #billing with <@UMAYA>." in shown
    assert "You want to learn #billing." in shown and "Next matching: Mon 30 Nov at 10:00" in shown


def test_dry_run_shows_the_pairs_and_keeps_nothing(slack, fake_slack, ctx):
    team(slack)
    fake_slack.clear()

    report = matching(ctx, dry_run=True)

    assert "UMAYA mentors UANA in #billing" in report.lines
    assert report.lines[-2:] == [
        "would send chat.postMessage as 2 DMs (mentor pair intro)",
        "would send chat.postMessage as 1 DM (mentor unmatched)",
    ]
    assert pairs(ctx) == [] and fake_slack.calls_to("chat.postMessage") == []
    assert matching(ctx).ran  # the dry run claimed nothing


def test_kaizen_jobs_run_mentor_matching(slack, fake_slack, ctx, engine, env, monkeypatch, capsys, tmp_path):
    team(slack)
    env["KAIZEN_MENTOR_EVERY_WEEKS"] = "1"  # the CLI runs at today's date: make every week a round
    for name, value in {**env, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    assert main(["jobs", "run", "mentor-matching"]) == 0

    out = capsys.readouterr().out
    assert "UMAYA mentors UANA in #billing" in out
    assert len(group_posts(fake_slack, "UMAYA", "UANA")) == 1


def test_matching_is_weekly_at_its_time_and_follow_ups_daily(ctx):
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, ctx)
    monday = datetime(2026, 11, 16, 10, 0, tzinfo=PARIS)
    after = monday.replace(hour=11)
    matching_trigger = scheduler.get_job("mentor-matching").trigger
    follow_ups = scheduler.get_job("mentor-follow-ups").trigger
    assert matching_trigger.get_next_fire_time(None, after) == datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
    assert follow_ups.get_next_fire_time(None, after) == datetime(2026, 11, 17, 10, 0, tzinfo=PARIS)


def test_people_known_to_be_deactivated_are_not_matched(slack, ctx):
    mentor(slack, "UGONE", "offer #billing")
    mentor(slack, "UMAYA", "offer #billing")
    mentor(slack, "UANA", "want #billing")
    mentor(slack, "UBEN", "want #billing")
    with ctx.session_factory.begin() as session:
        session.add(Member(user_id="UGONE", deleted=True, first_seen_at=ctx.now()))

    matching(ctx)

    assert pairs(ctx) == [("2026-11-16", "UMAYA", "UANA", "billing"), ("2026-11-16", "UMAYA", "UBEN", "billing")]


def test_a_new_wish_in_the_same_round_is_told_again_by_a_forced_or_dry_run(slack, fake_slack, ctx):
    mentor(slack, "UCAL", "want #sql")
    matching(ctx)
    mentor(slack, "UCAL", "want #excel")  # a new wish: the next run tells them why again
    fake_slack.clear()

    dry = matching(ctx, dry_run=True)
    assert "would send chat.postMessage as 1 DM (mentor unmatched)" in dry.lines  # a dry run names no one it DMs
    forced = matching(ctx, force=True)

    assert forced.lines == ["round of Mon 16 Nov: 0 new pairs, 1 learner without a mentor (1 told why)"]
    [dm] = fake_slack.posts_to("UCAL")
    assert "nobody offers #excel and #sql yet" in dm["text"]


def test_forced_in_a_week_no_round_starts_it_matches_the_round_under_way_now(slack, fake_slack, ctx, clock):
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=PARIS))  # the second week of the round of Mon 16 Nov
    team(slack)
    assert matching(ctx).lines == ["no round this week: the next one is matched Mon 30 Nov at 10:00"]

    report = matching(ctx, force=True)

    assert report.lines == [
        "no round starts this week: forced, so matching now for the round of Mon 16 Nov",
        "UMAYA mentors UANA in #billing",
        "UNOAH mentors UBEN in #written-tone",
        "round of Mon 16 Nov: 2 new pairs, 1 learner without a mentor (1 told why)",
    ]
    assert pairs(ctx) == [("2026-11-16", "UMAYA", "UANA", "billing"), ("2026-11-16", "UNOAH", "UBEN", "written-tone")]
    assert len(group_posts(fake_slack, "UMAYA", "UANA")) == 1
    # The round's next scheduled matching is not moved by it.
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=PARIS))
    assert matching(ctx).lines[-1] == "round of Mon 30 Nov: 2 new pairs, 1 learner without a mentor (0 told why)"


def test_after_a_round_that_paired_nobody_this_round_has_no_pair(slack, fake_slack, ctx, clock):
    mentor(slack, "UMAYA", "offer #billing")
    mentor(slack, "UANA", "want #billing")
    matching(ctx)  # the round of Mon 16 Nov: UMAYA mentors UANA
    mentor(slack, "UMAYA", "stop")
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=PARIS))
    assert matching(ctx).lines == ["round of Mon 30 Nov: 0 new pairs, 1 learner without a mentor (1 told why)"]
    fake_slack.clear()

    clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=PARIS))
    mentor(slack, "UANA", "list")
    slack.event({"type": "app_home_opened", "user": "UANA", "channel": "DHOME", "tab": "home"})
    run_job(ctx, "lead-digest")

    [listed] = [call["text"] for call in fake_slack.calls_to("response_url")]
    [home] = [json.dumps(call["view"]) for call in fake_slack.calls_to("views.publish")]
    digest = json.dumps(fake_slack.posts_to("ULEAD")[0]["blocks"])
    assert "*This round:* no pair." in listed and "UMAYA" not in listed
    assert "No pair this round." in home and "UMAYA" not in home
    assert "Latest round (Mon 30 Nov): no pairs." in digest and "Mon 16 Nov" not in digest


def test_the_digest_leaves_out_deactivated_people_s_wishes_and_offers(slack, fake_slack, ctx):
    mentor(slack, "UANA", "want #sql #billing")
    mentor(slack, "UGONE", "want #sql #excel")
    mentor(slack, "UGONEMENTOR", "offer #billing")
    with ctx.session_factory.begin() as session:
        session.add_all(
            Member(user_id=user, deleted=True, first_seen_at=ctx.now()) for user in ("UGONE", "UGONEMENTOR")
        )

    run_job(ctx, "lead-digest")

    shown = json.dumps(fake_slack.posts_to("ULEAD")[0]["blocks"])
    assert "Wanted, and nobody offers: #billing (1 person), #sql (1 person)." in shown and "#excel" not in shown
