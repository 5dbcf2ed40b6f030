import json
import threading

import pytest
from sqlalchemy import func, select

from storage.kudos import Kudos
from storage.models import OutboxMessage


def kudos_rows(ctx):
    with ctx.session_factory() as session:
        return session.scalars(select(Kudos).order_by(Kudos.id)).all()


def ephemeral_replies(fake_slack):
    return [c["text"] for c in fake_slack.calls_to("response_url")]


def test_kudos_to_two_people_records_posts_and_dms(slack, fake_slack, ctx):
    response = slack.command("/kudos", "<@UANA|ana> <@UBEN|ben> thanks for staying late to clear the queue #teamwork")

    assert response.status == 200
    rows = kudos_rows(ctx)
    assert [(k.giver_id, k.recipient_id, k.values, k.source) for k in rows] == [
        ("UGIVER", "UANA", "teamwork", "command"),
        ("UGIVER", "UBEN", "teamwork", "command"),
    ]
    assert rows[0].message == "thanks for staying late to clear the queue"
    [celebration] = fake_slack.posts_to("CKUDOS")
    assert "<@UANA>" in celebration["text"] and "<@UBEN>" in celebration["text"] and "<@UGIVER>" in celebration["text"]
    assert "#teamwork" in str(celebration["blocks"])
    assert len(fake_slack.posts_to("UANA")) == 1 and len(fake_slack.posts_to("UBEN")) == 1
    [reply] = ephemeral_replies(fake_slack)
    assert "Kudos sent to <@UANA> and <@UBEN>" in reply and "3 left today" in reply
    with ctx.session_factory() as session:
        statuses = session.scalars(select(OutboxMessage.status).where(OutboxMessage.method == "chat.postMessage")).all()
    assert statuses == ["sent", "sent", "sent"]


def test_unknown_hashtags_stay_in_the_text(slack, ctx):
    slack.command("/kudos", "<@UANA|ana> great #refunds work #ownership")
    [row] = kudos_rows(ctx)
    assert row.message == "great #refunds work"
    assert row.values == "ownership"


def test_refusals_store_nothing(slack, fake_slack, ctx):
    fake_slack.add_user("UBOT", is_bot=True)
    fake_slack.add_user("UGONE", deleted=True)
    cases = {
        "thanks for everything": "Who is it for?",
        "<@UGIVER|me> I did great": "someone else",
        "<@UBOT|bot> beep": "is a bot",
        "<@UGONE|gone> bye": "can't find an active member",
        "<@UANA|ana>   ": "Say what they did",
    }
    for text, expected in cases.items():
        fake_slack.clear()
        slack.command("/kudos", text)
        [reply] = ephemeral_replies(fake_slack)
        assert expected in reply, (text, reply)
        assert fake_slack.calls_to("chat.postMessage") == []
    assert kudos_rows(ctx) == []


def test_daily_limit_says_how_many_are_left_and_when_it_resets(slack, fake_slack, ctx, clock):
    for n in range(4):
        slack.command("/kudos", f"<@UANA|ana> thanks {n}")
    fake_slack.clear()

    slack.command("/kudos", "<@UBEN|ben> <@UCARL|carl> thanks both")

    [reply] = ephemeral_replies(fake_slack)
    # 09:00 UTC is 10:00 in Paris: 14 hours to midnight there.
    assert "You have 1 kudos left today and this would give 2" in reply
    assert "midnight (Europe/Paris), in 14 h" in reply
    assert len(kudos_rows(ctx)) == 4

    slack.command("/kudos", "<@UBEN|ben> thanks")
    fake_slack.clear()
    slack.command("/kudos", "<@UBEN|ben> thanks again")
    assert "You've given all 5 of today's kudos" in ephemeral_replies(fake_slack)[0]

    clock.advance(hours=14)  # past midnight in Paris
    slack.command("/kudos", "<@UBEN|ben> new day")
    assert len(kudos_rows(ctx)) == 6


def test_user_text_cannot_ping_channel_or_forge_mentions(slack, fake_slack, ctx):
    slack.command("/kudos", "<@UANA|ana> you rock <!channel> <!here> <!everyone> &lt;!here&gt; &lt;@UBOSS&gt;")
    [celebration] = fake_slack.posts_to("CKUDOS")
    sent = celebration["text"] + str(celebration["blocks"])
    for ping in ("<!channel>", "<!here>", "<!everyone>", "<@UBOSS>"):
        assert ping not in sent
    assert "@channel" in sent  # the words stay, the ping goes


def test_slack_retry_of_the_same_command_records_once(slack, fake_slack, ctx):
    text = "<@UANA|ana> thanks for the handover notes"
    slack.command("/kudos", text, trigger_id="trigger-retried")
    slack.command("/kudos", text, trigger_id="trigger-retried", headers={"x-slack-retry-num": "1"})
    assert len(kudos_rows(ctx)) == 1
    assert len(fake_slack.posts_to("CKUDOS")) == 1


def test_no_text_opens_the_modal_and_submission_records(slack, fake_slack, ctx):
    slack.command("/kudos", "", trigger_id="trigger-modal")
    [opened] = fake_slack.calls_to("views.open")
    assert opened["trigger_id"] == "trigger-modal"
    view = opened["view"]
    assert view["callback_id"] == "kudos_modal"
    assert [b["block_id"] for b in view["blocks"]] == ["recipients", "message", "values"]

    response = slack.view_submission(
        "kudos_modal",
        {
            "recipients": {"recipients": {"type": "multi_users_select", "selected_users": ["UANA"]}},
            "message": {"message": {"type": "plain_text_input", "value": "Calm <b>under</b> pressure <!channel>"}},
            "values": {"values": {"type": "multi_static_select", "selected_options": [{"value": "learning"}]}},
        },
    )
    assert response.status == 200
    assert '"response_action": "update"' in response.body
    [row] = kudos_rows(ctx)
    assert (row.recipient_id, row.values, row.source) == ("UANA", "learning", "modal")
    assert row.message == "Calm &lt;b&gt;under&lt;/b&gt; pressure &lt;!channel&gt;"
    assert len(fake_slack.posts_to("CKUDOS")) == 1


def test_modal_errors_show_on_the_field(slack, fake_slack, ctx):
    response = slack.view_submission(
        "kudos_modal",
        {
            "recipients": {"recipients": {"selected_users": ["UGIVER"]}},
            "message": {"message": {"value": "me me me"}},
            "values": {"values": {"selected_options": []}},
        },
    )
    assert '"response_action": "errors"' in response.body and '"recipients"' in response.body
    response = slack.view_submission(
        "kudos_modal",
        {
            "recipients": {"recipients": {"selected_users": ["UANA"]}},
            "message": {"message": {"value": "   "}},
            "values": {"values": {"selected_options": []}},
        },
    )
    assert '"message"' in response.body
    with ctx.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Kudos)) == 0


def test_leaderboard_and_stats(slack, fake_slack, ctx, clock):
    slack.command("/kudos", "<@UANA|ana> <@UBEN|ben> thanks #teamwork")
    slack.command("/kudos", "<@UANA|ana> again #teamwork", user="UCARL")
    fake_slack.clear()

    slack.command("/kudos", "leaderboard")
    board = ephemeral_replies(fake_slack)[-1]
    assert board.index("<@UANA> — 2 kudos") < board.index("<@UBEN> — 1 kudos")

    slack.command("/kudos", "leaderboard year")
    slack.command("/kudos", "stats <@UANA|ana>")
    stats = ephemeral_replies(fake_slack)[-1]
    assert "Received: 2 this week" in stats and "#teamwork (2)" in stats


def test_help_is_answered_in_the_ack(slack):
    response = slack.command("/kudos", "help")
    assert "/kudos leaderboard" in response.body


def slack_escaped(typed: str) -> str:
    """Command text as Slack sends it (escaping on): &, < and > as entities."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_the_length_limit_counts_what_was_typed_not_its_escaping(slack, fake_slack, ctx):
    typed = ("Q&A <3 > " * 112)[:1000]
    assert len(typed) == 1000
    slack.command("/kudos", f"<@UANA|ana> {slack_escaped(typed)}")
    [row] = kudos_rows(ctx)
    assert row.message == slack_escaped(typed.strip())

    fake_slack.clear()
    slack.command("/kudos", f"<@UBEN|ben> {slack_escaped(typed + '!')}")
    [reply] = ephemeral_replies(fake_slack)
    assert "keep it under 1000 characters" in reply

    response = slack.view_submission(
        "kudos_modal",
        {
            "recipients": {"recipients": {"selected_users": ["UCARL"]}},
            "message": {"message": {"value": typed}},
            "values": {"values": {"selected_options": []}},
        },
    )
    assert '"response_action": "update"' in response.body
    assert [k.recipient_id for k in kudos_rows(ctx)] == ["UANA", "UCARL"]


def test_the_daily_limit_holds_when_requests_arrive_at_the_same_moment(slack, fake_slack, ctx):
    attempts = 12
    start = threading.Barrier(attempts)

    def give(n: int) -> None:
        start.wait()
        slack.command("/kudos", f"<@UANA|ana> thanks, take {n}")

    threads = [threading.Thread(target=give, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(kudos_rows(ctx)) == ctx.settings.kudos_daily_limit
    refused = [r for r in ephemeral_replies(fake_slack) if "You've given all 5 of today's kudos" in r]
    assert len(refused) == attempts - ctx.settings.kudos_daily_limit


def dm_footer(dm) -> str:
    return dm["blocks"][-1]["elements"][0]["text"]


def test_the_recipients_dm_says_who_else_got_it_and_what_it_recognised(slack, fake_slack, settings):
    slack.command("/kudos", "<@UANA|ana> <@UBEN|ben> <@UCARL|carl> thanks for the release night #teamwork #learning")
    slack.command("/kudos", "<@UANA|ana> you owned that escalation end to end #ownership")
    slack.command("/kudos", "<@UANA|ana> thanks for the cover")

    to_ana = fake_slack.posts_to("UANA")
    [to_ben] = fake_slack.posts_to("UBEN")
    assert to_ana[0]["text"].startswith(":sparkles: <@UGIVER> gave you kudos, together with <@UBEN> and <@UCARL>:")
    assert to_ben["text"].startswith(":sparkles: <@UGIVER> gave you kudos, together with <@UANA> and <@UCARL>:")
    assert to_ana[1]["text"].startswith(":sparkles: <@UGIVER> gave you kudos:")  # to Ana alone
    assert [dm_footer(dm) for dm in to_ana] == [
        "`#teamwork`  `#learning`  ·  Making the work easier for the people around you makes the whole team better.",
        "`#ownership`  ·  Seeing it through yourself is what lets the rest of the team count on it.",
        "They took a moment to put it in words: your effort and progress were noticed.",
    ]
    print(json.dumps([dm["blocks"] for dm in to_ana], indent=1, ensure_ascii=False))


@pytest.fixture
def own_values(env):
    env["KAIZEN_VALUES"] = "calm-under-pressure,teamwork"


def test_a_value_of_the_teams_own_gets_its_own_line(own_values, slack, fake_slack):
    slack.command("/kudos", "<@UANA|ana> steady voice on that outage call #calm-under-pressure #teamwork")
    [dm] = fake_slack.posts_to("UANA")
    assert dm_footer(dm) == (
        "`#calm-under-pressure`  `#teamwork`  ·  "
        "`#calm-under-pressure` is one of the values this team chose for itself, and you just showed it."
    )
