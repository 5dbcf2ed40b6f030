"""The log in both formats (KAIZEN_LOG_FORMAT): what each line is about (a request's kind, team and
channel; a job's name and period), and never user text, an anonymous giver's ID or a token."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.core.app import create_app
from bot.core.context import build_context
from bot.core.jobs import run_job
from bot.core.logs import JsonFormatter, TextFormatter, log_about, mask_tokens
from bot.core.settings import load_settings
from bot.features import FEATURES
from bot.feedback.blocks import ANSWER_BUTTON, FEEDBACK_MODAL
from tests.conftest import WEDNESDAY_MORNING, RunningClock, wait_for
from tests.handlers.test_feedback import answer_values, feedback_rows
from tests.slack_requests import SlackRequests

BOT_TOKEN = "xoxb-4242-distinctive-bot-token"
KUDOS_TEXT = "thanks for untangling the refund backlog"
FEEDBACK_TEXT = "You kept the caller calm through the outage"


@pytest.fixture(params=["text", "json"])
def log_format(request, env) -> str:
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, KAIZEN_LOG_FORMAT=request.param)
    return request.param


@pytest.fixture
def served(settings, engine, fake_slack):
    """As `kaizen run` serves Slack (listeners and the work after each ack on pools), but with no sweeper:
    each message is sent, and its failure logged, by the thread of the request or job that wrote it."""
    ctx = build_context(settings, FEATURES, engine=engine, clock=RunningClock(WEDNESDAY_MORNING), background_threads=4)
    app = create_app(ctx)
    yield ctx, SlackRequests(app, fake_slack.response_url())
    app.listener_runner.listener_executor.shutdown(wait=True)
    ctx.close()


@pytest.fixture
def log(log_format, settings):
    """Every line logged at INFO and up during the test, in the format the settings name."""
    assert settings.log_format == log_format
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def about(line: str, log_format: str) -> dict[str, str]:
    """What a line says it is about."""
    if log_format == "json":
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(entry)
        return {k: v for k, v in entry.items() if k in ("kind", "team", "channel", "job", "period")}
    start = line.find(" [")
    if start < 0 or "]: " not in line:
        return {}
    return dict(pair.split("=", 1) for pair in line[start + 2 : line.index("]: ")].split())


def test_a_kudos_an_anonymous_answer_and_a_job_say_what_they_are_about_and_nothing_private(
    log, log_format, served, fake_slack
):
    ctx, slack = served
    # Each step meets a failure, so the bot has something to log in each.
    fake_slack.fail("chat.postMessage", status=500)
    slack.command("/kudos", f"<@UANA|ana> {KUDOS_TEXT}", user="UGIVER", channel="CGENERAL")
    wait_for(lambda: "will be retried" in log.getvalue(), "the kudos' retry logged")

    slack.command("/feedback", "request <@UBEN|ben> about the outage", user="UREQ")
    wait_for(lambda: fake_slack.posts_to("UBEN"), "the request DM to Ben")
    [request] = feedback_rows(ctx)
    slack.block_action(ANSWER_BUTTON, str(request.id), user="UBEN", channel="D0BENSDM")
    wait_for(lambda: "private_metadata" in (fake_slack.modal() or {}), "the feedback form")
    fake_slack.fail("chat.postMessage", error="channel_not_found")  # the answer's DM to the requester
    slack.view_submission(
        FEEDBACK_MODAL,
        answer_values(FEEDBACK_TEXT, anonymous=True),
        user="UBEN",
        private_metadata=fake_slack.modal()["private_metadata"],
    )
    wait_for(lambda: "refused outbox message" in log.getvalue(), "the answer's refusal logged")

    fake_slack.fail("chat.postMessage", error="not_in_channel")  # the tip's post
    run_job(ctx, "daily-tip")

    lines = log.getvalue().splitlines()
    said = [about(line, log_format) for line in lines]
    assert {"kind": "command", "team": "T1", "channel": "CGENERAL"} in said
    assert {"kind": "view", "team": "T1"} in said
    assert {"job": "daily-tip", "period": "2026-11-18"} in said
    everything = log.getvalue()
    for private in (KUDOS_TEXT, FEEDBACK_TEXT, "outage", "UBEN", "D0BENSDM", BOT_TOKEN, "xoxb-"):
        assert private not in everything, private


def test_a_token_that_reaches_a_line_is_masked_in_both_formats():
    tokens = (BOT_TOKEN, "xapp-1-A1")
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "Slack said no to %s and %s", tokens, None)
    for formatter in (TextFormatter(), JsonFormatter()):
        line = formatter.format(record)
        assert BOT_TOKEN not in line and "xapp-1-A1" not in line and "xoxb-…" in line and "xapp-…" in line
    assert mask_tokens("token=xoxp-1-2-3 ok") == "token=xoxp-… ok"


def test_text_lines_stay_readable_and_json_lines_are_one_object_each():
    record = logging.LogRecord("bot.core.jobs", logging.INFO, __file__, 1, "daily-tip ran: %d lines", (3,), None)
    with log_about(job="daily-tip", period="2026-11-18"):
        text_line, json_line = TextFormatter().format(record), JsonFormatter().format(record)
    assert text_line.endswith(" INFO bot.core.jobs [job=daily-tip period=2026-11-18]: daily-tip ran: 3 lines")
    entry = json.loads(json_line)
    assert entry["message"] == "daily-tip ran: 3 lines" and entry["level"] == "INFO" and entry["job"] == "daily-tip"
    assert entry["logger"] == "bot.core.jobs" and entry["time"].endswith("+00:00")
    assert "\n" not in json_line


def test_the_log_format_is_text_or_json():
    assert load_settings({}, dotenv=False).log_format == "text"
    assert load_settings({"KAIZEN_LOG_FORMAT": "JSON"}, dotenv=False).log_format == "json"
    with pytest.raises(Exception, match="KAIZEN_LOG_FORMAT must be text or json"):
        load_settings({"KAIZEN_LOG_FORMAT": "xml"}, dotenv=False)
