"""Block Kit for feedback: one small pure function per message kind, and feedback's parts of the
Home tab and the lead digest (counts, never text)."""

from __future__ import annotations

import json
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.clock import ago, days_between
from bot.core.text import mention, names, plural, quote, truncate
from storage.feedback import AskedTogether, Feedback, FeedbackCounts

FEEDBACK_MODAL = "feedback_modal"
REPORT_BUTTON = "feedback_report"  # on feedback nobody asked for
MODAL_TITLE = "Give feedback"
ANSWER_BUTTON = "feedback_answer"
ANONYMOUS = "anonymous"  # block, action and option value of the modal's anonymous checkbox
# The modal's prompts, by block/action id: (label, hint).
PROMPTS = {
    "went_well": ("What went well", "Name something specific they can keep doing."),
    "try_next": ("One thing to try next time", "One concrete step, not a verdict."),
    "anything_else": ("Anything else", "Optional."),
}
MAX_ANSWER_LENGTH = 1500
SHOWN_REQUESTS = 5  # on the Home tab


def _about(topic: str) -> str:
    return f" about {topic}" if topic else ""


def request_dm(request: Feedback, expire_days: int, *, reminder: bool = False) -> Message:
    if reminder:
        headline = f":alarm_clock: A gentle reminder: {mention(request.about_id)} would still value your feedback"
    else:
        headline = f":speech_balloon: {mention(request.about_id)} asked for your feedback"
    headline += _about(request.topic) + "."
    note = f"Three short prompts; you may answer anonymously. The request expires after {expire_days} days."
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=headline)),
        ContextBlock(elements=[MarkdownTextObject(text=note)]),
        ActionsBlock(
            elements=[
                ButtonElement(text="Give feedback", action_id=ANSWER_BUTTON, value=str(request.id), style="primary")
            ]
        ),
    ]
    return headline, [b.to_dict() for b in blocks]


def answer_dm(feedback: Feedback, giver_id: str | None, answers: dict[str, str]) -> Message:
    """The feedback, for the person it is about only. `giver_id` is None when it is anonymous.
    Feedback nobody asked for can be reported to the admins from here."""
    who = mention(giver_id) if giver_id else "An anonymous teammate"
    if feedback.requested:
        headline = f":seedling: {who} answered your feedback request{_about(feedback.topic)}."
    else:
        headline = f":seedling: {who} sent you feedback."
    blocks = [limits.section(headline)]
    for prompt, (label, _hint) in PROMPTS.items():
        if answers[prompt]:
            blocks += limits.text_sections(f"*{label}*\n{quote(answers[prompt])}")
    footer = "Only you can see this. Growth is a team sport."
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]).to_dict())
    if not feedback.requested:
        blocks.append(ActionsBlock(elements=[_report_button(feedback.id)]).to_dict())
    return headline, blocks


def _report_button(feedback_id: int) -> ButtonElement:
    return ButtonElement(
        text="Report to the admins",
        action_id=REPORT_BUTTON,
        value=str(feedback_id),
        confirm=ConfirmObject(
            title="Report this feedback?",
            text="The Kaizen admins are told that you reported it, not what it says, and can hide it.",
            confirm="Report",
            deny="Cancel",
        ),
    )


def hidden_dm() -> Message:
    """What a feedback DM becomes when an admin hides it."""
    text = "_This feedback was hidden by an admin._"
    return text, [limits.section(text)]


def report_to_admins(feedback: Feedback, now: datetime) -> Message:
    """What each admin is told when someone reports feedback they were sent: never its text."""
    source = "anonymous" if feedback.anonymous else f"from {mention(feedback.giver_id)}"
    text = (
        f":triangular_flag_on_post: {mention(feedback.about_id)} reported feedback #{feedback.id} they were sent "
        f"{ago(feedback.created_at, now)} ({source}) as not OK. Its text stays with them: ask them if you need "
        "to know more. Hiding it takes it out of their DM and out of every count."
    )
    hide = limits.hide_button("feedback", feedback.id, f"feedback #{feedback.id}")
    return text, [limits.section(text), ActionsBlock(elements=[hide]).to_dict()]


def reported(admins: int) -> str:
    return (
        f":white_check_mark: Thank you for saying so. I told the Kaizen admin{'s' if admins > 1 else ''}, "
        "without what it says; they can hide it."
    )


def asked_confirmation(reviewer_ids: list[str], topic: str, remind_days: int, expire_days: int) -> str:
    return (
        f":white_check_mark: I asked {names(reviewer_ids)} for feedback{_about(topic)}. "
        f"You'll get each answer by DM. If someone hasn't answered, I'll remind them once after {remind_days} days; "
        f"requests expire after {expire_days}."
    )


def _with_whom(batch: AskedTogether) -> str:
    """Who the requests are with, or only how many once someone in the batch answered anonymously."""
    if batch.anonymous:
        return f"{len(batch.requests)} of the {batch.asked} people you asked"
    return names([request.giver_id for request in batch.requests])


def expired_dm(batch: AskedTogether, expire_days: int) -> str:
    if batch.anonymous:
        those = "that request" if len(batch.requests) == 1 else "those requests"
        return (
            f":hourglass: {_with_whom(batch)} for feedback{_about(batch.topic)} didn't answer within "
            f"{expire_days} days, so {those} expired. Someone answered anonymously, so I don't say who is left. "
            "You can always ask again with `/feedback request`."
        )
    return (
        f":hourglass: Your feedback request to {_with_whom(batch)}{_about(batch.topic)} expired "
        f"after {expire_days} days without an answer. A quick chat might work better — or ask again "
        "with `/feedback request`."
    )


def feedback_list(waiting_on_you: list[Feedback], your_requests: list[AskedTogether], now: datetime) -> str:
    lines = ["*Waiting on you*"]
    lines += [
        f"• {mention(r.about_id)} asked {ago(r.created_at, now)}{_about(r.topic)} — the button is in my DM to you"
        for r in waiting_on_you
    ] or ["Nothing — you're all caught up."]
    lines.append("*Your open requests*")
    for batch in your_requests:
        hidden = " (someone answered anonymously, so I don't say who is left)" if batch.anonymous else ""
        lines.append(f"• {_with_whom(batch)}, asked {ago(batch.asked_at, now)}{_about(batch.topic)}{hidden}")
    if not your_requests:
        lines.append("None. Ask with `/feedback request @teammate about …`.")
    return "\n".join(lines)


def help_text(remind_days: int, expire_days: int, anonymous_a_day: int) -> str:
    return "\n".join(
        [
            "*/feedback — ask for and give growth-oriented feedback*",
            "`/feedback request @ana @ben about the refund escalation` — ask one or more teammates; "
            "each gets a short form (what went well, one thing to try next time, anything else)",
            "`/feedback give @ana` — give feedback nobody asked for yet",
            "`/feedback list` — requests waiting on you, and your own open requests",
            f"Unanswered requests get one reminder after {remind_days} days and expire after {expire_days}.",
            "Feedback can be anonymous: then Kaizen keeps no record of who gave it. "
            "Only the person it is about sees the text.",
            f"Anonymous feedback nobody asked for: up to {anonymous_a_day} a day each. If some you get is not OK, "
            "*Report to the admins* under it tells them (never what it says); they can hide it.",
        ]
    )


def feedback_modal(about_id: str, topic: str, metadata: dict) -> dict:
    """The form behind the request DM's button and `/feedback give`; `metadata` says which."""
    prompts = [
        InputBlock(
            block_id=prompt,
            label=label,
            hint=hint,
            optional=True,
            element=PlainTextInputElement(action_id=prompt, multiline=True, max_length=MAX_ANSWER_LENGTH),
        )
        for prompt, (label, hint) in PROMPTS.items()
    ]
    anonymous = InputBlock(
        block_id=ANONYMOUS,
        label="Anonymity",
        optional=True,
        element=CheckboxesElement(
            action_id=ANONYMOUS,
            options=[
                Option(
                    value=ANONYMOUS,
                    text="Send anonymously",
                    # Slack's limit for an option's description is 75 characters.
                    description="Kaizen keeps no record of you. If only you were asked, they may guess.",
                )
            ],
        ),
    )
    return View(
        type="modal",
        callback_id=FEEDBACK_MODAL,
        private_metadata=json.dumps(metadata),
        title=PlainTextObject(text=MODAL_TITLE),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"Feedback for {mention(about_id)}{_about(topic)}.")),
            *prompts,
            anonymous,
        ],
    ).to_dict()


def sent_modal(about_id: str, anonymous: bool) -> dict:
    text = f":white_check_mark: Thank you — your feedback is on its way to {mention(about_id)}."
    if anonymous:
        text += " It goes anonymously: Kaizen kept no record of who sent it."
    return limits.notice_modal("Feedback sent", text)


def home_section(waiting: list[Feedback], now: datetime) -> list[dict]:
    """Requests waiting on a person, on their Home tab, each with its answer button."""
    blocks = [limits.section("*:speech_balloon: Feedback waiting on you*")]
    for request in waiting[:SHOWN_REQUESTS]:
        asked = f"{mention(request.about_id)} asked{_about(request.topic)} · {ago(request.created_at, now)}"
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=truncate(asked, limits.MAX_SECTION_TEXT)),
                accessory=ButtonElement(text="Give feedback", action_id=ANSWER_BUTTON, value=str(request.id)),
            ).to_dict()
        )
    if not waiting:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Nothing waiting on you.")]).to_dict())
    elif len(waiting) > SHOWN_REQUESTS:
        more = len(waiting) - SHOWN_REQUESTS
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {more} more: `/feedback list`")]).to_dict())
    return blocks


def digest_comparison(this_week: FeedbackCounts, last_week: FeedbackCounts) -> list[str]:
    """Requests and their answers, and feedback nobody asked for, this week against last week."""
    return [
        f"• Feedback requests: *{this_week.asked}* asked, *{this_week.answered}* answered "
        f"(before: {last_week.asked} asked, {last_week.answered} answered)",
        f"• Feedback nobody asked for: *{this_week.unrequested}* (before: {last_week.unrequested})",
    ]


def overdue_brief(overdue: int) -> str:
    return plural(overdue, "overdue feedback request", "overdue feedback requests")


def overdue_requests(asked: list[datetime], overdue_days: int, now: datetime) -> dict:
    if not asked:
        return limits.section(
            f"*Overdue feedback requests*\nNone: every request is answered within {overdue_days} days."
        )
    return limits.section(
        f"*Overdue feedback requests* — {len(asked)} unanswered for more than {overdue_days} days "
        f"(the oldest for {days_between(min(asked), now)})."
    )
