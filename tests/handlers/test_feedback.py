import json
import logging
import time

from sqlalchemy import event, select

from bot.core.jobs import run_job
from bot.features import tables
from bot.feedback.blocks import ANSWER_BUTTON, FEEDBACK_MODAL
from storage.feedback import Feedback
from storage.outbox import by_key


def feedback_rows(ctx):
    with ctx.session_factory() as session:
        return session.scalars(select(Feedback).order_by(Feedback.id)).all()


def ephemeral_replies(fake_slack):
    return [c["text"] for c in fake_slack.calls_to("response_url")]


def answer_values(went_well="", try_next="", anything_else="", *, anonymous=False):
    texts = {"went_well": went_well, "try_next": try_next, "anything_else": anything_else}
    values = {p: {p: {"type": "plain_text_input", "value": text or None}} for p, text in texts.items()}
    chosen = [{"value": "anonymous"}] if anonymous else []
    values["anonymous"] = {"anonymous": {"type": "checkboxes", "selected_options": chosen}}
    return values


def click_answer(slack, fake_slack, request_id, user):
    """Press the button in the request DM; the feedback modal it shows, or None (then a refusal shows)."""
    fake_slack.clear()
    slack.block_action(ANSWER_BUTTON, str(request_id), user=user, channel=f"D{user}")
    view = fake_slack.modal()
    return view if view.get("callback_id") == FEEDBACK_MODAL else None


def modal_text(fake_slack) -> str:
    return json.dumps(fake_slack.modal()["blocks"])


def ask_ana_and_ben(slack):
    slack.command("/feedback", "request <@UANA|ana> <@UBEN|ben> about the refund escalation", user="UREQ")


def test_request_asks_each_reviewer_by_dm_and_tells_the_requester(slack, fake_slack, ctx):
    ask_ana_and_ben(slack)

    rows = feedback_rows(ctx)
    assert [(r.about_id, r.giver_id, r.topic, r.status, r.requested) for r in rows] == [
        ("UREQ", "UANA", "the refund escalation", "open", True),
        ("UREQ", "UBEN", "the refund escalation", "open", True),
    ]
    for row, reviewer in zip(rows, ["UANA", "UBEN"], strict=True):
        [dm] = fake_slack.posts_to(reviewer)
        assert "<@UREQ> asked for your feedback about the refund escalation" in dm["text"]
        [button] = dm["blocks"][-1]["elements"]
        assert (button["action_id"], button["value"]) == (ANSWER_BUTTON, str(row.id))
    [reply] = ephemeral_replies(fake_slack)
    assert "I asked <@UANA> and <@UBEN> for feedback about the refund escalation" in reply
    assert fake_slack.posts_to("UREQ") == []


def test_modal_round_trip_delivers_the_answer_to_the_requester_only(slack, fake_slack, ctx):
    slack.command("/feedback", "request <@UANA|ana> about my first escalation call", user="UREQ")
    [request] = feedback_rows(ctx)

    view = click_answer(slack, fake_slack, request.id, "UANA")
    assert view["callback_id"] == FEEDBACK_MODAL
    assert [b.get("block_id") for b in view["blocks"][1:]] == ["went_well", "try_next", "anything_else", "anonymous"]
    assert "<@UREQ>" in view["blocks"][0]["text"]["text"]

    fake_slack.clear()
    response = slack.view_submission(
        FEEDBACK_MODAL,
        answer_values("Calm tone <!channel>", "Summarise the next steps at the end"),
        user="UANA",
        private_metadata=view["private_metadata"],
    )

    assert '"response_action": "update"' in response.body
    [row] = feedback_rows(ctx)
    assert (row.status, row.giver_id, row.anonymous) == ("answered", "UANA", False)
    assert row.answered_at is not None
    posts = fake_slack.calls_to("chat.postMessage")
    assert [p["channel"] for p in posts] == ["UREQ"]
    dm = posts[0]
    assert "<@UANA> answered your feedback request about my first escalation call" in dm["text"]
    shown = json.dumps(dm["blocks"])
    assert "Calm tone &lt;!channel&gt;" in shown and "Summarise the next steps" in shown
    assert "Anything else" not in shown  # blank prompts are left out
    assert "Calm tone" not in dm["text"]  # the notification preview carries no feedback text


def test_request_refusals_store_and_send_nothing(slack, fake_slack, ctx):
    fake_slack.add_user("UBOT", is_bot=True)
    fake_slack.add_user("UGONE", deleted=True)
    cases = {
        "request about my calls": "Who should I ask?",
        "request": "Who should I ask?",
        "request <@UREQ|me> about me": "Asking yourself",
        "request <@UANA|ana> <@UBOT|bot> about calls": "is a bot",
        "request <@UGONE|gone> about calls": "can't find an active member",
        "request <@UANA|ana> about " + "x" * 301: "under 300 characters",
    }
    for text, expected in cases.items():
        fake_slack.clear()
        slack.command("/feedback", text, user="UREQ")
        [reply] = ephemeral_replies(fake_slack)
        assert expected in reply, (text, reply)
        assert fake_slack.calls_to("chat.postMessage") == []
    assert feedback_rows(ctx) == []


def test_one_request_asks_at_most_ten_people_but_an_admins_asks_any_number(slack, fake_slack, ctx):
    eleven = " ".join(f"<@U{n:02d}|u{n:02d}>" for n in range(11))

    slack.command("/feedback", f"request {eleven} about the launch", user="UREQ")

    [reply] = ephemeral_replies(fake_slack)
    assert reply == (
        "One request can ask up to 10 people, and this names 11: ask the ones who saw the work most closely."
    )
    assert feedback_rows(ctx) == [] and fake_slack.calls_to("chat.postMessage") == []

    ten = " ".join(f"<@U{n:02d}|u{n:02d}>" for n in range(10))
    slack.command("/feedback", f"request {ten} about the launch", user="UREQ")
    slack.command("/feedback", f"request {eleven} about the rota", user="UADMIN")
    assert len(feedback_rows(ctx)) == 10 + 11


def test_empty_answer_is_an_error_on_the_field_and_keeps_the_request_open(slack, fake_slack, ctx):
    slack.command("/feedback", "request <@UANA|ana>", user="UREQ")
    [request] = feedback_rows(ctx)
    view = click_answer(slack, fake_slack, request.id, "UANA")
    fake_slack.clear()

    response = slack.view_submission(
        FEEDBACK_MODAL, answer_values("  ", "", ""), user="UANA", private_metadata=view["private_metadata"]
    )

    body = json.loads(response.body)
    assert body["response_action"] == "errors" and "at least one" in body["errors"]["went_well"]
    assert feedback_rows(ctx)[0].status == "open"
    assert fake_slack.calls_to("chat.postMessage") == []


def test_answered_or_expired_requests_say_so_in_the_modal_instead_of_the_form(slack, fake_slack, ctx, clock):
    ask_ana_and_ben(slack)
    answered, left = feedback_rows(ctx)
    view = click_answer(slack, fake_slack, answered.id, "UANA")
    slack.view_submission(
        FEEDBACK_MODAL, answer_values("Clear"), user="UANA", private_metadata=view["private_metadata"]
    )

    assert click_answer(slack, fake_slack, answered.id, "UANA") is None
    assert "already been answered" in modal_text(fake_slack)

    clock.advance(days=14)  # expired even before the reminders job has marked it
    assert click_answer(slack, fake_slack, left.id, "UBEN") is None
    assert "expired after 14 days" in modal_text(fake_slack)


def test_a_modal_submitted_after_the_request_expired_is_refused_on_the_field(slack, fake_slack, ctx, clock):
    slack.command("/feedback", "request <@UANA|ana>", user="UREQ")
    [request] = feedback_rows(ctx)
    view = click_answer(slack, fake_slack, request.id, "UANA")
    clock.advance(days=14, minutes=1)
    fake_slack.clear()

    response = slack.view_submission(
        FEEDBACK_MODAL, answer_values("Late but true"), user="UANA", private_metadata=view["private_metadata"]
    )

    assert "expired" in json.loads(response.body)["errors"]["went_well"]
    assert fake_slack.calls_to("chat.postMessage") == []


def test_double_submit_and_a_second_modal_store_one_answer(slack, fake_slack, ctx):
    slack.command("/feedback", "request <@UANA|ana>", user="UREQ")
    [request] = feedback_rows(ctx)
    first = click_answer(slack, fake_slack, request.id, "UANA")
    second = click_answer(slack, fake_slack, request.id, "UANA")  # pressed twice: two modals
    fake_slack.clear()

    values = answer_values("Good pace")
    slack.view_submission(FEEDBACK_MODAL, values, user="UANA", private_metadata=first["private_metadata"], view_id="V1")
    retry = slack.view_submission(
        FEEDBACK_MODAL, values, user="UANA", private_metadata=first["private_metadata"], view_id="V1"
    )
    other = slack.view_submission(
        FEEDBACK_MODAL, values, user="UANA", private_metadata=second["private_metadata"], view_id="V2"
    )

    assert retry.body == ""
    assert "already been answered" in json.loads(other.body)["errors"]["went_well"]
    assert len(fake_slack.posts_to("UREQ")) == 1


def test_slack_retry_of_a_request_asks_once(slack, fake_slack, ctx):
    text = "request <@UANA|ana> about onboarding"
    slack.command("/feedback", text, user="UREQ", trigger_id="trigger-retried")
    slack.command("/feedback", text, user="UREQ", trigger_id="trigger-retried", headers={"x-slack-retry-num": "1"})
    assert len(feedback_rows(ctx)) == 1
    assert len(fake_slack.posts_to("UANA")) == 1


def test_only_the_person_asked_can_answer(slack, fake_slack, ctx):
    slack.command("/feedback", "request <@UANA|ana>", user="UREQ")
    [request] = feedback_rows(ctx)
    assert click_answer(slack, fake_slack, request.id, "UMALLORY") is None
    assert "sent to someone else" in modal_text(fake_slack)


def test_give_opens_the_same_modal_and_delivers_unrequested_feedback(slack, fake_slack, ctx):
    slack.command("/feedback", "give <@UANA|ana>", user="UGIVER", trigger_id="trigger-give")
    [opened] = fake_slack.calls_to("views.open")
    assert opened["trigger_id"] == "trigger-give"
    view = fake_slack.modal()
    assert view["callback_id"] == FEEDBACK_MODAL
    fake_slack.clear()

    slack.view_submission(
        FEEDBACK_MODAL,
        answer_values(anything_else="Thanks for covering my shift"),
        user="UGIVER",
        private_metadata=view["private_metadata"],
    )

    [row] = feedback_rows(ctx)
    assert (row.about_id, row.giver_id, row.requested, row.status) == ("UANA", "UGIVER", False, "answered")
    [dm] = fake_slack.posts_to("UANA")
    assert "<@UGIVER> sent you feedback" in dm["text"] and "covering my shift" in json.dumps(dm["blocks"])


def test_anonymous_unrequested_feedback_keeps_no_giver(slack, fake_slack, ctx):
    slack.command("/feedback", "give <@UANA|ana>", user="UGIVER")
    slack.view_submission(
        FEEDBACK_MODAL,
        answer_values("Patient with a hard caller", anonymous=True),
        user="UGIVER",
        private_metadata=fake_slack.modal()["private_metadata"],
    )
    [row] = feedback_rows(ctx)
    assert (row.giver_id, row.anonymous) == (None, True)
    [dm] = fake_slack.posts_to("UANA")
    assert "An anonymous teammate sent you feedback" in dm["text"] and "UGIVER" not in json.dumps(dm.params)


def test_give_refusals(slack, fake_slack, ctx):
    fake_slack.add_user("UBOT", is_bot=True)
    cases = {
        "give": "Name one teammate",
        "give <@UANA|ana> <@UBEN|ben>": "Name one teammate",
        "give <@UGIVER|me>": "someone else",
        "give <@UBOT|bot>": "is a bot",
    }
    for text, expected in cases.items():
        fake_slack.clear()
        slack.command("/feedback", text, user="UGIVER")
        assert fake_slack.modal().get("callback_id") != FEEDBACK_MODAL
        assert expected in modal_text(fake_slack), text


def test_help_alone_and_unknown_words_explain_the_command(slack):
    for text in ("", "help", "please"):
        response = slack.command("/feedback", text)
        assert "/feedback request @ana @ben about" in response.body and "/feedback list" in response.body
        assert ("I don't know `please`" in response.body) == (text == "please")


def test_list_shows_what_waits_on_you_and_your_open_requests_with_their_age(slack, fake_slack, ctx, clock):
    slack.command("/feedback", "request <@UANA|ana> about refunds", user="UREQ")
    clock.advance(days=3)
    slack.command("/feedback", "request <@UREQ|req> about chats", user="UBEN")
    fake_slack.clear()

    slack.command("/feedback", "list", user="UREQ")

    [reply] = ephemeral_replies(fake_slack)
    waiting, mine = reply.split("*Your open requests*")
    assert "<@UBEN> asked today about chats" in waiting
    assert "<@UANA>, asked 3 days ago about refunds" in mine

    fake_slack.clear()
    slack.command("/feedback", "list", user="UCARL")
    assert "all caught up" in ephemeral_replies(fake_slack)[0] and "None." in ephemeral_replies(fake_slack)[0]


def test_anonymous_answer_leaves_no_trace_of_the_giver(slack, fake_slack, ctx, clock, caplog):
    ask_ana_and_ben(slack)
    clock.advance(days=2)
    run_job(ctx, "feedback-reminders")  # so the giver also has a reminder DM in the outbox
    ben_request = feedback_rows(ctx)[1]
    view = click_answer(slack, fake_slack, ben_request.id, "UBEN")
    caplog.set_level(logging.DEBUG)
    calls_before = len(fake_slack.calls)

    response = slack.view_submission(
        FEEDBACK_MODAL,
        answer_values("You listened well", "Pause before promising a refund", anonymous=True),
        user="UBEN",
        private_metadata=view["private_metadata"],
    )

    assert '"response_action": "update"' in response.body and "UBEN" not in response.body
    calls_after = fake_slack.calls[calls_before:]
    [dm] = [c for c in calls_after if c.method == "chat.postMessage"]
    assert dm["channel"] == "UREQ" and "An anonymous teammate answered" in dm["text"]
    assert "You listened well" in json.dumps(dm["blocks"])
    assert "UBEN" not in repr([c.params for c in calls_after])
    with ctx.engine.connect() as connection:
        for table in tables().sorted_tables:
            for row in connection.execute(table.select()):
                assert "UBEN" not in repr(tuple(row)), (table.name, row)
    assert "UBEN" not in caplog.text
    assert feedback_rows(ctx)[1].status == "answered" and feedback_rows(ctx)[1].anonymous


def every_stored_row(ctx) -> str:
    with ctx.engine.connect() as connection:
        return repr([tuple(row) for table in tables().sorted_tables for row in connection.execute(table.select())])


def test_the_answer_text_is_kept_only_until_its_dm_is_delivered(slack, fake_slack, ctx, clock):
    slack.command("/feedback", "request <@UANA|ana> about refunds", user="UREQ")
    view = click_answer(slack, fake_slack, feedback_rows(ctx)[0].id, "UANA")
    fake_slack.fail("chat.postMessage", status=500)  # Slack is down when the answer is sent

    slack.view_submission(
        FEEDBACK_MODAL,
        answer_values("Kept your calm", "Offer the callback"),
        user="UANA",
        private_metadata=view["private_metadata"],
    )
    assert "Kept your calm" in every_stored_row(ctx)  # still owed to the requester

    clock.advance(minutes=1)
    ctx.outbox.sweep()

    [dm] = fake_slack.posts_to("UREQ")
    assert "Kept your calm" in json.dumps(dm["blocks"])
    stored = every_stored_row(ctx)
    assert "Kept your calm" not in stored and "Offer the callback" not in stored
    with ctx.session_factory() as session:
        delivered = by_key(session, f"feedback:{feedback_rows(ctx)[0].id}:answer")
    assert delivered.status == "sent" and delivered.payload == delivered.result
    assert delivered.payload["channel"] == "UREQ" and set(delivered.payload) == {"channel", "ts"}


def answer(slack, fake_slack, ctx, reviewer, *, anonymous):
    [request] = [r for r in feedback_rows(ctx) if r.giver_id == reviewer and r.status == "open"]
    view = click_answer(slack, fake_slack, request.id, reviewer)
    slack.view_submission(
        FEEDBACK_MODAL,
        answer_values("Good call", anonymous=anonymous),
        user=reviewer,
        private_metadata=view["private_metadata"],
    )


def test_once_an_answer_is_anonymous_the_list_counts_who_is_left_instead_of_naming_them(slack, fake_slack, ctx, clock):
    slack.command("/feedback", "request <@UANA|ana> <@UBEN|ben> <@UCARL|carl> about refunds", user="UREQ")
    slack.command("/feedback", "request <@UDAN|dan> <@UEVE|eve> about chats", user="UREQ")
    clock.advance(days=1)
    answer(slack, fake_slack, ctx, "UBEN", anonymous=True)
    answer(slack, fake_slack, ctx, "UEVE", anonymous=False)
    fake_slack.clear()

    slack.command("/feedback", "list", user="UREQ")

    [reply] = ephemeral_replies(fake_slack)
    mine = reply.split("*Your open requests*")[1]
    assert "2 of the 3 people you asked, asked yesterday about refunds" in mine
    assert "UANA" not in mine and "UCARL" not in mine and "UBEN" not in mine
    assert "<@UDAN>, asked yesterday about chats" in mine  # no anonymous answer there: names stay


def test_the_expiry_note_counts_who_did_not_answer_once_an_answer_is_anonymous(slack, fake_slack, ctx, clock):
    slack.command("/feedback", "request <@UANA|ana> <@UBEN|ben> about refunds", user="UREQ")
    slack.command("/feedback", "request <@UCARL|carl> <@UDAN|dan> about chats", user="UREQ")
    answer(slack, fake_slack, ctx, "UBEN", anonymous=True)
    fake_slack.clear()
    clock.advance(days=14)

    report = run_job(ctx, "feedback-reminders")

    anonymous_batch, named_batch = (post["text"] for post in fake_slack.posts_to("UREQ"))
    assert "1 of the 2 people you asked for feedback about refunds didn't answer within 14 days" in anonymous_batch
    assert "UANA" not in anonymous_batch and "UBEN" not in anonymous_batch
    assert "request to <@UCARL> and <@UDAN> about chats expired after 14 days" in named_batch
    assert report.lines == ["3 requests expired; their requesters were told (2 messages)"]
    assert not any(user in repr(report.lines) for user in ("UANA", "UCARL", "UDAN"))


def test_the_answer_button_opens_its_modal_before_the_database_work(slack, fake_slack, ctx):
    """A click's trigger_id expires 3 seconds after it: the modal opens first, the request is read after."""
    slack.command("/feedback", "request <@UANA|ana>", user="UREQ")
    began: list[float] = []
    event.listen(ctx.session_factory, "after_begin", lambda *_: began.append(time.monotonic()))

    view = click_answer(slack, fake_slack, 1, "UANA")

    [opened] = fake_slack.calls_to("views.open")
    assert began and opened.at < min(began)
    assert view["callback_id"] == FEEDBACK_MODAL
