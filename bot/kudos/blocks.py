"""Block Kit for kudos: one small pure function per message kind, returning (fallback text, blocks),
and kudos' parts of the Home tab, the weekly celebration and the lead digest."""

from __future__ import annotations

import json
from datetime import datetime

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.core import blocks as limits
from bot.core.blocks import Message
from bot.core.clock import days_between
from bot.core.text import escape, mention, names, plural, quote, truncate
from storage.kudos import KudosStats, TeamStats
from storage.teams import UserGroup

SHOWN_GAPS = 30
GIVE_KUDOS_SHORTCUT = "give_kudos"
KUDOS_MODAL = "kudos_modal"
GROUP = "group"  # the form's user-group menu, by block and action ID
MAX_OPTIONS = 100  # Block Kit's limit on a menu's options


def _values_line(values: list[str]) -> str:
    return "  ".join(f"`#{v}`" for v in values)


def celebration(number: int, giver_id: str, recipient_ids: list[str], message: str, values: list[str]) -> Message:
    """The kudos channel's post; its ⋯ menu lets an admin hide it, and tells them its number."""
    headline = f":tada: {names(recipient_ids)} — kudos from {mention(giver_id)}!"
    hide = limits.hide_menu("kudos", number, f"kudos #{number}")
    blocks = limits.text_sections(f"{headline}\n{quote(message)}", accessory=hide)
    if values:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_values_line(values))]).to_dict())
    return f"{headline} {message}", blocks


def team_celebration(number: int, giver_id: str, group: str, people: int, message: str, values: list[str]) -> Message:
    """The kudos channel's post for a kudos to a whole user group: it names the group (plain text, never
    a mention, which would notify every member at once)."""
    headline = (
        f":tada: Everyone in *{escape(group)}* ({plural(people, 'person', 'people')}) — kudos from {mention(giver_id)}!"
    )
    hide = limits.hide_menu("kudos", number, f"kudos #{number}")
    blocks = limits.text_sections(f"{headline}\n{quote(message)}", accessory=hide)
    if values:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_values_line(values))]).to_dict())
    return f"{headline} {message}", blocks


def team_dm(giver_id: str, group: str, message: str, values: list[str]) -> Message:
    """The DM to each member of a user group given kudos together."""
    headline = f":sparkles: {mention(giver_id)} gave kudos to everyone in *{escape(group)}*, you among them:"
    blocks = limits.text_sections(f"{headline}\n{quote(message)}")
    footer = f"{_values_line(values)}  ·  " if values else ""
    footer += "A kudos to the whole group: it counts in your stats, not on the leaderboard."
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]).to_dict())
    return f"{headline} {message}", blocks


# What each of the default values recognises, said to the person who showed it. A team's own
# values get VALUE_LINE; a kudos with no value, a line about how it was given.
VALUE_LINES = {
    "growth-mindset": "Stretching past what you could do yesterday is exactly the growth this team is about.",
    "customer-first": "Customers feel that kind of care, even when they never say so.",
    "ownership": "Seeing it through yourself is what lets the rest of the team count on it.",
    "teamwork": "Making the work easier for the people around you makes the whole team better.",
    "learning": "What you learned here will help the next customer, and the next teammate.",
}
VALUE_LINE = "`#{value}` is one of the values this team chose for itself, and you just showed it."
REACTION_LINE = "A :{emoji}: on your message counts as kudos: it made a difference to someone."
WRITTEN_LINE = "They took a moment to put it in words: your effort and progress were noticed."


def recipient_dm(
    giver_id: str,
    message: str,
    values: list[str],
    *,
    others: list[str] | None = None,
    reaction_emoji: str | None = None,
    linked_only: bool = False,
) -> Message:
    """The DM to one recipient: who gave it (and who else got it, for a kudos to several people),
    the message, and a footer saying what it recognised: its first value, or how it was given."""
    together = f", together with {names(others)}" if others else ""
    headline = f":sparkles: {mention(giver_id)} gave you kudos{together}:"
    blocks = limits.text_sections(f"{headline}\n{quote(message)}")
    if linked_only:
        note = "Your message is in a private channel, so the kudos channel links to it without quoting it."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]).to_dict())
    if values:
        footer = f"{_values_line(values)}  ·  {VALUE_LINES.get(values[0]) or VALUE_LINE.format(value=values[0])}"
    elif reaction_emoji:
        footer = REACTION_LINE.format(emoji=reaction_emoji)
    else:
        footer = WRITTEN_LINE
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]).to_dict())
    return f"{headline} {message}", blocks


def withdrawn(emoji: str) -> Message:
    """What a celebration becomes when its reaction is removed the same day."""
    text = f"_This kudos was withdrawn: its :{emoji}: reaction was removed._"
    return text, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


def hidden() -> Message:
    """What a kudos' celebration and DMs become when an admin hides it."""
    text = "_This kudos was hidden by an admin._"
    return text, [limits.section(text)]


def reaction_refused(emoji: str, reason: str) -> str:
    return f"Your :{emoji}: on that message didn't give a kudos. {reason}"


def team_confirmation(group: str, people: int, left_today: int, posted_in: str | None) -> str:
    where = f" and celebrated in <#{posted_in}>" if posted_in else ""
    return (
        f":white_check_mark: Kudos sent to the {plural(people, 'person', 'people')} of *{escape(group)}*{where}. "
        f"It counts as one: you have {left_today} left today."
    )


def confirmation(recipient_ids: list[str], left_today: int, posted_in: str | None) -> str:
    where = f" and celebrated in <#{posted_in}>" if posted_in else ""
    return f":white_check_mark: Kudos sent to {names(recipient_ids)}{where}. You have {left_today} left today."


def giver(giver_id: str | None) -> str:
    """Who gave a kudos: a teammate, or a customer (a compliment from the help desk has no giver)."""
    return mention(giver_id) if giver_id else "a customer"


def leaderboard(
    period: str, teammates: list[tuple[str, int]], customers: list[tuple[str, int]], team: str | None = None
) -> str:
    """Kudos from teammates, and customer compliments apart: they are different kinds of recognition.
    Kudos to a whole user group are left out (they count in stats)."""
    title = {"week": "this week", "month": "this month", "all": "of all time"}[period]
    if team:
        title += f" in {escape(team)}"

    def ranking(rows: list[tuple[str, int]], one: str, many: str) -> str:
        return "\n".join(f"{rank}. {mention(user)} — {plural(n, one, many)}" for rank, (user, n) in enumerate(rows, 1))

    if teammates:
        text = f"*Most recognised {title}*\n{ranking(teammates, 'kudos', 'kudos')}"
    else:
        text = f"No kudos {title} yet — be the first: `/kudos @teammate thanks for …`"
    if customers:
        text += f"\n*Thanked most by customers {title}*\n{ranking(customers, 'compliment', 'compliments')}"
    return text + "\n_Everyone's effort counts, not only the top ten._"


def team_stats(team: str, people: int, numbers: TeamStats) -> str:
    return "\n".join(
        [
            f"*Kudos for {escape(team)}* ({plural(people, 'person', 'people')})",
            f"Received: {numbers.received_week} this week · {numbers.received_month} this month · "
            f"{numbers.received_all} in all" + _from_customers(numbers),
            f"Given: {numbers.given_all}",
            f"Recognised this month: {numbers.recognised_month} of {people}",
        ]
    )


def stats(user_id: str, numbers: KudosStats) -> str:
    lines = [
        f"*Kudos for {mention(user_id)}*",
        f"Received: {numbers.received_week} this week · {numbers.received_month} this month · "
        f"{numbers.received_all} in all" + _sources(numbers.from_customers_all, numbers.from_teams_all),
        f"Given: {numbers.given_all}",
    ]
    if numbers.top_values:
        lines.append("Values shown most: " + ", ".join(f"#{v} ({n})" for v, n in numbers.top_values))
    for kudos in numbers.latest:
        lines.append(f"• from {giver(kudos.giver_id)}: {kudos.message.splitlines()[0]}")
    return "\n".join(lines)


def _from_customers(numbers: KudosStats | TeamStats) -> str:
    return _sources(numbers.from_customers_all, 0)


def _sources(from_customers: int, from_teams: int) -> str:
    """How many of someone's kudos came from customers, and from kudos to a whole group they are in."""
    sources = [f"{from_customers} from customers"] if from_customers else []
    if from_teams:
        sources.append(f"{from_teams} from team kudos")
    return f" ({', '.join(sources)})" if sources else ""


def help_text(values: tuple[str, ...], daily_limit: int, emoji: str, max_team: int) -> str:
    return "\n".join(
        [
            "*/kudos — recognise effort and progress*",
            "`/kudos @ana @ben thanks for staying late to clear the queue #teamwork` — kudos to one or more people",
            "`/kudos` — open a form",
            "`/kudos @billing-team great week on the backlog` — kudos to everyone in a user group "
            f"(up to {max_team} people; it counts as one of yours)",
            "`/kudos leaderboard [week|month|all] [team NAME]` — who has been recognised most (kudos to a group aside)",
            "`/kudos stats [@someone]` — kudos received and given; `/kudos stats team NAME` — a team's",
            f"Values you can tag: {', '.join('#' + v for v in values)}",
            f"You can give {daily_limit} kudos a day. A :{emoji}: reaction on a message also gives its author kudos.",
            "*Give kudos* in a message's ⋯ menu opens the form for its author.",
        ]
    )


def kudos_modal(
    values: tuple[str, ...],
    *,
    recipients: list[str] | None = None,
    source: str = "modal",
    link: str | None = None,
    groups: list[UserGroup] | None = None,
) -> dict:
    """The form behind `/kudos` with no text and the "Give kudos" message shortcut; with `groups`, the
    people may be a user group instead (Block Kit has no user-group picker: the groups Kaizen has read)."""
    view = View(
        type="modal",
        callback_id=KUDOS_MODAL,
        private_metadata=json.dumps({"source": source, "link": link}),
        title=PlainTextObject(text="Give kudos"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id="recipients",
                label="Who is it for?",
                optional=bool(groups),
                element=UserMultiSelectElement(action_id="recipients", initial_users=recipients or None),
            ),
            InputBlock(
                block_id="message",
                label="What did they do?",
                hint="Name the effort or the progress, so they know what to keep doing.",
                element=PlainTextInputElement(action_id="message", multiline=True, max_length=1000),
            ),
            InputBlock(
                block_id="values",
                label="Values it shows",
                optional=True,
                element=StaticMultiSelectElement(
                    action_id="values",
                    options=[Option(text=f"#{v}", value=v) for v in values],
                ),
            ),
        ],
    )
    if groups:
        options = [Option(text=truncate(f"@{g.handle} ({g.name})", 75), value=g.id) for g in groups[:MAX_OPTIONS]]
        group = InputBlock(
            block_id=GROUP,
            label="…or a whole user group",
            optional=True,
            hint="Everyone in it gets the kudos (and a DM); it counts as one of yours.",
            element=StaticSelectElement(action_id=GROUP, options=options),
        )
        view.blocks.insert(1, group)
    if link:
        view.blocks.insert(0, SectionBlock(text=MarkdownTextObject(text=f"For <{link}|this message>.")))
    return view.to_dict()


def sent_modal(recipient_ids: list[str], left_today: int) -> dict:
    return limits.notice_modal("Kudos sent", confirmation(recipient_ids, left_today, None))


def home_section(numbers: KudosStats) -> list[dict]:
    """Kudos on a person's Home tab: this week, in all, and the latest few."""
    blocks = [
        limits.section(
            f"*:sparkles: Kudos* — {numbers.received_week} this week · {numbers.received_all} in all"
            + _sources(numbers.from_customers_all, numbers.from_teams_all)
            + ("" if numbers.received_all else "\nNone yet. Notice someone's effort today: `/kudos @teammate …`")
        )
    ]
    for given in numbers.latest:
        line = truncate(f"from {giver(given.giver_id)}: {given.message.splitlines()[0]}", 300)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line)]).to_dict())
    return blocks


def week_blocks(
    kudos: int,
    givers: list[str],
    recognised: list[tuple[str, int]],
    values: list[tuple[str, int]],
    first_timers: list[str],
) -> list[dict]:
    """Kudos in the weekly celebration: everyone recognised (not only the top), each named once with a
    first kudos ever marked beside the name, the values tagged most, and thanks to the givers."""
    first = set(first_timers)

    def recognised_line(user: str, n: int) -> str:
        return f"{mention(user)} ({n}, first kudos :wave:)" if user in first else f"{mention(user)} ({n})"

    blocks = [
        limits.section(
            f":clap: *{plural(kudos, 'kudos', 'kudos')} this week, for "
            f"{plural(len(recognised), 'teammate', 'teammates')}.* Each one is effort someone noticed."
        ),
        limits.section("*Everyone recognised this week* — thank you, all of you:"),
        *limits.sections([recognised_line(user, n) for user, n in recognised], separator=" · "),
    ]
    if values:
        shown = " · ".join(f"`#{value}` {_times(n)}" for value, n in values)
        blocks.append(limits.section(f"*Values tagged most:* {shown}"))
    if givers:
        blocks.append(limits.section("*And thank you for noticing* — this week's kudos came from:"))
        blocks += limits.sections([mention(user) for user in givers], separator=" · ")
    return blocks


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def week_summary(kudos: int, recognised: int) -> str:
    return f"{plural(kudos, 'kudos', 'kudos')} for {plural(recognised, 'teammate', 'teammates')}"


def change(now: int, before: int) -> str:
    """How a count moved since the week before: "+3", "-1", "same as before"."""
    return "same as before" if now == before else f"{now - before:+d}"


def digest_comparison(this_week: int, last_week: int) -> str:
    return f"• Kudos: *{this_week}* (before: {last_week}, {change(this_week, last_week)})"


def digest_summary(this_week: int, last_week: int) -> str:
    return f"{this_week} kudos in the last 7 days ({change(this_week, last_week)})"


def team_digest_summary(received: int, received_before: int) -> str:
    return f"{received} kudos to its people ({change(received, received_before)})"


def team_digest_comparison(received: int, received_before: int, given: int, given_before: int) -> str:
    return (
        f"• Kudos to them: *{received}* (before: {received_before}, {change(received, received_before)}); "
        f"from them: *{given}* (before: {given_before}, {change(given, given_before)})"
    )


def team_brief(received: int, recognised: int, people: int, gap_days: int) -> list[str]:
    """A team's kudos in its line of an org-wide lead's digest: this week's, and the share of its people
    recognised in `gap_days` days."""
    share = f"{round(100 * recognised / people)}% recognised in {gap_days} days" if people else "nobody to recognise"
    return [f"{plural(received, 'kudos', 'kudos')} this week", share]


def recognition_gaps(gaps: list[tuple[str, datetime | None]], gap_days: int, now: datetime) -> list[dict]:
    """The lead digest's list of people nobody has thanked for a while, longest first."""
    if not gaps:
        everyone = f"Everyone has been recognised in the last {gap_days} days. :sparkles:"
        return [limits.section(f"*Recognition gaps*\n{everyone}")]
    people = [
        f"{mention(user)} ({'never' if last is None else days_between(last, now)})" for user, last in gaps[:SHOWN_GAPS]
    ]
    more = len(gaps) - SHOWN_GAPS
    listed = ", ".join(people) + (f" and {more} more" if more > 0 else "")
    return [
        limits.section(
            f"*Recognition gaps* — {len(gaps)} people with no kudos in {gap_days} days (time since their last):\n"
            f"{listed}\nA specific thank-you for recent effort goes a long way."
        )
    ]
