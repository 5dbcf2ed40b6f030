import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.blocks import MAX_BLOCKS, MAX_SECTION_TEXT
from bot.core.jobs import run_job
from bot.core.parts import EVERYONE, WeekPart
from bot.ideas.blocks import implemented_this_week
from bot.kudos.blocks import week_blocks
from bot.weekly.celebration import celebration
from storage.ideas import Idea, IdeaStatusChange
from tests.bot.factories import kudos
from tests.help_desk import rating

PARIS = ZoneInfo("Europe/Paris")
FRIDAY_1600 = datetime(2026, 11, 20, 16, 0, tzinfo=PARIS)


def print_blocks(post) -> None:
    """The message as a whole, to read as a person would (`pytest -s`)."""
    print(post["text"], json.dumps(post["blocks"], indent=1, ensure_ascii=False), sep="\n")


def sent_text(posts) -> str:
    return "\n".join(str(post["blocks"]) for post in posts)


def test_the_first_celebration_celebrates_everyone_recognised_in_the_last_7_days(ctx, fake_slack, clock):
    with ctx.session_factory.begin() as session:
        session.add_all(
            [
                kudos("UBEN", "UANA", datetime(2026, 11, 12, 10, tzinfo=PARIS)),  # last week
                kudos("UBEN", "UANA", datetime(2026, 11, 17, 10, tzinfo=PARIS), "teamwork ownership"),
                kudos("UCARL", "UANA", datetime(2026, 11, 18, 10, tzinfo=PARIS), "teamwork"),
                kudos("UANA", "UBEN", datetime(2026, 11, 19, 10, tzinfo=PARIS), "teamwork"),
                # The first celebration covers the 7 days before it, counted in Paris: from Friday 16:00,
                # which is 15:00 UTC.
                kudos("UANA", "UCARL", datetime(2026, 11, 13, 15, 30, tzinfo=UTC)),
                kudos("UANA", "UDAN", datetime(2026, 11, 13, 14, 30, tzinfo=UTC)),
            ]
        )
    clock.set(FRIDAY_1600)

    report = run_job(ctx, "weekly-celebration")

    [post] = fake_slack.posts_to("CKUDOS")  # KAIZEN_CELEBRATION_CHANNEL defaults to the kudos channel
    text = sent_text([post])
    assert post["text"] == ":tada: This week, together: 4 kudos for 3 teammates"
    assert "*4 kudos this week, for 3 teammates.* Each one is effort someone noticed." in text
    # Each person once, a first kudos ever beside the name; UDAN's kudos was before the 7 days.
    recognised = text[text.index("Everyone recognised") : text.index("Values tagged most")]
    assert "<@UANA> (2) · <@UBEN> (1, first kudos :wave:) · <@UCARL> (1, first kudos :wave:)" in recognised
    assert [recognised.count(f"<@{user}>") for user in ("UANA", "UBEN", "UCARL", "UDAN")] == [1, 1, 1, 0]
    assert "`#teamwork` 3 times · `#ownership` once" in text
    # The givers are thanked, each once, in the order they first gave.
    assert text[text.index("thank you for noticing") :].count("<@") == 3
    assert "<@UANA> · <@UBEN> · <@UCARL>" in text[text.index("thank you for noticing") :]
    assert "took a moment" not in text and "wall" not in text
    assert report.period == "2026-W47"


def test_values_count_kudos_messages_not_recipients(slack, ctx, fake_slack, clock):
    slack.command("/kudos", "<@UANA|ana> <@UBEN|ben> <@UCARL|carl> thanks for the release night #teamwork", user="UDAN")
    slack.command("/kudos", "<@UANA|ana> thanks for owning the backlog #teamwork #ownership", user="UEVE")
    fake_slack.clear()
    clock.set(FRIDAY_1600)

    run_job(ctx, "weekly-celebration")

    [post] = fake_slack.posts_to("CKUDOS")
    text = sent_text([post])
    assert "*4 kudos this week, for 3 teammates.*" in text
    assert "*Values tagged most:* `#teamwork` twice · `#ownership` once" in text
    first = "(1, first kudos :wave:)"
    assert f"<@UANA> (2, first kudos :wave:) · <@UBEN> {first} · <@UCARL> {first}" in text
    assert "this week's kudos came from:" in text and "<@UDAN> · <@UEVE>" in text
    print_blocks(post)


def test_a_quiet_week_gets_a_kind_word(ctx, fake_slack, clock):
    clock.set(FRIDAY_1600)
    run_job(ctx, "weekly-celebration")
    [post] = fake_slack.posts_to("CKUDOS")
    assert post["text"].startswith(":seedling: *A quiet week for kudos.*") and "/kudos @them" in post["text"]
    assert "wall" not in post["text"]


def test_a_big_team_is_split_within_block_kit_limits(ctx, fake_slack, clock):
    people = [f"U{n:05d}" for n in range(2000)]
    with ctx.session_factory.begin() as session:
        for n, person in enumerate(people):
            if n % 2:  # half of them were recognised before
                session.add(kudos("UGIVER", person, datetime(2026, 10, 1, 10, tzinfo=PARIS)))
            session.add(kudos("UGIVER", person, datetime(2026, 11, 18, 10, tzinfo=PARIS), "learning"))
    clock.set(FRIDAY_1600)

    run_job(ctx, "weekly-celebration")

    posts = fake_slack.posts_to("CKUDOS")
    assert all(len(post["blocks"]) <= MAX_BLOCKS for post in posts)
    sections = [b["text"]["text"] for post in posts for b in post["blocks"] if b["type"] == "section"]
    assert all(len(text) <= MAX_SECTION_TEXT for text in sections)
    everyone = "\n".join(sections[[i for i, t in enumerate(sections) if "Everyone recognised" in t][0] :])
    # Everyone once, with their count, and the first kudos ever beside half of them.
    assert sorted(re.findall(r"<@(U\d+)> \(1[,)]", everyone)) == people
    assert sorted(re.findall(r"<@(U\d+)> \(1, first kudos :wave:\)", everyone)) == people[::2]
    assert sorted(re.findall(r"<@(U\d+)>", "\n".join(sections))) == sorted(people)  # UGIVER is no U-digit


def test_more_sections_than_one_message_holds_go_in_several_messages():
    people = [(f"U{n:08d}", 1) for n in range(12000)]
    kudos_part = WeekPart(week_blocks(12000, ["UGIVER"], people, [], []), summary="12000 kudos for 12000 teammates")
    ideas_part = WeekPart(
        implemented_this_week([Idea(id=1, title="Refund macro", author_id="UANA")]), "1 idea implemented"
    )

    messages = celebration([kudos_part, ideas_part])

    assert len(messages) > 1
    assert all(len(blocks) <= MAX_BLOCKS for _, blocks in messages)
    assert messages[1][0] == f"This week's celebration, continued (2/{len(messages)})"
    mentioned = re.findall(r"<@(U\d+)>", "".join(str(blocks) for _, blocks in messages))
    assert len(mentioned) == len(set(mentioned)) == 12000


def test_ideas_implemented_this_week_are_celebrated(slack, ctx, fake_slack, clock):
    clock.set(datetime(2026, 11, 10, 10, tzinfo=PARIS))
    slack.command("/idea", "Macro for refund status", user="UANA")
    slack.command("/idea", "Shared glossary for billing terms", user="UBEN")
    slack.command("/idea", "status 1 implemented", user="ULEAD")  # last week
    clock.set(datetime(2026, 11, 18, 10, tzinfo=PARIS))
    slack.command("/idea", "status 2 implemented in the help centre", user="ULEAD")
    fake_slack.clear()
    clock.set(FRIDAY_1600)

    run_job(ctx, "weekly-celebration")

    text = sent_text(fake_slack.posts_to("CKUDOS"))
    assert "Shared glossary for billing terms" in text and "Macro for refund status" not in text
    assert "A quiet week" not in text


def recognised_in(post) -> list[str]:
    text = sent_text([post])
    return re.findall(r"<@(U\w+)> \(\d+[,)]", text[text.index("Everyone recognised") :])


def test_each_celebration_covers_everything_since_the_previous_one(ctx, fake_slack, clock):
    with ctx.session_factory.begin() as session:
        session.add_all(
            [
                kudos("UBEN", "UOLD", datetime(2026, 11, 6, 15, tzinfo=PARIS)),  # more than 7 days before the first
                kudos("UBEN", "USAT", datetime(2026, 11, 7, 11, tzinfo=PARIS)),  # the Saturday before: 7 days
                kudos("UBEN", "UFRIEVE", datetime(2026, 11, 13, 18, tzinfo=PARIS)),  # after the first celebration
                kudos("UBEN", "USUN", datetime(2026, 11, 15, 20, tzinfo=PARIS)),
                kudos("UBEN", "UTHU", datetime(2026, 11, 19, 9, tzinfo=PARIS)),
            ]
        )
    clock.set(datetime(2026, 11, 13, 16, 0, tzinfo=PARIS))  # the first celebration ever
    run_job(ctx, "weekly-celebration")
    clock.set(FRIDAY_1600)  # a week later
    run_job(ctx, "weekly-celebration")
    clock.advance(hours=1)
    run_job(ctx, "weekly-celebration", force=True)  # the same week again: the same span, to now

    first, second, again = fake_slack.posts_to("CKUDOS")
    assert recognised_in(first) == ["USAT"]
    assert recognised_in(second) == ["UFRIEVE", "USUN", "UTHU"]
    assert recognised_in(again) == ["UFRIEVE", "USUN", "UTHU"]


def test_every_part_the_celebration_shows_has_its_line_in_the_headline(help_desk, slack, ctx, fake_slack, clock):
    fake_slack.add_user("UANA", "ana", email="ana@example.com")
    wednesday = datetime(2026, 11, 18, 10, tzinfo=PARIS)
    with ctx.session_factory.begin() as session:
        session.add(kudos("UBEN", "UANA", wednesday))
        session.add(Idea(id=1, title="Refund macro", author_id="UANA", status="implemented", created_at=wednesday))
        session.flush()
        session.add(IdeaStatusChange(idea_id=1, from_status="new", to_status="implemented", changed_at=wednesday))
    clock.set(wednesday)
    slack.command("/lesson", "Repeat the order number back before you refund", user="UBEN")
    slack.command("/lesson", "promote 1", user="UADMIN")
    slack.command("/goal", "add Handle refunds end to end", user="UCARL")
    slack.command("/goal", "done 1", user="UCARL")
    assert help_desk.zendesk(rating("7"))[0] == 200
    fake_slack.clear()
    clock.set(FRIDAY_1600)
    with ctx.session_factory() as session:  # this week has something for every feature that celebrates
        showing = [
            feature.name
            for feature in ctx.features
            if feature.week and feature.week(session, ctx.settings, (wednesday, clock()), EVERYONE)
        ]
    assert showing == [feature.name for feature in ctx.features if feature.week]

    run_job(ctx, "weekly-celebration")

    [post] = fake_slack.posts_to("CKUDOS")
    assert post["text"] == (
        ":tada: This week, together: 1 kudos for 1 teammate; 1 customer compliment; 1 idea implemented; "
        "1 lesson became a tip; 1 goal reached"
    )


def test_a_part_of_the_celebration_needs_its_line_for_the_headline():
    with pytest.raises(ValueError, match="summary"):
        WeekPart(implemented_this_week([Idea(id=1, title="Refund macro", author_id="UANA")]), summary="")


def test_a_team_with_a_channel_gets_its_part_there_too_about_its_people_only(slack, ctx, fake_slack, clock):
    slack.command(
        "/kaizen", "team add Tier 1 lead <@UMARIA|m> members <@UANA|a> <@UBEN|b> channel <#CTIER1|tier1>", user="UADMIN"
    )
    slack.command("/kaizen", "team add Tier 2 lead <@ULI|li> members <@UCARL|c>", user="UADMIN")  # no channel
    with ctx.session_factory.begin() as session:
        session.add_all(
            [
                kudos("UCARL", "UANA", datetime(2026, 11, 17, 10, tzinfo=PARIS), "teamwork"),
                kudos("UANA", "UCARL", datetime(2026, 11, 18, 10, tzinfo=PARIS), "ownership"),
            ]
        )
    clock.set(FRIDAY_1600)
    fake_slack.clear()

    report = run_job(ctx, "weekly-celebration")

    [everyone] = fake_slack.posts_to("CKUDOS")
    assert "<@UANA>" in sent_text([everyone]) and "<@UCARL>" in sent_text([everyone])
    [team] = fake_slack.posts_to("CTIER1")
    assert team["text"] == ":tada: This week in Tier 1, together: 1 kudos for 1 teammate"
    assert team["blocks"][0]["text"]["text"] == ":tada: This week in Tier 1, together"
    shown = sent_text([team])
    assert "<@UANA> (1" in shown  # its person recognised
    assert "<@UCARL>" not in shown and "ownership" not in shown  # its people only
    assert report.lines[-1].startswith("Tier 1's part to <#CTIER1> in 1 message(s)")
    assert len(report.lines) == 2  # Tier 2 has no channel
