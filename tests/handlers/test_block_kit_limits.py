"""The longest input each form and command allows, full of `&`, `<` and `>` (each becomes an entity
up to 5 characters long), goes into every message and view within Block Kit's limits, and nothing
of it is cut off."""

import json
import re

from bot.core.jobs import run_job
from bot.feedback.blocks import ANSWER_BUTTON, FEEDBACK_MODAL
from bot.ideas.blocks import DECLINE_MODAL, IDEA_MODAL, LEAD_ACTIONS, VOTE_ACTION
from bot.kudos.blocks import GIVE_KUDOS_SHORTCUT, KUDOS_MODAL
from tests.block_kit import problems


def specials(length: int, *, every: int = 0) -> str:
    """`length` characters of &, < and > (a line break every `every` characters, if given)."""
    return "".join("&<>"[n % 3] if not every or n % every else "\n" for n in range(1, length + 1))


def typed_specials(text: str) -> int:
    return len(text) - text.count("\n")


def slack_escaped(typed: str) -> str:
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section_texts(call) -> str:
    return "".join(b["text"]["text"] for b in call["blocks"] if b["type"] == "section")


def entities(text: str) -> int:
    return len(re.findall(r"&(amp|lt|gt);", text))


def send_everything(ctx, clock):
    """Past the outbox's one-message-a-second pace per channel, and updates waiting for their post."""
    for _ in range(3):
        clock.advance(minutes=1)
        ctx.outbox.sweep()


def assert_within_limits(fake_slack):
    found = [problem for call in fake_slack.calls for problem in problems(call)]
    assert found == []


def test_longest_kudos_fit_and_are_whole(slack, fake_slack, ctx, clock):
    one_line, many_lines = specials(1000), specials(1000, every=7)
    slack.command("/kudos", f"<@UANA|ana> {slack_escaped(one_line)} #teamwork")
    slack.view_submission(
        KUDOS_MODAL,
        {
            "recipients": {"recipients": {"selected_users": ["UBEN"]}},
            "message": {"message": {"value": many_lines}},
            "values": {"values": {"selected_options": [{"value": "learning"}]}},
        },
    )
    fake_slack.add_message("CGENERAL", "1700000000.000200", slack_escaped(specials(4000)), user="UCARL")
    slack.event(
        {
            "type": "reaction_added",
            "user": "UGIVER",
            "reaction": "clap",
            "item_user": "UCARL",
            "item": {"type": "message", "channel": "CGENERAL", "ts": "1700000000.000200"},
        }
    )
    slack.interaction(
        {
            "type": "message_action",
            "callback_id": GIVE_KUDOS_SHORTCUT,
            "trigger_id": "trigger-shortcut",
            "user": {"id": "UGIVER"},
            "channel": {"id": "CGENERAL"},
            "message": {"ts": "1700000000.000200", "user": "UCARL", "text": "hello"},
            "response_url": fake_slack.response_url(),
        }
    )

    send_everything(ctx, clock)
    celebrations = {post["text"].split()[1]: post for post in fake_slack.posts_to("CKUDOS")}
    assert set(celebrations) == {"<@UANA>", "<@UBEN>", "<@UCARL>"}
    assert entities(section_texts(celebrations["<@UANA>"])) == 1000
    assert entities(section_texts(celebrations["<@UBEN>"])) == typed_specials(many_lines)
    assert entities(section_texts(fake_slack.posts_to("UANA")[0])) == 1000
    assert_within_limits(fake_slack)


def test_longest_ideas_fit_and_are_whole(slack, fake_slack, ctx, clock):
    title, description = specials(150), specials(2000)
    slack.command("/idea", f"{slack_escaped(title)}\n{slack_escaped(description)}", user="UANA")
    slack.view_submission(
        IDEA_MODAL,
        {
            "title": {"title": {"value": title}},
            "description": {"description": {"value": specials(2000, every=9)}},
            "category": {"category": {"selected_option": None}},
            "anonymous": {"anonymous": {"selected_options": []}},
        },
        user="UBEN",
    )
    slack.block_action(VOTE_ACTION, "1", user="UCARL")
    slack.command("/idea", f"status 1 planned {slack_escaped(specials(1000))}", user="ULEAD")
    slack.block_action(LEAD_ACTIONS, "2", user="ULEAD")  # the lead's panel, with the longest title
    slack.view_submission(
        DECLINE_MODAL,
        {"reason": {"reason": {"value": specials(1000)}}},
        user="ULEAD",
        private_metadata=json.dumps({"idea": 2}),
    )
    for text in ("list", "top", "help"):
        slack.command("/idea", text)

    send_everything(ctx, clock)
    [post, _] = fake_slack.posts_to("CIDEAS")
    assert entities(section_texts(post)) == 2150
    assert len({update["ts"] for update in fake_slack.calls_to("chat.update")}) == 2
    assert len(fake_slack.posts_to("UANA")) == 1 and len(fake_slack.posts_to("UBEN")) == 1
    assert_within_limits(fake_slack)


def test_longest_feedback_fits_and_is_whole(slack, fake_slack, ctx, clock):
    answers = {
        "went_well": {"went_well": {"value": specials(1500)}},
        "try_next": {"try_next": {"value": specials(1500, every=11)}},
        "anything_else": {"anything_else": {"value": specials(1500)}},
    }
    slack.command("/feedback", f"request <@UANA|ana> about {slack_escaped(specials(60))}", user="UREQ")
    fake_slack.clear()
    slack.block_action(ANSWER_BUTTON, "1", user="UANA", channel="DUANA")
    modal = (fake_slack.calls_to("views.update") or fake_slack.calls_to("views.open"))[-1]
    for anonymous, user, metadata in ((False, "UANA", modal["view"]["private_metadata"]), (True, "UBEN", None)):
        chosen = [{"value": "anonymous"}] if anonymous else []
        slack.view_submission(
            FEEDBACK_MODAL,
            {**answers, "anonymous": {"anonymous": {"selected_options": chosen}}},
            user=user,
            private_metadata=metadata or json.dumps({"about": "UREQ"}),
        )

    send_everything(ctx, clock)
    written = sum(typed_specials(answer[name]["value"]) for name, answer in answers.items())
    assert [entities(section_texts(dm)) for dm in fake_slack.posts_to("UREQ")] == [written + 60, written]
    assert_within_limits(fake_slack)


def test_longest_tips_and_the_jobs_after_it_all_fit(slack, fake_slack, ctx, clock):
    slack.command("/tip", f"add {slack_escaped(specials(100))}", user="UADMIN")
    slack.command("/kudos", f"<@UANA|ana> {slack_escaped(specials(1000))}")
    slack.command("/idea", slack_escaped(specials(150)))
    for job in ("daily-tip", "weekly-celebration", "lead-digest"):
        run_job(ctx, job)
    send_everything(ctx, clock)
    assert fake_slack.posts_to("CTIPS") and fake_slack.posts_to("ULEAD")
    assert_within_limits(fake_slack)
