import csv
import io
from datetime import UTC, datetime

from bot.cli import main


def test_export_kudos_since_a_day_in_the_team_zone_shows_every_source(
    slack, fake_slack, ctx, clock, engine, env, monkeypatch, capsys, tmp_path
):
    clock.set(datetime(2026, 11, 17, 22, 30, tzinfo=UTC))  # 23:30 on the 17th in Paris: before
    slack.command("/kudos", "<@UANA|ana> late but great")
    clock.set(datetime(2026, 11, 17, 23, 30, tzinfo=UTC))  # 00:30 on the 18th in Paris: included
    slack.command("/kudos", "<@UANA|ana> night shift &amp; <https://kb.example.com|the KB page> #learning")
    clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    fake_slack.add_message("CGENERAL", "1700000100.000200", "Closed 40 tickets", user="UBEN")
    slack.event(
        {
            "type": "reaction_added",
            "user": "UCARL",
            "reaction": "clap",
            "item": {"type": "message", "channel": "CGENERAL", "ts": "1700000100.000200"},
            "item_user": "UBEN",
        }
    )
    slack.view_submission(
        "kudos_modal",
        {
            "recipients": {"recipients": {"selected_users": ["UBEN"]}},
            "message": {"message": {"value": "Calm with an angry caller"}},
            "values": {"values": {"selected_options": []}},
        },
        user="UANA",
        private_metadata='{"source": "shortcut", "link": "https://example.slack.com/archives/C1/p2"}',
    )
    for name, value in {**env, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env here

    assert main(["export", "kudos", "--since", "2026-11-18"]) == 0

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["date"], r["giver"], r["recipient"], r["source"]) for r in rows] == [
        ("2026-11-18T00:30:00+01:00", "UGIVER", "UANA", "command"),
        ("2026-11-18T10:00:00+01:00", "UCARL", "UBEN", "reaction"),
        ("2026-11-18T10:00:00+01:00", "UANA", "UBEN", "shortcut"),
    ]
    assert rows[0]["message"] == "night shift & the KB page (https://kb.example.com)"
    assert rows[0]["values"] == "learning"
    link = "https://example.slack.com/archives/CGENERAL/p1700000100000200"
    assert rows[1]["message"] == f"Closed 40 tickets\nSee the message ({link})"
    assert rows[2]["message"] == "Calm with an angry caller\nSee the message (https://example.slack.com/archives/C1/p2)"
