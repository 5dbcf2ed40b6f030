"""User text in and out of Slack: escaping, mentions, and safe mrkdwn.

Everything a person typed is stored as *safe mrkdwn*: `&`, `<` and `>` appear only as
entities, except for real user/channel mentions and links Slack itself produced. Safe
mrkdwn can go into any message as it is; it never pings @channel/@here/@everyone.
"""

from __future__ import annotations

import html
import re

USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
# Every <...> token Slack puts in escaped text: mentions, channels, links, specials.
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")


def escape(raw: str) -> str:
    """Raw text (a modal field, a name) to safe mrkdwn."""
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def from_slack_formatted(text: str) -> str:
    """Slack-formatted text (a slash command with escaping on) to safe mrkdwn.

    Mentions of people and channels and plain links stay; @channel/@here/@everyone and
    user groups become their plain label, which pings no one.
    """

    def keep_or_defuse(match: re.Match[str]) -> str:
        inner = match[1]
        target, _, label = inner.partition("|")
        if re.fullmatch(r"@[UW][A-Z0-9]+", target):
            return f"<{target}>"
        if re.fullmatch(r"#[CG][A-Z0-9]+", target):
            return f"<{target}>"
        if re.fullmatch(r"(https?|mailto):[^\s|]+", target):
            return f"<{target}|{escape(label)}>" if label else f"<{target}>"
        if target.startswith("!date^"):
            return escape(label)
        if target.startswith("!"):
            # <!channel>, <!here>, <!everyone>, <!subteam^S1|@team>: keep the name, drop the ping.
            name = label or target[1:].split("^")[0]
            return escape(name if name.startswith("@") else "@" + name)
        return escape(label or target)

    return _SLACK_TOKEN.sub(keep_or_defuse, _normalize_entities(text))


def _normalize_entities(text: str) -> str:
    # Slack escapes only &, < and >; anything else that looks like an entity is literal text.
    return re.sub(r"&(?!(amp|lt|gt);)", "&amp;", text)


def to_plain(safe: str) -> str:
    """Safe mrkdwn back to what the person wrote, for CSV exports; links read `label (url)`."""
    text = re.sub(r"<([@#][A-Z0-9]+)>", r"\1", safe)
    text = re.sub(r"<([^<>|]+)\|([^<>]+)>", r"\2 (\1)", text)
    return html.unescape(re.sub(r"<([^<>]+)>", r"\1", text))


def mentioned_user_ids(text: str) -> list[str]:
    return list(dict.fromkeys(USER_MENTION.findall(text)))


def leading_mentions(text: str) -> tuple[list[str], str]:
    """`@ana @ben thanks …` → the people mentioned before the rest starts, and the rest."""
    leading = re.match(r"^(\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,]*)+", text)
    if not leading:
        return [], text
    return mentioned_user_ids(leading[0]), text[leading.end() :]


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def names(user_ids: list[str]) -> str:
    """`<@A>`, `<@A> and <@B>`, `<@A>, <@B> and <@C>`."""
    mentions = [mention(u) for u in user_ids]
    return mentions[0] if len(mentions) == 1 else ", ".join(mentions[:-1]) + " and " + mentions[-1]


def quote(message: str) -> str:
    return "\n".join("> " + line for line in message.splitlines() or [""])


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters; a cut never splits a mention, a link or an entity of safe mrkdwn."""
    if len(text) <= limit:
        return text
    return safe_prefix(text, limit - 1).rstrip() + "…"


def safe_prefix(text: str, limit: int) -> str:
    """The longest start of `text` of at most `limit` characters that does not end inside a mention,
    a link or an entity of safe mrkdwn."""
    return re.sub(r"(<[^>]*|&[a-z]*)$", "", text[:limit])


def plural(n: int, one: str, many: str) -> str:
    """`1 person`, `3 people`."""
    return f"{n} {one if n == 1 else many}"
