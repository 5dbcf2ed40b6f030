from bot.core.text import truncate


def test_truncate_never_cuts_a_mention_a_link_or_an_entity_in_half():
    assert truncate("short", 10) == "short"
    assert truncate("thanks <@U0123456> for it", 12) == "thanks…"
    assert truncate("see <https://example.com/a|the page>", 20) == "see…"
    assert truncate("fish &amp; chips", 8) == "fish…"
    assert truncate("fish &amp; chips", 12) == "fish &amp;…"
