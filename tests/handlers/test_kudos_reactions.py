import json

import pytest
from sqlalchemy import select

from bot.kudos.rules import kudos_left_today
from storage.kudos import Kudos
from storage.outbox import by_key

TS = "1700000100.000200"
LINK = "https://example.slack.com/archives/CGENERAL/p1700000100000200"


def kudos_rows(ctx):
    with ctx.session_factory() as session:
        return session.scalars(select(Kudos).order_by(Kudos.id)).all()


def reaction(
    kind="reaction_added", *, user="UGIVER", author="UANA", emoji="clap", ts=TS, item_type="message", channel="CGENERAL"
):
    event = {
        "type": kind,
        "user": user,
        "reaction": emoji,
        "item": {"type": item_type, "channel": channel, "ts": ts},
        "event_ts": "1700000200.000100",
    }
    if author:
        event["item_user"] = author
    return event


# --- reactions ------------------------------------------------------------------------------
def test_reaction_gives_the_author_kudos_with_the_message_and_a_link(slack, fake_slack, ctx):
    fake_slack.add_message("CGENERAL", TS, "Rewrote the refund macro <!here> &amp; the FAQ", user="UANA")

    response = slack.event(reaction(), event_id="Ev1")

    assert response.status == 200
    [row] = kudos_rows(ctx)
    assert (row.giver_id, row.recipient_id, row.source) == ("UGIVER", "UANA", "reaction")
    assert (row.reacted_channel, row.reacted_ts, row.batch_key) == ("CGENERAL", TS, "event:Ev1")
    assert row.message == f"Rewrote the refund macro @here &amp; the FAQ\n<{LINK}|See the message>"
    [history] = fake_slack.calls_to("conversations.history")
    assert (history["channel"], history["latest"], history["limit"]) == ("CGENERAL", TS, "1")
    [celebration] = fake_slack.posts_to("CKUDOS")
    assert "<@UANA>" in celebration["text"] and "<@UGIVER>" in celebration["text"]
    assert "<!here>" not in celebration["text"] + str(celebration["blocks"])
    assert len(fake_slack.posts_to("UANA")) == 1


@pytest.mark.parametrize("channel", ["GPRIVATE", "CPRIVATE"])  # private channels: an older ID, and a newer one
def test_a_message_in_a_private_channel_is_linked_in_the_kudos_channel_never_quoted(slack, fake_slack, ctx, channel):
    fake_slack.add_channel("CPRIVATE", private=True)
    fake_slack.add_message(channel, TS, "Shared the escalation numbers with the team", user="UANA")

    slack.event(reaction(channel=channel))

    [row] = kudos_rows(ctx)
    assert row.message.startswith(":clap:\n<https://example.slack.com/archives/") and "escalation" not in row.message
    [celebration] = fake_slack.posts_to("CKUDOS")
    assert "escalation" not in json.dumps(celebration.params) and "See the message" in json.dumps(celebration.params)
    [dm] = fake_slack.posts_to("UANA")
    assert "escalation" not in json.dumps(dm.params)
    assert "private channel, so the kudos channel links to it" in json.dumps(dm["blocks"])
    assert fake_slack.calls_to("conversations.history") == fake_slack.calls_to("conversations.replies") == []


def test_a_channel_slack_cannot_say_is_public_counts_as_private(slack, fake_slack, ctx):
    fake_slack.fail("conversations.info", error="missing_scope")
    fake_slack.add_message("CGENERAL", TS, "Shared the escalation numbers with the team", user="UANA")

    slack.event(reaction())

    assert "escalation" not in json.dumps(fake_slack.posts_to("CKUDOS")[0].params)


def test_reaction_on_a_thread_reply_quotes_the_reply(slack, fake_slack, ctx):
    fake_slack.add_message("CGENERAL", "1700000050.000100", "Who can take the escalation?", user="UBEN")
    fake_slack.add_message("CGENERAL", TS, "I'll take it", user="UANA", thread_ts="1700000050.000100")

    slack.event(reaction())

    [row] = kudos_rows(ctx)
    assert row.message.startswith("I'll take it\n")
    assert len(fake_slack.calls_to("conversations.replies")) == 1


def test_a_long_message_is_cut_and_a_message_without_text_still_counts(slack, fake_slack, ctx):
    fake_slack.add_message("CGENERAL", TS, "word " * 300 + "<@UBEN>", user="UANA")
    slack.event(reaction())
    slack.event(reaction(ts="1700000300.000100"))  # not in the history: a file, say

    long, empty = kudos_rows(ctx)
    text, _, link = long.message.partition("\n")
    assert len(text) <= 1000 and text.endswith("word…")
    assert link.startswith("<https://")
    assert empty.message.startswith(":clap:\n<https://")


def test_slack_retries_and_repeated_reactions_count_once(slack, fake_slack, ctx):
    fake_slack.add_message("CGENERAL", TS, "Cleared the backlog", user="UANA")
    slack.event(reaction(), event_id="EvSame")
    slack.event(reaction(), event_id="EvSame", headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "timeout"})
    response = slack.event(reaction(emoji="clap::skin-tone-3"), event_id="EvSkinTone")  # a second clap
    assert response.status == 200

    assert len(kudos_rows(ctx)) == 1
    assert len(fake_slack.posts_to("CKUDOS")) == 1

    slack.event(reaction(user="UCARL", emoji="clap::skin-tone-2"), event_id="EvCarl")  # another reactor
    assert [k.giver_id for k in kudos_rows(ctx)] == ["UGIVER", "UCARL"]


def test_own_message_bots_other_emoji_and_other_items_are_ignored(slack, fake_slack, ctx):
    fake_slack.add_user("UBOT", is_bot=True)
    slack.event(reaction(author="UGIVER"))  # your own message
    slack.event(reaction(author="UBOT"))  # a bot's message
    slack.event(reaction(author=None))  # an app's message has no item_user
    slack.event(reaction(emoji="tada"))
    slack.event(reaction(item_type="file"))

    assert kudos_rows(ctx) == []
    assert fake_slack.calls_to("conversations.history") == []
    assert fake_slack.calls_to("chat.postMessage") == [] and fake_slack.calls_to("chat.postEphemeral") == []


def test_over_the_daily_limit_the_reactor_is_told_once_in_the_channel(slack, fake_slack, ctx):
    for n in range(5):
        slack.command("/kudos", f"<@UBEN|ben> thanks {n}")
    fake_slack.clear()

    slack.event(reaction(), event_id="EvLimit")
    retry = slack.event(reaction(), event_id="EvLimit", headers={"x-slack-retry-num": "1"})

    assert retry.status == 200

    assert len(kudos_rows(ctx)) == 5
    [note] = fake_slack.calls_to("chat.postEphemeral")
    assert (note["channel"], note["user"]) == ("CGENERAL", "UGIVER")
    assert "didn't give a kudos" in note["text"] and "all 5 of today's kudos" in note["text"]
    assert fake_slack.posts_to("CKUDOS") == []


def all_kudos(ctx):
    """Withdrawn (and hidden) ones too."""
    with ctx.session_factory() as session:
        return session.scalars(select(Kudos).order_by(Kudos.id).execution_options(include_hidden=True)).all()


def test_removing_the_reaction_the_same_day_withdraws_the_kudos(slack, fake_slack, ctx, clock):
    slack.event(reaction(), event_id="EvAdd")
    with ctx.session_factory() as session:
        posted = by_key(session, "kudos:event:EvAdd:celebration").result

    clock.advance(minutes=5)
    slack.event(reaction("reaction_removed"), event_id="EvRemove")
    slack.event(reaction("reaction_removed"), event_id="EvRemove", headers={"x-slack-retry-num": "1"})

    assert kudos_rows(ctx) == []  # shown nowhere, counted nowhere but in the giver's day
    [withdrawn] = all_kudos(ctx)
    assert withdrawn.withdrawn_at == withdrawn.hidden_at == clock()
    [update] = fake_slack.calls_to("chat.update")
    assert (update["channel"], update["ts"]) == ("CKUDOS", posted["ts"])
    assert "withdrawn" in update["text"] and "withdrawn" in str(update["blocks"])


def test_adding_the_reaction_back_restores_the_kudos_with_its_post_edited_back(slack, fake_slack, ctx):
    fake_slack.add_message("CGENERAL", TS, "Cleared the backlog", user="UANA")
    slack.event(reaction(), event_id="EvAdd")
    [celebration] = fake_slack.posts_to("CKUDOS")
    slack.event(reaction("reaction_removed"), event_id="EvRemove")

    slack.event(reaction(), event_id="EvAddAgain")
    slack.event(reaction(), event_id="EvAddAgain", headers={"x-slack-retry-num": "1"})

    [kudos] = kudos_rows(ctx)
    assert kudos.withdrawn_at is None and kudos.batch_key == "event:EvAdd"  # the same kudos, back
    withdrawn, restored = fake_slack.calls_to("chat.update")
    assert "withdrawn" in withdrawn["text"]
    assert (restored["text"], restored["blocks"]) == (celebration["text"], celebration["blocks"])
    assert len(fake_slack.posts_to("CKUDOS")) == 1 and len(fake_slack.posts_to("UANA")) == 1


def test_twelve_cycles_of_the_reaction_make_one_kudos_one_post_and_one_dm(slack, fake_slack, ctx):
    fake_slack.add_message("CGENERAL", TS, "Cleared the backlog", user="UANA")
    for cycle in range(12):
        slack.event(reaction(), event_id=f"EvAdd{cycle}")
        slack.event(reaction("reaction_removed"), event_id=f"EvRemove{cycle}")
    slack.event(reaction(), event_id="EvAddLast")

    assert len(kudos_rows(ctx)) == len(all_kudos(ctx)) == 1
    [celebration] = fake_slack.posts_to("CKUDOS")
    assert len(fake_slack.posts_to("UANA")) == 1
    assert fake_slack.calls_to("chat.update")[-1]["text"] == celebration["text"]
    with ctx.session_factory() as session:
        assert kudos_left_today(session, ctx.settings, "UGIVER", ctx.now()) == 4  # the limit is 5: one used


def test_a_withdrawn_reaction_kudos_still_counts_in_the_days_limit(slack, fake_slack, ctx):
    for n in range(5):
        slack.event(reaction(ts=f"170000010{n}.000200"), event_id=f"EvAdd{n}")
        slack.event(reaction("reaction_removed", ts=f"170000010{n}.000200"), event_id=f"EvRemove{n}")
    assert kudos_rows(ctx) == [] and len(all_kudos(ctx)) == 5
    fake_slack.clear()

    slack.command("/kudos", "<@UBEN|ben> thanks for the cover")
    assert "all 5 of today's kudos" in fake_slack.calls_to("response_url")[-1]["text"]

    slack.event(reaction(ts="1700000100.000200"), event_id="EvBack")  # yet one withdrawn comes back
    assert [k.reacted_ts for k in kudos_rows(ctx)] == ["1700000100.000200"]
    assert fake_slack.calls_to("chat.postEphemeral") == []


def test_adding_the_reaction_back_on_a_later_day_restores_it_on_its_own_day(slack, fake_slack, ctx, clock):
    slack.event(reaction(), event_id="EvAdd")
    given_at = clock()
    slack.event(reaction("reaction_removed"), event_id="EvRemove")
    clock.advance(days=1)

    slack.event(reaction(), event_id="EvAddTomorrow")

    [kudos] = kudos_rows(ctx)
    assert kudos.created_at == given_at  # yesterday's kudos, within yesterday's limit
    assert len(fake_slack.posts_to("CKUDOS")) == len(fake_slack.posts_to("UANA")) == 1
    slack.event(reaction("reaction_removed"), event_id="EvRemoveTomorrow")  # a day later, it stands
    assert len(kudos_rows(ctx)) == 1


# --- the "Give kudos" message shortcut ------------------------------------------------------
def shortcut(slack, message, *, user="UGIVER", trigger_id="trigger-shortcut"):
    return slack.interaction(
        {
            "type": "message_action",
            "callback_id": "give_kudos",
            "trigger_id": trigger_id,
            "user": {"id": user},
            "channel": {"id": "CGENERAL"},
            "message_ts": message["ts"],
            "message": {"type": "message", **message},
            "response_url": slack.response_url,
        }
    )


def test_shortcut_opens_the_modal_for_the_author_and_records_a_shortcut_kudos(slack, fake_slack, ctx):
    response = shortcut(slack, {"user": "UANA", "ts": TS, "text": "Fixed it"})

    assert response.status == 200
    [opened] = fake_slack.calls_to("views.open")
    assert opened["trigger_id"] == "trigger-shortcut"
    view = fake_slack.modal()
    assert view["callback_id"] == "kudos_modal"
    recipients = next(b for b in view["blocks"] if b.get("block_id") == "recipients")
    assert recipients["element"]["initial_users"] == ["UANA"]
    assert LINK in json.dumps(view["blocks"])

    slack.view_submission(
        "kudos_modal",
        {
            "recipients": {"recipients": {"selected_users": ["UANA"]}},
            "message": {"message": {"value": "Patient and precise with a tough customer"}},
            "values": {"values": {"selected_options": [{"value": "customer-first"}]}},
        },
        private_metadata=view["private_metadata"],
    )
    [row] = kudos_rows(ctx)
    assert (row.recipient_id, row.source, row.values) == ("UANA", "shortcut", "customer-first")
    assert row.message == f"Patient and precise with a tough customer\n<{LINK}|See the message>"
    assert row.reacted_ts is None


def test_shortcut_on_an_app_a_bot_or_your_own_message_is_refused_kindly(slack, fake_slack, ctx):
    fake_slack.add_user("UBOT", is_bot=True)
    cases = [
        ({"bot_id": "B1", "ts": TS, "text": "Ticket #42 closed"}, "posted by an app"),
        ({"user": "UBOT", "ts": TS, "text": "beep"}, "is a bot"),
        ({"user": "UGIVER", "ts": TS, "text": "I did great"}, "someone else"),
    ]
    for message, expected in cases:
        fake_slack.clear()
        shortcut(slack, message)
        view = fake_slack.modal()  # the modal opened at once says why, instead of the form
        assert view.get("callback_id") != "kudos_modal" and expected in json.dumps(view["blocks"])
    assert kudos_rows(ctx) == []


def test_the_shortcut_opens_its_modal_before_asking_slack_anything(slack, fake_slack, ctx):
    """A shortcut's trigger_id expires 3 seconds after the click: the modal opens first, then
    users.info and chat.getPermalink fill it."""
    shortcut(slack, {"user": "UANA", "ts": TS, "text": "Fixed it"})
    calls = [c.method for c in fake_slack.calls if c.method != "auth.test"]
    assert calls == ["views.open", "users.info", "chat.getPermalink", "views.update"]
    [filled] = fake_slack.calls_to("views.update")
    assert filled["view_id"] == "Vtrigger-shortcut" and filled["view"]["callback_id"] == "kudos_modal"


def test_a_reaction_kudos_dm_says_it_came_from_a_reaction(slack, fake_slack):
    fake_slack.add_message("CGENERAL", TS, "Rewrote the refund macro", user="UANA")
    slack.event(reaction())
    [dm] = fake_slack.posts_to("UANA")
    footer = dm["blocks"][-1]["elements"][0]["text"]
    assert footer == "A :clap: on your message counts as kudos: it made a difference to someone."


def test_an_admin_is_told_a_withdrawn_kudos_is_shown_nowhere(slack, fake_slack, ctx):
    slack.event(reaction(), event_id="EvAdd")
    slack.event(reaction("reaction_removed"), event_id="EvRemove")

    slack.command("/kaizen", "hide kudos 1", user="UADMIN")

    [reply] = fake_slack.calls_to("response_url")
    assert reply["text"] == "Kudos #1 was withdrawn by its giver: it is shown nowhere."
