"""The help desks' webhooks, through the WSGI app: signatures, bodies, ratings, agents, and what Slack gets."""

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot.core.manifest import bot_scopes
from bot.core.pseudonym import pseudonym
from bot.features import FEATURES, tables
from bot.kudos.rules import celebration_key
from storage import outbox as outbox_store
from storage.compliments import Compliment
from storage.kudos import Kudos
from storage.models import OutboxMessage
from tests.help_desk import (
    COMPLIMENTS_PATH,
    COMPLIMENTS_SECRET,
    ZENDESK_PATH,
    ZENDESK_SECRET,
    kaizen_headers,
    rating,
    zendesk_headers,
)
from tests.wsgi_requests import CountingInput, call, chunked, environ_for, respond

COMMENT = "Ana fixed it in five minutes, thank you!"
TICKET_LINK = "<https://acme.zendesk.com/agent/tickets/4711|Ticket 4711>"


@pytest.fixture(autouse=True)
def agents(fake_slack):
    fake_slack.add_user("UANA", "ana", email="ana@example.com")
    fake_slack.add_user("UBEN", "ben", email="Ben@Example.com")


def rows(ctx, model) -> list:
    with ctx.session_factory() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def nothing_kept(ctx, fake_slack) -> bool:
    with ctx.session_factory() as session:
        counts = [session.scalar(select(func.count()).select_from(m)) for m in (Kudos, Compliment, OutboxMessage)]
    return counts == [0, 0, 0] and fake_slack.calls_to("chat.postMessage") == []


def test_a_zendesk_compliment_is_a_kudos_from_a_customer_and_a_dm(help_desk, ctx, fake_slack):
    assert help_desk.zendesk(rating()) == (200, "recorded: the agent is thanked in Slack\n")

    [kudos] = rows(ctx, Kudos)
    assert (kudos.giver_id, kudos.recipient_id, kudos.source, kudos.ticket_id) == (None, "UANA", "customer", "4711")
    assert kudos.message == f"{COMMENT}\n{TICKET_LINK}"
    [compliment] = rows(ctx, Compliment)
    assert (compliment.desk, compliment.ticket_id, compliment.rating) == ("zendesk", "4711", "good")
    assert compliment.agent_email_hash is None  # a matched agent is the kudos' recipient
    [dm] = fake_slack.posts_to("UANA")
    blocks = json.dumps(dm["blocks"])
    assert "A customer thanked you" in dm["text"] and COMMENT in blocks and TICKET_LINK in blocks
    assert "rated good" in blocks
    assert fake_slack.posts_to("CKUDOS") == []  # KAIZEN_COMPLIMENTS_PUBLIC is false by default


def test_any_help_desk_signs_with_the_kaizen_headers_and_unix_seconds(help_desk, ctx, fake_slack):
    status, reason = help_desk.other(rating("FD-88", rating=5, agent_email="BEN@example.com", comment=""))

    assert (status, reason) == (200, "recorded: the agent is thanked in Slack\n")
    [kudos] = rows(ctx, Kudos)
    assert (kudos.recipient_id, kudos.ticket_id) == ("UBEN", "FD-88")
    assert kudos.message.startswith("Rated the ticket 5 of 5\n")
    [dm] = fake_slack.posts_to("UBEN")
    assert "They rated it 5 of 5, without a comment" in json.dumps(dm["blocks"])
    assert rows(ctx, Compliment)[0].desk == "other"


@pytest.mark.parametrize(
    "path, headers",
    [
        (ZENDESK_PATH, lambda body, at: {}),
        (
            ZENDESK_PATH,
            lambda body, at: {"X-Zendesk-Webhook-Signature": zendesk_headers(body, at)["X-Zendesk-Webhook-Signature"]},
        ),
        (ZENDESK_PATH, lambda body, at: zendesk_headers(body, at, secret="not-the-secret")),
        (ZENDESK_PATH, lambda body, at: zendesk_headers(rating(comment="something else"), at)),
        (
            ZENDESK_PATH,
            lambda body, at: {
                **zendesk_headers(body, at),
                "X-Zendesk-Webhook-Signature-Timestamp": (at - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        ),
        (ZENDESK_PATH, lambda body, at: kaizen_headers(body, at, secret=ZENDESK_SECRET)),  # the other desk's headers
        (COMPLIMENTS_PATH, lambda body, at: zendesk_headers(body, at, secret=COMPLIMENTS_SECRET)),
        (COMPLIMENTS_PATH, lambda body, at: kaizen_headers(body, at, secret=ZENDESK_SECRET)),
        (COMPLIMENTS_PATH, lambda body, at: {**kaizen_headers(body, at), "X-Kaizen-Signature": "bm90IGl0"}),
    ],
    ids=[
        "none",
        "no-timestamp",
        "wrong-secret",
        "another-body",
        "timestamp-changed",
        "kaizen-headers-on-zendesk",
        "zendesk-headers-on-compliments",
        "zendesk-secret-on-compliments",
        "garbage",
    ],
)
def test_a_bad_or_missing_signature_gets_401_and_keeps_nothing(help_desk, ctx, fake_slack, clock, path, headers):
    body = rating()
    status, reason = help_desk.post(path, body, headers(body, clock()))

    assert status == 401 and reason.count("\n") == 1
    assert nothing_kept(ctx, fake_slack) and fake_slack.calls_to("users.lookupByEmail") == []


@pytest.mark.parametrize("minutes, status", [(-6, 401), (6, 401), (-4, 200), (4, 200)])
def test_a_timestamp_more_than_5_minutes_away_gets_401(help_desk, ctx, fake_slack, clock, minutes, status):
    at = clock() + timedelta(minutes=minutes)

    assert help_desk.zendesk(rating(), at=at)[0] == status
    assert help_desk.other(rating("FD-1"), at=at)[0] == status
    assert len(rows(ctx, Kudos)) == (0 if status == 401 else 2)


def test_a_stale_request_says_why_in_one_line(help_desk, clock):
    status, reason = help_desk.zendesk(rating(), at=clock() - timedelta(minutes=10))
    assert (status, reason) == (401, "the timestamp is more than 5 minutes away from now\n")


def test_an_endpoint_whose_secret_is_not_set_answers_404(request, env, engine, fake_slack):
    env["KAIZEN_COMPLIMENTS_SECRET"] = ""  # only Zendesk is switched on
    help_desk, ctx = request.getfixturevalue("help_desk"), request.getfixturevalue("ctx")

    assert help_desk.other(rating("FD-1"), secret="")[0] == 404
    assert help_desk.other(rating("FD-1"))[0] == 404
    assert nothing_kept(ctx, fake_slack)
    assert help_desk.zendesk(rating())[0] == 200


def test_a_redelivery_of_a_ticket_records_once(help_desk, ctx, fake_slack, clock):
    assert help_desk.zendesk(rating())[0] == 200
    clock.advance(minutes=2)
    assert help_desk.zendesk(rating()) == (200, "ticket 4711 was already recorded\n")
    assert help_desk.zendesk(rating(comment="Changed my comment, still happy"))[0] == 200

    assert len(rows(ctx, Kudos)) == 1 and len(rows(ctx, Compliment)) == 1
    assert len(fake_slack.posts_to("UANA")) == 1
    # A ticket id is the help desk's: the same number from another desk is another ticket.
    assert help_desk.other(rating())[0] == 200
    assert len(rows(ctx, Kudos)) == 2


BAD_BODIES = {
    b"not json": "the body is not valid JSON",
    b"\xff\xfe": "the body is not valid JSON",
    b"[" * 5000 + b"]" * 5000: "the body is not valid JSON",
    b"[1, 2]": "the body must be a JSON object with ticket_id, ticket_url, agent_email, rating and comment",
    b"{}": "missing fields: ticket_id, ticket_url, agent_email, rating, comment",
    json.dumps({"ticket_id": 1, "ticket_url": "https://x.example/1", "agent_email": "a@b", "rating": 5}).encode(): (
        "missing field: comment"
    ),
    rating(rating="banana"): 'unknown rating "banana": send good, great, bad, offered, unoffered or 1 to 5',
    rating(rating=7): "unknown rating 7: send good, great, bad, offered, unoffered or 1 to 5",
    rating(rating=True): "unknown rating true: send good, great, bad, offered, unoffered or 1 to 5",
    rating(rating=None): "unknown rating null: send good, great, bad, offered, unoffered or 1 to 5",
    rating(rating=4.5): "unknown rating 4.5: send good, great, bad, offered, unoffered or 1 to 5",
    rating(ticket_id="=HYPERLINK(1)"): "ticket_id must be a number or a short code of letters, digits and . _ : -",
    rating(ticket_id=None): "ticket_id must be a number or a short code of letters, digits and . _ : -",
    rating(ticket_url="javascript:alert(1)"): "ticket_url must be an https link",
    rating(ticket_url="https://x.example/a|<!channel>"): "ticket_url must be an https link",
    rating(ticket_url="http://acme.zendesk.com/agent/tickets/4711"): "ticket_url must be an https link",
    rating(agent_email="nobody"): "agent_email must be an e-mail address",
    rating(comment=["thanks"]): "comment must be text (or empty)",
}


@pytest.mark.parametrize("body, reason", BAD_BODIES.items(), ids=range(len(BAD_BODIES)))
def test_a_bad_body_gets_400_with_a_one_line_reason(help_desk, ctx, fake_slack, body, reason):
    assert help_desk.zendesk(body) == (400, reason + "\n")
    assert nothing_kept(ctx, fake_slack)


def test_a_body_over_64_kb_is_refused_without_reading_it(help_desk, ctx, fake_slack, clock):
    padding = "x" * (64 * 1024 - len(rating(comment="")))
    exactly_64_kb = rating(comment=padding)
    assert len(exactly_64_kb) == 64 * 1024
    assert help_desk.zendesk(exactly_64_kb)[0] == 200  # the comment is cut for Slack, the body is fine
    assert len(rows(ctx, Kudos)[0].message) < 1000

    too_big = rating("4712", comment=padding + "x")
    declared = environ_for("POST", ZENDESK_PATH, too_big, zendesk_headers(too_big, clock()), "application/json")
    for environ, read in ((declared, 0), (chunked(declared), 64 * 1024 + 1)):  # declared, or sent in chunks
        environ["wsgi.input"] = CountingInput(too_big)
        assert respond(help_desk.application, environ) == (413, "the body is over 64 KB\n")
        assert environ["wsgi.input"].given == read
    assert len(rows(ctx, Kudos)) == 1


@pytest.mark.parametrize(
    "value, kept",
    [
        ("good", "good"),
        ("great", "great"),
        ("Great", "great"),
        (4, "4"),
        (5, "5"),
        ("5", "5"),
        (5.0, "5"),
        ("Good, I'm satisfied", "good"),
        (" GOOD ", "good"),
    ],
)
def test_good_great_4_and_5_are_compliments(help_desk, ctx, value, kept):
    assert help_desk.zendesk(rating(rating=value))[0] == 200
    assert [c.rating for c in rows(ctx, Compliment)] == [kept]


@pytest.mark.parametrize("value", ["bad", "offered", "unoffered", "Bad, I'm unsatisfied", 1, 2, 3, "3", 3.0])
def test_other_ratings_get_202_and_are_not_kept(help_desk, ctx, fake_slack, value):
    status, reason = help_desk.zendesk(rating(rating=value))
    assert status == 202 and reason.endswith("rating is not a compliment: nothing kept\n")
    assert nothing_kept(ctx, fake_slack) and fake_slack.calls_to("users.lookupByEmail") == []


def test_an_agent_not_in_slack_is_kept_unmatched_by_a_keyed_pseudonym(help_desk, ctx, fake_slack, engine):
    fake_slack.add_user("UGONE", "gone", deleted=True, email="gone@example.com")
    answers = [
        help_desk.zendesk(rating("1", agent_email="Carla.New@Example.com")),
        help_desk.zendesk(rating("2", agent_email="gone@example.com")),  # deactivated: no one to thank
        help_desk.zendesk(rating("3", agent_email="carla.new@example.com")),
    ]

    assert answers == [(200, "recorded as unmatched: no Slack member has the agent's e-mail\n")] * 3
    assert rows(ctx, Kudos) == [] and fake_slack.calls_to("chat.postMessage") == []
    carla, gone, carla_again = [c.agent_email_hash for c in rows(ctx, Compliment)]
    assert carla == carla_again != gone  # one agent, whatever the case of the address: the digest counts 2
    # Not the plain SHA-256, which hashing a staff directory would reverse: an HMAC keyed off the database.
    assert carla != hashlib.sha256(b"carla.new@example.com").hexdigest()
    assert carla == pseudonym(ctx.settings, "unmatched agent", "carla.new@example.com")
    with engine.connect() as connection:  # the address itself is nowhere in the database
        everything = " ".join(
            str(row) for table in tables().sorted_tables for row in connection.execute(text(f'SELECT * FROM "{table}"'))
        ).lower()
    assert "carla" not in everything and "gone@" not in everything and "example.com" not in everything


@pytest.mark.parametrize(
    "link",
    [
        "https://other.zendesk.com/agent/tickets/4711",
        "https://acme.zendesk.com.evil.example/agent/tickets/4711",
        "https://acme.zendesk.com@evil.example/agent/tickets/4711",
        "https://evil.example/acme.zendesk.com/agent/tickets/4711",
    ],
)
def test_with_a_zendesk_subdomain_zendesk_links_must_point_to_that_help_desk(request, env, engine, fake_slack, link):
    env["KAIZEN_ZENDESK_SUBDOMAIN"] = "Acme"
    help_desk, ctx = request.getfixturevalue("help_desk"), request.getfixturevalue("ctx")

    assert help_desk.zendesk(rating("1", ticket_url=link)) == (
        400,
        "ticket_url must be a link to https://acme.zendesk.com/\n",
    )
    assert nothing_kept(ctx, fake_slack)

    assert help_desk.zendesk(rating("2"))[0] == 200  # https://acme.zendesk.com/agent/tickets/2
    assert help_desk.other(rating("3", ticket_url=link))[0] == 200  # another desk's links are its own


def test_the_comment_is_escaped_and_pings_no_one(request, env, engine, fake_slack):
    env["KAIZEN_COMPLIMENTS_PUBLIC"] = "true"
    help_desk, ctx = request.getfixturevalue("help_desk"), request.getfixturevalue("ctx")
    comment = "<!channel> <!here|here> <@UBOSS> *great* & <https://evil.example|click> @everyone"

    assert help_desk.zendesk(rating(comment=comment))[0] == 200

    posts = fake_slack.posts_to("UANA") + fake_slack.posts_to("CKUDOS")
    assert len(posts) == 2
    for post in posts:
        sent = post["text"] + json.dumps(post["blocks"])
        assert "&lt;!channel&gt;" in sent and "&lt;@UBOSS&gt;" in sent and "&amp;" in sent
        assert "<!" not in sent and "<@UBOSS>" not in sent and "<https://evil" not in sent
    assert rows(ctx, Kudos)[0].message.startswith("&lt;!channel&gt; &lt;!here|here&gt; &lt;@UBOSS&gt;")


def test_compliments_public_also_celebrates_it_in_the_kudos_channel(request, env, engine, fake_slack):
    env["KAIZEN_COMPLIMENTS_PUBLIC"] = "true"
    help_desk = request.getfixturevalue("help_desk")

    help_desk.zendesk(rating())

    [post] = fake_slack.posts_to("CKUDOS")
    assert post["text"] == f":speech_balloon: A customer thanked <@UANA>! {COMMENT}"
    assert TICKET_LINK in json.dumps(post["blocks"])
    assert len(fake_slack.posts_to("UANA")) == 1  # the agent is DMed too
    # Posted under the kudos' celebration key, where editing a kudos' post (hiding it) looks for it.
    with request.getfixturevalue("ctx").session_factory() as session:
        assert outbox_store.by_key(session, celebration_key("compliment:zendesk:4711")).result["channel"] == "CKUDOS"


def test_agents_are_looked_up_by_email_once(help_desk, ctx, fake_slack):
    for ticket in ("1", "2", "3"):
        help_desk.zendesk(rating(ticket, agent_email="ANA@example.com"))
    help_desk.zendesk(rating("4", agent_email="nobody@example.com"))
    help_desk.zendesk(rating("5", agent_email="nobody@example.com"))

    assert [c["email"] for c in fake_slack.calls_to("users.lookupByEmail")] == ["ana@example.com", "nobody@example.com"]
    assert len(rows(ctx, Kudos)) == 3


def test_when_slack_cannot_say_who_the_agent_is_the_desk_is_asked_to_send_it_again(help_desk, ctx, fake_slack):
    fake_slack.fail("users.lookupByEmail", status=500)

    status, reason = help_desk.zendesk(rating())

    assert status == 503 and "send it again later" in reason
    assert nothing_kept(ctx, fake_slack)
    assert help_desk.zendesk(rating())[0] == 200  # the help desk's retry
    assert len(rows(ctx, Kudos)) == 1


def test_customer_compliments_never_count_against_a_daily_limit(help_desk, slack, ctx, fake_slack):
    for ticket in range(1, 8):  # more than KAIZEN_KUDOS_DAILY_LIMIT (5) in a day
        assert help_desk.zendesk(rating(str(ticket)))[0] == 200
    slack.command("/kudos", "<@UBEN|ben> thanks for the handover", user="UANA")

    assert len(rows(ctx, Kudos)) == 8
    [reply] = fake_slack.calls_to("response_url")
    assert "You have 4 left today" in reply["text"]


def test_the_integrations_take_only_posts(help_desk):
    assert call(help_desk.application, "GET", ZENDESK_PATH) == (405, "/integrations/zendesk takes a POST\n")


def test_the_manifest_asks_to_read_emails():
    assert "users:read.email" in bot_scopes(FEATURES)
