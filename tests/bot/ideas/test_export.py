import csv
import io
from datetime import date

from bot.core.exports import write_export
from bot.ideas.reports import EXPORT


def exported(ctx, since=None):
    out = io.StringIO()
    with ctx.session_factory() as session:
        count = write_export(session, EXPORT, out, since, ctx.settings.timezone)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert count == len(rows) - 1
    return rows


def test_ideas_export_has_description_status_history_votes_and_no_author_for_anonymous_ideas(slack, ctx, clock):
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

    history = "planned 2026-11-18T12:00:00+01:00; declined 2026-11-19T12:00:00+01:00; planned 2026-11-19T12:05:00+01:00"
    assert exported(ctx) == [
        ["number", "date", "title", "description", "category", "status", "votes", "author", "status_changes"],
        [
            "1",
            "2026-11-18T10:00:00+01:00",
            "Refunds & returns in one form",
            "both at once, see the KB (https://kb.example.com)",
            "",
            "planned",
            "2",
            "UANA",
            history,
        ],
        ["2", "2026-11-19T12:05:00+01:00", "Rotate the weekend shift", "", "team", "new", "0", "", ""],
    ]
    assert [row[0] for row in exported(ctx, since=date(2026, 11, 19))] == ["number", "2"]
