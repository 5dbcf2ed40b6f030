"""Customer compliments wherever kudos show: stats, the Home tab, the leaderboard, the weekly
celebration, the lead digest and `kaizen export kudos`. Compliments arrive through the WSGI app."""

import csv
import io
import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.core.jobs import run_job
from tests.help_desk import rating

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def agents(fake_slack):
    fake_slack.add_user("UANA", "ana", email="ana@example.com")
    fake_slack.add_user("UBEN", "ben", email="ben@example.com")


def compliment_at(help_desk, clock, moment: datetime, ticket: str, email: str = "ana@example.com") -> None:
    clock.set(moment)
    assert help_desk.zendesk(rating(ticket, agent_email=email))[0] == 200


def blocks_text(post) -> str:
    return json.dumps(post["blocks"], ensure_ascii=False)


def test_stats_say_from_a_customer_and_the_leaderboard_ranks_compliments_apart(help_desk, slack, fake_slack):
    help_desk.zendesk(rating())
    slack.command("/kudos", "<@UANA|ana> thanks for covering my shift", user="UBEN")
    slack.command("/kudos", "<@UCARL|carl> thanks for the macro", user="UANA")
    fake_slack.clear()

    slack.command("/kudos", "stats <@UANA|ana>", user="UBEN")
    slack.command("/kudos", "leaderboard", user="UBEN")

    stats, board = (call["text"] for call in fake_slack.calls_to("response_url"))
    assert "2 in all (1 from customers)" in stats
    assert "• from a customer: Ana fixed it in five minutes, thank you!" in stats
    assert "• from <@UBEN>: thanks for covering my shift" in stats
    assert "*Most recognised this week*\n1. <@UANA> — 1 kudos\n2. <@UCARL> — 1 kudos\n" in board
    assert "*Thanked most by customers this week*\n1. <@UANA> — 1 compliment\n" in board


def test_a_compliment_republishes_the_agents_home_tab(help_desk, fake_slack):
    help_desk.zendesk(rating())

    [publish] = fake_slack.calls_to("views.publish")
    assert publish["user_id"] == "UANA"
    view = json.dumps(publish["view"], ensure_ascii=False)
    assert "1 this week · 1 in all (1 from customers)" in view
    assert "from a customer: Ana fixed it in five minutes, thank you!" in view


def test_the_weekly_celebration_says_who_customers_thanked(help_desk, slack, ctx, fake_slack, clock):
    compliment_at(help_desk, clock, datetime(2026, 11, 13, 10, tzinfo=PARIS), "1")  # last week
    compliment_at(help_desk, clock, datetime(2026, 11, 16, 10, tzinfo=PARIS), "2")
    compliment_at(help_desk, clock, datetime(2026, 11, 17, 10, tzinfo=PARIS), "3")
    compliment_at(help_desk, clock, datetime(2026, 11, 17, 11, tzinfo=PARIS), "4", "ben@example.com")
    compliment_at(help_desk, clock, datetime(2026, 11, 19, 10, tzinfo=PARIS), "5")
    slack.command("/kudos", "<@UDAN|dan> thanks for the handover", user="UCARL")
    fake_slack.clear()
    clock.set(datetime(2026, 11, 20, 16, tzinfo=PARIS))

    run_job(ctx, "weekly-celebration")

    [post] = fake_slack.posts_to("CKUDOS")
    text = blocks_text(post)
    assert post["text"] == ":tada: This week, together: 1 kudos for 1 teammate; 4 customer compliments"
    assert "customers thanked <@UANA> 3 times this week" in text
    assert "a customer thanked <@UBEN> this week" in text
    # Peer kudos are counted apart: one kudos, from one teammate; customers are not among the givers.
    assert "*1 kudos this week, for 1 teammate.*" in text
    givers = text[text.index("thank you for noticing") : text.index("Thanked by customers")]
    assert re.findall(r"<@(\w+)>", givers) == ["UCARL"]
    everyone = text[text.index("Everyone recognised") :]
    assert "<@UDAN> (1, first kudos :wave:)" in everyone and "<@UANA> (" not in everyone


def test_the_lead_digest_counts_compliments_per_person_and_the_unmatched(help_desk, ctx, fake_slack, clock):
    compliment_at(help_desk, clock, datetime(2026, 11, 10, 10, tzinfo=PARIS), "1")  # the 7 days before last
    compliment_at(help_desk, clock, datetime(2026, 11, 12, 10, tzinfo=PARIS), "2", "ben@example.com")
    compliment_at(help_desk, clock, datetime(2026, 11, 13, 10, tzinfo=PARIS), "3", "new@example.com")
    compliment_at(help_desk, clock, datetime(2026, 11, 17, 10, tzinfo=PARIS), "4")
    compliment_at(help_desk, clock, datetime(2026, 11, 18, 10, tzinfo=PARIS), "5")
    compliment_at(help_desk, clock, datetime(2026, 11, 19, 10, tzinfo=PARIS), "6", "new@example.com")
    compliment_at(help_desk, clock, datetime(2026, 11, 20, 10, tzinfo=PARIS), "7", "NEW@example.com")
    fake_slack.clear()
    clock.set(datetime(2026, 11, 23, 9, tzinfo=PARIS))

    run_job(ctx, "lead-digest")

    [dm] = fake_slack.posts_to("ULEAD")
    text = blocks_text(dm)
    assert "customer compliments" in dm["text"] and "2 customer compliments" in dm["text"]
    assert "• Customer compliments: *2* (before: 2, same as before)" in text
    assert "• Kudos: *0* (before: 0, same as before)" in text  # compliments are not counted twice
    assert "<@UANA> 2 (before: 1) · <@UBEN> 0 (before: 1)" in text
    assert "2 compliments in the last 7 days went to 1 agent Kaizen could not find in Slack by e-mail" in text
    assert "new@example.com" not in text and "Ana fixed it" not in text


def test_the_kudos_export_has_the_ticket_and_no_giver_for_a_customer(
    help_desk, slack, engine, env, monkeypatch, capsys, tmp_path
):
    help_desk.zendesk(rating(comment='Quick & kind: "=thanks"'))
    slack.command("/kudos", "<@UANA|ana> thanks for the cover", user="UBEN")
    for name, value in {**env, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    assert main(["export", "kudos"]) == 0

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["giver"], r["recipient"], r["source"], r["ticket"]) for r in rows] == [
        ("", "UANA", "customer", "4711"),
        ("UBEN", "UANA", "command", ""),
    ]
    assert rows[0]["message"] == 'Quick & kind: "=thanks"\nTicket 4711 (https://acme.zendesk.com/agent/tickets/4711)'
