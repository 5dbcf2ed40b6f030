import csv
import io
import json
from datetime import date

from bot.core.exports import write_export
from bot.ideas.reports import EXPORT
from tests.bot.ideas.test_impact import impact_values


def exported(ctx, since=None):
    out = io.StringIO()
    with ctx.session_factory() as session:
        count = write_export(session, EXPORT, out, since, ctx.settings.timezone)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert count == len(rows) - 1
    return rows


def test_ideas_export_has_description_history_impact_merges_and_no_author_for_anonymous_ideas(slack, ctx, clock):
    slack.command(
        "/idea", "Refunds &amp; returns in one form\nboth at once, see <https://kb.example.com|the KB>", user="UANA"
    )
    slack.block_action("idea_vote", "1", user="UBEN")
    slack.block_action("idea_vote", "1", user="UCARL")
    clock.advance(hours=2)
    slack.command("/idea", "status 1 planned", user="ULEAD")
    clock.advance(days=1)
    slack.command("/idea", "status 1 declined not this quarter", user="ULEAD")
    clock.advance(minutes=5)
    slack.command("/idea", "status 1 planned after all", user="ULEAD")
    slack.view_submission(
        "idea_modal",
        {
            "title": {"title": {"value": "Rotate the weekend shift"}},
            "description": {"description": {"value": None}},
            "category": {"category": {"selected_option": {"value": "team"}}},
            "anonymous": {"anonymous": {"selected_options": [{"value": "anonymous"}]}},
        },
        user="UHIDDEN",
    )
    slack.command("/idea", "One form for refunds and returns", user="UDAN")
    slack.block_action("idea_vote", "3", user="UCARL")
    slack.block_action("idea_vote", "3", user="UEVE")
    clock.advance(days=6)
    slack.command("/idea", "merge 3 into 1", user="ULEAD")
    clock.advance(days=7)
    slack.view_submission(
        "idea_impact_modal",
        impact_values("Agents handle <both> in one go", "handle time", "9", "6", "min"),
        user="ULEAD",
        private_metadata=json.dumps({"idea": 1}),
    )

    history = (
        "planned 2026-11-18T12:00:00+01:00; declined 2026-11-19T12:00:00+01:00; "
        "planned 2026-11-19T12:05:00+01:00; implemented 2026-12-02T12:05:00+01:00"
    )
    dates = ["", "2026-11-19T12:05:00+01:00", "", "2026-12-02T12:05:00+01:00", "2026-11-19T12:00:00+01:00", ""]
    never = [""] * 6
    assert (
        exported(ctx)
        == [
            [
                "number",
                "date",
                "title",
                "description",
                "category",
                "status",
                "votes",
                "author",
                "merged_into",
                "impact",
                "measure",
                "measure_before",
                "measure_after",
                "measure_unit",
                "under_review_at",
                "planned_at",
                "in_progress_at",
                "implemented_at",
                "declined_at",
                "merged_at",
                "status_changes",
            ],
            [
                "1",
                "2026-11-18T10:00:00+01:00",
                "Refunds & returns in one form",
                "both at once, see the KB (https://kb.example.com)",
                "",
                "implemented",
                "3",  # Ben, Carl (who voted for both) and Eve, from #3
                "UANA",
                "",
                "Agents handle <both> in one go",
                "handle time",
                "9",
                "6",
                "min",
                *dates,
                history,
            ],
            [
                "2",
                "2026-11-19T12:05:00+01:00",
                "Rotate the weekend shift",
                "",
                "team",
                "new",
                "0",
                "",
                "",
                "",
                "",
                "",
                "",
            ]
            + ["", *never, ""],
            [
                "3",
                "2026-11-19T12:05:00+01:00",
                "One form for refunds and returns",
                "",
                "",
                "merged",
                "0",
                "UDAN",
                "1",
                "",
                "",
                "",
                "",
                "",
                *never[:-1],
                "2026-11-25T12:05:00+01:00",
                "merged 2026-11-25T12:05:00+01:00",
            ],
        ]
    )
    assert [row[0] for row in exported(ctx, since=date(2026, 11, 19))] == ["number", "2", "3"]
