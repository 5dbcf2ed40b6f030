import contextlib
import json
import threading

from sqlalchemy import select

import bot.mentor.rules
from bot.mentor.blocks import MENTOR_MODAL
from storage.mentor import MentorSkill


def replies(fake_slack):
    return [c["text"] for c in fake_slack.calls_to("response_url")]


def last_reply(slack, fake_slack, text, user):
    fake_slack.clear()
    slack.command("/mentor", text, user=user)
    [reply] = replies(fake_slack)
    return reply


def lists(ctx):
    with ctx.session_factory() as session:
        rows = session.scalars(select(MentorSkill).order_by(MentorSkill.user_id, MentorSkill.role, MentorSkill.skill))
        return [(r.user_id, r.role, r.skill) for r in rows]


def form_values(offers=(), offer_tags="", wants=(), want_tags=""):
    def picked(values):
        return {"type": "multi_static_select", "selected_options": [{"value": v} for v in values]}

    def typed(text):
        return {"type": "plain_text_input", "value": text or None}

    return {
        "offers": {"offers": picked(offers)},
        "offer_tags": {"offer_tags": typed(offer_tags)},
        "wants": {"wants": picked(wants)},
        "want_tags": {"want_tags": typed(want_tags)},
    }


def test_offer_and_want_by_tag_and_by_channel_link(slack, fake_slack, ctx):
    reply = last_reply(slack, fake_slack, "offer #Billing <#C0123|de-escalation>", "UMAYA")
    assert "You offer #billing and #de-escalation" in reply
    assert "Next matching: Mon 30 Nov at 10:00" in reply and "at most 2 learners a round" in reply

    reply = last_reply(slack, fake_slack, "want #written-tone billing", "UANA")
    assert "You want to learn #billing and #written-tone" in reply
    assert "Nobody offers #written-tone yet" in reply and "#billing yet" not in reply

    assert lists(ctx) == [
        ("UANA", "want", "billing"),
        ("UANA", "want", "written-tone"),
        ("UMAYA", "offer", "billing"),
        ("UMAYA", "offer", "de-escalation"),
    ]
    assert "You already offer those" in last_reply(slack, fake_slack, "offer #billing", "UMAYA")


def test_refusals_are_explained_and_store_nothing(slack, fake_slack, ctx):
    slack.command("/mentor", "offer #billing", user="UANA")
    before = lists(ctx)
    cases = {
        "offer": "Which skills?",
        "want   ": "Which skills?",
        "offer #billing and #coaching": "`and` isn't one",
        "want <@UBEN|ben>": "isn't one",
        "offer <#C0123>": "isn't a skill I can read",
        "want #bill!ng": "isn't a skill I can read",
        "offer #" + "x" * 41: "under 40 characters",
        "want #billing #coaching": "You offer #billing already",
        "offer " + " ".join(f"#skill-{n}" for n in range(10)): "keep it to 10",
    }
    for text, expected in cases.items():
        reply = last_reply(slack, fake_slack, text, "UANA")
        assert expected in reply, (text, reply)
    assert lists(ctx) == before
    # A skill someone wants cannot be offered by them either.
    slack.command("/mentor", "want #coaching", user="UANA")
    assert "You want to learn #coaching already" in last_reply(slack, fake_slack, "offer #coaching", "UANA")


def test_stop_one_skill_or_everything(slack, fake_slack, ctx):
    slack.command("/mentor", "offer #billing #coaching", user="UANA")
    slack.command("/mentor", "want #written-tone", user="UANA")

    assert "#coaching is off your lists" in last_reply(slack, fake_slack, "stop #coaching", "UANA")
    assert lists(ctx) == [("UANA", "offer", "billing"), ("UANA", "want", "written-tone")]
    assert "You don't offer or want #sql" in last_reply(slack, fake_slack, "stop #sql", "UANA")
    assert "you're out of mentoring" in last_reply(slack, fake_slack, "stop", "UANA")
    assert lists(ctx) == []
    assert "nothing to stop" in last_reply(slack, fake_slack, "stop", "UANA")


def test_list_help_and_unknown_words(slack, fake_slack):
    slack.command("/mentor", "offer #billing", user="UANA")
    reply = last_reply(slack, fake_slack, "list", "UANA")
    assert "*You offer:* #billing" in reply and "*You want to learn:* nothing yet" in reply

    response = slack.command("/mentor", "help", user="UANA")
    assert "/mentor offer #billing #de-escalation" in response.body and "#written-tone" in response.body
    assert "Every 2 weeks" in response.body
    response = slack.command("/mentor", "teach #billing", user="UANA")
    assert "I don't know `teach`" in response.body and "/mentor want" in response.body


def test_the_form_shows_both_lists_and_saves_them_whole(slack, fake_slack, ctx):
    slack.command("/mentor", "offer #billing #sql-basics", user="UANA")
    fake_slack.clear()

    slack.command("/mentor", "", user="UANA")

    [opened] = fake_slack.calls_to("views.open")
    view = opened["view"]
    assert view["callback_id"] == MENTOR_MODAL
    blocks = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert [o["value"] for o in blocks["offers"]["options"]] == list(ctx.settings.skills)
    assert [o["value"] for o in blocks["offers"]["initial_options"]] == ["billing"]
    assert blocks["offer_tags"]["initial_value"] == "#sql-basics"
    assert "initial_options" not in blocks["wants"]

    response = slack.view_submission(
        MENTOR_MODAL,
        form_values(offers=["coaching"], offer_tags="#refunds-eu, #SQL-basics", wants=["written-tone"]),
        user="UANA",
    )

    body = json.loads(response.body)
    assert body["response_action"] == "update"
    assert "#coaching, #refunds-eu and #sql-basics" in json.dumps(body["view"])
    assert lists(ctx) == [
        ("UANA", "offer", "coaching"),
        ("UANA", "offer", "refunds-eu"),
        ("UANA", "offer", "sql-basics"),
        ("UANA", "want", "written-tone"),
    ]


def test_form_errors_show_on_their_field_and_keep_the_lists(slack, fake_slack, ctx):
    slack.command("/mentor", "offer #billing", user="UANA")

    bad_tag = slack.view_submission(MENTOR_MODAL, form_values(offer_tags="billing, and more"), user="UANA")
    overlap = slack.view_submission(MENTOR_MODAL, form_values(offers=["billing"], want_tags="#billing"), user="UANA")

    assert json.loads(bad_tag.body) == {
        "response_action": "errors",
        "errors": {
            "offer_tags": "I read skills as #tags, and `and` isn't one. For example: "
            "`/mentor offer #billing #de-escalation`."
        },
    }
    assert "You offer #billing already" in json.loads(overlap.body)["errors"]["wants"]
    assert lists(ctx) == [("UANA", "offer", "billing")]


def test_the_same_offer_twice_at_once_records_once_and_answers_both(slack, fake_slack, ctx, monkeypatch):
    # Both requests read the lists before either writes (on SQLite the second waits for the first's
    # transaction instead, so the barrier gives up after a moment).
    barrier = threading.Barrier(2, timeout=2)
    check_size = bot.mentor.rules._check_size

    def both_read_first(*args):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        check_size(*args)

    monkeypatch.setattr(bot.mentor.rules, "_check_size", both_read_first)
    statuses = []

    def offer(trigger_id):
        statuses.append(slack.command("/mentor", "offer #billing", user="UMAYA", trigger_id=trigger_id).status)

    threads = [threading.Thread(target=offer, args=(f"T{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200, 200]
    assert lists(ctx) == [("UMAYA", "offer", "billing")]
    assert sorted(reply.split(".")[0] for reply in replies(fake_slack)) == [
        ":white_check_mark: Thank you! You offer #billing",
        "You already offer those",
    ]
