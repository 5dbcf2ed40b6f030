"""What implemented ideas changed, said in the weekly celebration and in the lead digest."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.jobs import run_job
from tests.bot.ideas.test_impact import impact_values

PARIS = ZoneInfo("Europe/Paris")


def implement_with_measure(slack, idea_id, impact, name, before, after, unit=""):
    slack.view_submission(
        "idea_impact_modal",
        impact_values(impact, name, before, after, unit),
        user="ULEAD",
        private_metadata=json.dumps({"idea": idea_id}),
    )


def sections_of(fake_slack, channel) -> str:
    return "\n\n".join(
        block["text"]["text"]
        for post in fake_slack.posts_to(channel)
        for block in post["blocks"]
        if block["type"] == "section"
    )


def test_the_celebration_thanks_each_author_with_what_their_idea_changed(slack, fake_slack, ctx, clock):
    clock.set(datetime(2026, 11, 10, 10, tzinfo=PARIS))
    slack.command("/idea", "Pre-fill the refund form", user="UANA")  # 1
    slack.command("/idea", "Shared glossary", user="UBEN")  # 2: implemented last week
    slack.command("/idea", "Night shift handover notes", user="UCARL")  # 3: implemented, then reopened
    slack.command("/idea", "Rude idea", user="UDAN")  # 4: implemented, then hidden
    slack.view_submission(
        "idea_modal",
        {
            "title": {"title": {"value": "Rotate the weekend shift"}},
            "description": {"description": {"value": None}},
            "category": {"category": {"selected_option": None}},
            "anonymous": {"anonymous": {"selected_options": [{"value": "anonymous"}]}},
        },
        user="UHIDDEN",
    )  # 5: anonymous
    slack.command("/idea", "status 2 implemented", user="ULEAD")
    clock.set(datetime(2026, 11, 18, 10, tzinfo=PARIS))
    implement_with_measure(slack, 1, "The form fills itself from the order", "refund handle time", "9", "6", "min")
    slack.command("/idea", "status 5 implemented Every other weekend, by rota", user="ULEAD")
    for command in ("status 3 implemented", "status 3 planned", "status 4 implemented"):
        slack.command("/idea", command, user="ULEAD")
    slack.command("/kaizen", "hide idea 4", user="UADMIN")
    fake_slack.clear()
    clock.set(datetime(2026, 11, 20, 16, tzinfo=PARIS))

    run_job(ctx, "weekly-celebration")

    text = sections_of(fake_slack, "CKUDOS")
    assert "• #1 *Pre-fill the refund form* — thank you <@UANA>!" in text
    assert (
        "*What changed:* The form fills itself from the order  ·  "
        ":chart_with_upwards_trend: refund handle time: 9 min → 6 min"
    ) in text
    assert "• #5 *Rotate the weekend shift* — thank you to whoever suggested it!" in text
    assert "*What changed:* Every other weekend, by rota" in text
    for left_out in ("Shared glossary", "Night shift", "Rude idea", "UHIDDEN"):
        assert left_out not in text


def test_the_digest_lists_ideas_implemented_this_quarter_with_their_measures(slack, fake_slack, ctx, clock):
    clock.set(datetime(2026, 9, 20, 10, tzinfo=PARIS))
    for title in ("Macro library", "Refund form", "Callback slots", "Glossary", "Glossary again"):
        slack.command("/idea", title, user="UANA")
    clock.set(datetime(2026, 9, 30, 23, 30, tzinfo=PARIS))  # the last half hour of Q3
    slack.command("/idea", "status 1 implemented", user="ULEAD")
    clock.set(datetime(2026, 10, 1, 0, 30, tzinfo=PARIS))
    slack.command("/idea", "status 2 implemented The form copies the order " + "in every detail " * 10, user="ULEAD")
    clock.set(datetime(2026, 11, 20, 10, tzinfo=PARIS))  # this week
    implement_with_measure(slack, 3, "Customers pick a slot", "abandoned calls", "14", "9", "%")
    slack.command("/idea", "merge 5 into 4", user="ULEAD")
    fake_slack.clear()
    clock.set(datetime(2026, 11, 23, 9, tzinfo=PARIS))

    run_job(ctx, "lead-digest")

    text = sections_of(fake_slack, "ULEAD")
    quarter = text[text.index("*Ideas implemented in Q4 2026*") :].split("\n\n")[0].splitlines()
    assert quarter[0] == "*Ideas implemented in Q4 2026* — 2, 1 with a measure:"
    assert quarter[1].startswith("• #2 Refund form — The form copies the order in every detail")
    assert len(quarter[1]) < 150 and quarter[1].endswith("…")
    assert quarter[2] == "• #3 Callback slots — abandoned calls: 14% → 9%"
    assert len(quarter) == 3  # #1 was implemented in Q3
    assert "• Ideas: 1 implemented, 1 merged" in text
