"""Block Kit and texts for mentoring: replies, the form, the pair's group DM and its follow-up,
and mentoring's parts of the Home tab and the lead digest."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.text import mention, plural
from storage.mentor import MentorPair

MENTOR_MODAL = "mentor_modal"
FOLLOW_UP_ACTION = "mentor_follow_up_"  # + the answer; the button's value is "<pair id>:<answer>"
ANSWERS = {"met": "Yes", "not-yet": "Not yet", "not-going": "Not going to happen"}
ANSWERED = {
    "met": ":tada: you met. Thank you both for making time to learn together.",
    "not-yet": ":hourglass_flowing_sand: not yet. There's still time: half an hour is enough to start.",
    "not-going": ":ok_hand: it's not going to happen. Thanks for saying so; you'll both be in the next round.",
}
# The form's inputs, by block and action ID.
OFFERS, OFFER_TAGS, WANTS, WANT_TAGS = "offers", "offer_tags", "wants", "want_tags"
# A first conversation for each default skill: concrete, short, and about real work.
FIRST_CONVERSATIONS = {
    "de-escalation": "Walk through one tense conversation from the last month: what the customer really "
    "needed, and the sentence that turned it around (or could have).",
    "product-knowledge": "Take the question customers asked most this week and explain the answer to each "
    "other, as you would to a customer.",
    "billing": "Open a recent billing ticket together and put the charge into plain words a customer would follow.",
    "written-tone": "Rewrite one recent reply together: the same facts, warmer and clearer.",
    "technical-troubleshooting": "Share how you narrow down a problem you can't reproduce: the first three "
    "questions you ask, and why those.",
    "coaching": "Talk about a piece of feedback that helped you grow, and what made it land.",
}


def skill_list(skills: list[str]) -> str:
    """`#billing`, `#billing and #coaching`, `#a, #b and #c`."""
    tags = [f"#{skill}" for skill in skills]
    return tags[0] if len(tags) == 1 else ", ".join(tags[:-1]) + " and " + tags[-1]


def when(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b} at {moment:%H:%M}"


def day(of: date) -> str:
    return f"{of:%a} {of.day} {of:%b}"


def first_conversation(skill: str, learner_id: str) -> str:
    return FIRST_CONVERSATIONS.get(
        skill,
        f"{mention(learner_id)} brings one real case where #{skill} mattered and says what they tried; "
        "the mentor asks questions before giving answers.",
    )


# --- replies to /mentor --------------------------------------------------------------------
def offered(added: list[str], offers: list[str], next_matching: datetime, per_mentor: int) -> str:
    if not added:
        return f"You already offer those. You offer {skill_list(offers)}."
    return (
        f":white_check_mark: Thank you! You offer {skill_list(offers)}. Next matching: {when(next_matching)}; "
        f"you'll have at most {per_mentor} learners a round."
    )


def wanted(added: list[str], wants: list[str], unoffered: list[str], next_matching: datetime) -> str:
    text = (
        f"You already want to learn those. You want to learn {skill_list(wants)}."
        if not added
        else f":white_check_mark: You want to learn {skill_list(wants)}. Next matching: {when(next_matching)}."
    )
    if unoffered:
        text += (
            f"\nNobody offers {skill_list(unoffered)} yet: I'll match you once someone does. "
            "Know someone good at it? Ask them to `/mentor offer` it."
        )
    return text


def stopped(removed: int, skills: list[str]) -> str:
    if skills:
        if not removed:
            return f"You don't offer or want {skill_list(skills)}. `/mentor list` shows your lists."
        return f"Done: {skill_list(skills)} is off your lists."
    if not removed:
        return "You weren't offering or wanting any skill, so there's nothing to stop."
    return (
        "Done: you're out of mentoring, and the next rounds won't pair you. Your current pair can keep meeting. "
        "`/mentor` brings you back any time."
    )


def overview_text(
    offers: list[str],
    wants: list[str],
    this_round: date | None,
    pairs: list[MentorPair],
    user_id: str,
    next_at: datetime,
) -> str:
    lines = [
        "*You offer:* " + (skill_list(offers) if offers else "nothing yet (`/mentor offer #skill`)"),
        "*You want to learn:* " + (skill_list(wants) if wants else "nothing yet (`/mentor want #skill`)"),
    ]
    lines += [f"*This round:* {_pair_line(pair, user_id)}" for pair in pairs]
    if _unpaired(this_round, pairs, offers, wants):
        lines.append("*This round:* no pair.")
    lines.append(f"Next matching: {when(next_at)}.")
    return "\n".join(lines)


def _unpaired(this_round: date | None, pairs: list[MentorPair], offers: list[str], wants: list[str]) -> bool:
    """Someone taking part who has no pair in the round under way (the last one's is over)."""
    return this_round is not None and not pairs and bool(offers or wants)


def _pair_line(pair: MentorPair, user_id: str) -> str:
    if pair.learner_id == user_id:
        line = f"you're learning #{pair.skill} with {mention(pair.mentor_id)}"
    else:
        line = f"you're mentoring {mention(pair.learner_id)} in #{pair.skill}"
    return line + (" (you met :white_check_mark:)" if pair.answer == "met" else "")


def help_text(skills: tuple[str, ...], every_weeks: int, per_mentor: int) -> str:
    return "\n".join(
        [
            "*/mentor — learn from each other, matched by skill*",
            "`/mentor offer #billing #de-escalation` — skills you can teach",
            "`/mentor want #written-tone` — skills you'd like to learn",
            "`/mentor` — a form with both lists",
            "`/mentor list` — your lists and your current pair",
            "`/mentor stop [#skill …]` — take skills off your lists (no skill named: all of them)",
            f"Team skills: {skill_list(list(skills))}. Any other #tag works too.",
            f"Every {plural(every_weeks, 'week', 'weeks')}, each learner is paired with someone who offers a "
            f"skill they want (a mentor takes at most {per_mentor} learners), in a group DM with an idea for "
            "a first conversation. A week later I ask whether you met.",
        ]
    )


# --- the form ---------------------------------------------------------------------------------
def mentor_modal(skills: tuple[str, ...], offers: list[str], wants: list[str], every_weeks: int) -> dict:
    """Both lists: the team's skills to pick from, and free #tags for anything else."""
    options = [Option(text=f"#{skill}", value=skill) for skill in skills[:100]]  # Slack shows 100 at most

    def picked(chosen: list[str]) -> list[Option] | None:
        return [option for option in options if option.value in chosen] or None

    def tags(chosen: list[str]) -> str | None:
        return " ".join(f"#{skill}" for skill in chosen if skill not in skills) or None

    blocks = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"Every {plural(every_weeks, 'week', 'weeks')} I pair people who want to learn a skill "
                "with someone who offers it. Both lists can change any time."
            )
        )
    ]
    for list_id, tags_id, label, chosen in (
        (OFFERS, OFFER_TAGS, "Skills I can teach", offers),
        (WANTS, WANT_TAGS, "Skills I want to learn", wants),
    ):
        blocks += [
            InputBlock(
                block_id=list_id,
                label=label,
                optional=True,
                element=StaticMultiSelectElement(action_id=list_id, options=options, initial_options=picked(chosen)),
            ),
            InputBlock(
                block_id=tags_id,
                label="Other skills",
                hint="Your own #tags, separated by spaces, e.g. #refunds-eu #sql",
                optional=True,
                element=PlainTextInputElement(action_id=tags_id, initial_value=tags(chosen), max_length=500),
            ),
        ]
    return View(
        type="modal",
        callback_id=MENTOR_MODAL,
        title=PlainTextObject(text="Mentoring"),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        blocks=blocks,
    ).to_dict()


def saved_modal(text: str) -> dict:
    return limits.notice_modal("Mentoring", ":white_check_mark: Saved.\n" + text)


# --- the pair's group DM --------------------------------------------------------------------
def introduction(pair: MentorPair, next_matching: datetime) -> Message:
    mentor, learner = mention(pair.mentor_id), mention(pair.learner_id)
    headline = f":handshake: {mentor}, meet {learner}: a mentoring match for #{pair.skill}"
    return headline, [
        limits.section(
            f"*{headline}*\n{learner} would like to get better at #{pair.skill}, and {mentor} offered "
            "to share what they know."
        ),
        limits.section(f"*A first conversation to try:* {first_conversation(pair.skill, pair.learner_id)}"),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Find half an hour before the next round ({when(next_matching)}); I'll ask in a week "
                    "whether you met. `/mentor stop` takes you out of future rounds."
                )
            ]
        ).to_dict(),
    ]


def follow_up(pair: MentorPair) -> Message:
    """The "Did you meet?" message, with its answer once there is one; the buttons stay, to change it."""
    question = (
        f":wave: {mention(pair.mentor_id)}, {mention(pair.learner_id)}: a week ago you were paired for "
        f"#{pair.skill}. Did you meet?"
    )
    buttons = [
        ButtonElement(
            text=label,
            action_id=FOLLOW_UP_ACTION + answer,
            value=f"{pair.id}:{answer}",
            style="primary" if answer == "met" else None,
        )
        for answer, label in ANSWERS.items()
    ]
    blocks = [SectionBlock(text=MarkdownTextObject(text=question)), ActionsBlock(elements=buttons)]
    if pair.answer:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"{mention(pair.answered_by)}: {ANSWERED[pair.answer]}")])
        )
    return question, [b.to_dict() for b in blocks]


def unmatched(nobody_offers: list[str], all_taken: list[str], next_matching: datetime) -> Message:
    """Why a learner has no mentor this round; sent once."""
    reasons = []
    if nobody_offers:
        reasons.append(f"nobody offers {skill_list(nobody_offers)} yet")
    if all_taken:
        reasons.append(f"everyone who offers {skill_list(all_taken)} already has their learners this round")
    text = (
        f":seedling: No mentor for you this round: {' and '.join(reasons)}. I'll try again on "
        f"{when(next_matching)}, and I won't repeat this note every round."
    )
    if nobody_offers:
        text += " Know someone good at it? Ask them to `/mentor offer` it."
    return text, [limits.section(text)]


# --- Home tab and lead digest -------------------------------------------------------------
def home_section(
    offers: list[str],
    wants: list[str],
    this_round: date | None,
    pairs: list[MentorPair],
    user_id: str,
    next_at: datetime,
) -> list[dict]:
    lines = ["*:handshake: Mentoring*"]
    lines += [f"This round {_pair_line(pair, user_id)}." for pair in pairs]
    if _unpaired(this_round, pairs, offers, wants):
        lines.append("No pair this round.")
    if offers or wants:
        sides = [f"offer {skill_list(offers)}"] if offers else []
        if wants:
            sides.append(f"want to learn {skill_list(wants)}")
        lines.append("You " + " and ".join(sides) + ".")
    else:
        lines.append("Offer what you know, or say what you'd like to learn: `/mentor`.")
    return [
        limits.section("\n".join(lines)),
        ContextBlock(elements=[MarkdownTextObject(text=f"Next matching: {when(next_at)}")]).to_dict(),
    ]


def digest_comparison(this_week: tuple[int, int], last_week: tuple[int, int]) -> str:
    """(pairs made, pairs that said they met) this week against last week."""
    return (
        f"• Mentoring: *{this_week[0]}* pairs made, *{this_week[1]}* said they met "
        f"(before: {last_week[0]} made, {last_week[1]} met)"
    )


def digest_section(latest: date | None, answers: Counter, wanted_not_offered: list[tuple[str, int]]) -> dict:
    lines = ["*Mentoring*"]
    pairs = sum(answers.values())
    if latest and not pairs:
        lines.append(f"Latest round ({day(latest)}): no pairs.")
    elif latest:
        lines.append(
            f"Latest round ({day(latest)}): {plural(pairs, 'pair', 'pairs')}; {answers['met']} met, "
            f"{answers['not-yet']} not yet, {answers['not-going']} not going to happen, "
            f"{answers[None]} no answer yet."
        )
    if wanted_not_offered:
        skills = ", ".join(f"#{skill} ({plural(n, 'person', 'people')})" for skill, n in wanted_not_offered)
        lines.append(
            f"Wanted, and nobody offers: {skills}. Someone may know more than they think: "
            "a nudge to `/mentor offer` helps."
        )
    else:
        lines.append("Every skill someone wants is offered by someone.")
    return limits.section("\n".join(lines))
