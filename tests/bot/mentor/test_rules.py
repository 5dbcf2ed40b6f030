from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.mentor.rules import (
    MentorRefused,
    add_skills,
    mentors_offering,
    next_matching,
    parse_skills,
    round_of,
    round_starting,
    stop,
)
from storage.mentor import OFFER, WANT

PARIS = ZoneInfo("Europe/Paris")
KNOWN = ("billing", "written-tone")


def test_skills_are_tags_channel_links_or_known_words():
    assert parse_skills("#Billing, <#C0123|written-tone> billing #SQL-basics.", KNOWN) == [
        "billing",
        "written-tone",
        "sql-basics",
    ]
    assert parse_skills("<#G0123|de-escalation>", KNOWN) == ["de-escalation"]
    assert parse_skills("   ", KNOWN) == []


@pytest.mark.parametrize(
    "text", ["#billing and #coaching", "<@U1|ana>", "<#C0123>", "#", "#a/b", "<!channel>", "#" + "x" * 41]
)
def test_anything_else_is_refused_on_the_field_it_came_from(text):
    with pytest.raises(MentorRefused) as refused:
        parse_skills(text, KNOWN, "offer_tags")
    assert refused.value.field == "offer_tags"
    assert "<!channel>" not in refused.value.reason and "<@U1" not in refused.value.reason


def test_mentors_offering_a_skill_for_someone_who_is_stuck(ctx):
    with ctx.transaction() as session:
        add_skills(session, "UMAYA", OFFER, ["billing", "coaching"], ctx.now())
        add_skills(session, "UNOAH", OFFER, ["billing"], ctx.now())
        add_skills(session, "UOLGA", OFFER, ["billing"], ctx.now())
        add_skills(session, "UANA", WANT, ["billing"], ctx.now())
        stop(session, "UOLGA", [])

    with ctx.session_factory() as session:
        assert mentors_offering(session, "billing") == ["UMAYA", "UNOAH"]
        assert mentors_offering(session, "#Coaching") == ["UMAYA"]
        assert mentors_offering(session, "written-tone") == []


def test_rounds_every_n_weeks_counted_from_a_fixed_monday(settings):
    assert round_starting(date(2026, 11, 18), 2) == date(2026, 11, 16)
    assert round_starting(date(2026, 11, 23), 2) is None
    assert round_starting(date(2026, 11, 29), 2) is None  # the Sunday of the off week
    assert round_starting(date(2026, 11, 30), 2) == date(2026, 11, 30)
    assert round_starting(date(2026, 11, 23), 1) == date(2026, 11, 23)
    # Across the new year too: 2026 has 53 ISO weeks, so "even weeks" would not do.
    assert [round_starting(date(2026, 12, 28), 2), round_starting(date(2027, 1, 4), 2)] == [date(2026, 12, 28), None]
    # The round a day falls in, in its first week or a later one.
    assert [round_of(date(2026, 11, d), 2) for d in (16, 22, 23, 29, 30)] == [date(2026, 11, 16)] * 4 + [
        date(2026, 11, 30)
    ]
    assert [round_of(date(2026, 11, 13), 3), round_of(date(2026, 12, 6), 3)] == [date(2026, 10, 26), date(2026, 11, 16)]

    assert next_matching(settings, datetime(2026, 11, 16, 9, 59, tzinfo=PARIS)) == datetime(
        2026, 11, 16, 10, 0, tzinfo=PARIS
    )
    assert next_matching(settings, datetime(2026, 11, 16, 10, 0, tzinfo=PARIS)) == datetime(
        2026, 11, 30, 10, 0, tzinfo=PARIS
    )
