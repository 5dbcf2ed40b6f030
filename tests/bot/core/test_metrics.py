"""GET /metrics: what the outbox, the requests and the jobs counted, the outbox's gauges read from the
database, and label values that never carry a user ID, text or a secret. (Summed over gunicorn's
workers: tests/test_end_to_end.py.)"""

from __future__ import annotations

import os
import re

import pytest
from prometheus_client import REGISTRY, values
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError

from bot.core import metrics
from bot.core.http import wsgi_app
from bot.core.jobs import run_job
from bot.core.metrics import MULTIPROC_DIR, share_between_workers
from tests.handlers.test_feedback import answer_values, click_answer, feedback_rows
from tests.wsgi_requests import call

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(ctx, app=None) -> tuple[Samples, str]:
    status, page = call(wsgi_app(app, ctx), "GET", "/metrics")
    assert status == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }
    return samples, page


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_requests_sends_refusals_429s_and_job_runs_are_counted(app, slack, ctx, clock, fake_slack):
    before, _ = scrape(ctx, app)

    fake_slack.fail("chat.postMessage", status=429, retry_after=1)  # the celebration waits it out, then goes
    slack.command("/kudos", "<@UANA|ana> thanks for the cover")
    fake_slack.fail("chat.postMessage", error="not_in_channel")  # this celebration is refused for good
    slack.command("/kudos", "<@UBEN|ben> thanks for the macro")
    fake_slack.fail("chat.postMessage", status=429, retry_after=120)  # the tip's post: longer than a job waits
    run_job(ctx, "daily-tip")
    run_job(ctx, "daily-tip")  # the period ran already
    clock.advance(seconds=90)

    after, _ = scrape(ctx, app)
    assert grew(before, after, "kaizen_requests_total", kind="command") == 2
    assert grew(before, after, "kaizen_request_ack_seconds_count", kind="command") == 2
    assert grew(before, after, "kaizen_request_ack_seconds_bucket", kind="command", le="+Inf") == 2
    assert grew(before, after, "kaizen_outbox_sent_total", method="chat.postMessage") == 3  # 1 post and 2 DMs
    assert grew(before, after, "kaizen_outbox_failed_total", method="chat.postMessage", error="not_in_channel") == 1
    assert grew(before, after, "kaizen_slack_ratelimited_total", method="chat.postMessage") == 2
    assert grew(before, after, "kaizen_job_runs_total", job="daily-tip", outcome="ran") == 1
    assert grew(before, after, "kaizen_job_runs_total", job="daily-tip", outcome="skipped") == 1
    assert grew(before, after, "kaizen_job_duration_seconds_count", job="daily-tip") == 1
    # Read from the database at the scrape: the tip's post waits, written 90 s ago.
    assert value(after, "kaizen_outbox_waiting", method="chat.postMessage") == 1
    assert value(after, "kaizen_outbox_oldest_waiting_seconds") == 90
    assert value(after, "kaizen_slack_token_refused") == 0


def test_a_failed_job_run_and_a_refused_token_are_counted(ctx, fake_slack):
    before, _ = scrape(ctx)
    fake_slack.fail("users.list", error="missing_scope")
    with pytest.raises(SlackApiError):
        run_job(ctx, "member-directory")
    fake_slack.fail("chat.postMessage", error="token_revoked", times=5)
    run_job(ctx, "daily-tip")

    after, _ = scrape(ctx)  # the small server beside Socket Mode serves /metrics too (no Bolt app)
    assert grew(before, after, "kaizen_job_runs_total", job="member-directory", outcome="failed") == 1
    assert grew(before, after, "kaizen_job_duration_seconds_count", job="member-directory") == 1
    assert value(after, "kaizen_slack_token_refused") == 1
    assert value(after, "kaizen_outbox_waiting", method="chat.postMessage") == 1


KNOWN_VALUES = {
    "kind": {"command", "action", "view", "event", "shortcut", "options", "other"},
    "outcome": {"ran", "skipped", "dry-run", "failed"},
}
LABEL_VALUE = {
    "method": r"[a-z]+(\.[a-zA-Z0-9]+)+",  # a Web API method
    "error": r"[a-z][a-z0-9_]*",  # Slack's error code, http_500, connection, unexpected, never_posted
    "job": r"[a-z][a-z-]*",
    "le": r"[0-9.+Inf]+",
}


def test_no_label_carries_a_user_id_text_or_a_secret(app, slack, ctx, clock, fake_slack):
    """Label values are few and known: a sample per person or per message would leak and never stop growing."""
    fake_slack.fail("chat.postMessage", drop=True)  # the celebration: no connection, retried later
    slack.command("/kudos", "<@UANA|ana> thanks for the 3am escalation call #teamwork", user="UGIVER")
    slack.command("/feedback", "request <@UBEN|ben> about the outage", user="UREQ")
    view = click_answer(slack, fake_slack, feedback_rows(ctx)[0].id, "UBEN")
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    slack.view_submission(
        "feedback_modal", answer_values("Calm under fire", anonymous=True), user="UBEN", **_metadata(view)
    )
    clock.advance(days=2)  # past every retry's backoff, and the 24 hours: what still fails is given up on
    fake_slack.fail("chat.postMessage", drop=True, times=10)
    ctx.outbox.sweep()
    run_job(ctx, "daily-tip")

    samples, page = scrape(ctx, app)

    kaizen = [(name, labels) for name, labels in samples if name.startswith("kaizen_")]
    assert {"connection", "channel_not_found"} <= {v for _, labels in kaizen for k, v in labels if k == "error"}
    for name, labels in kaizen:
        for label, label_value in labels:
            if label in KNOWN_VALUES:
                assert label_value in KNOWN_VALUES[label], (name, label, label_value)
            else:
                assert re.fullmatch(LABEL_VALUE[label], label_value), (name, label, label_value)
    for private in ("UANA", "UBEN", "UGIVER", "UREQ", "escalation", "Calm under fire", "outage", "xoxb-", "T1"):
        assert private not in page, private


def _metadata(view: dict) -> dict:
    return {"private_metadata": view["private_metadata"]}


def test_a_failure_that_is_no_slack_error_is_labelled_by_its_kind():
    def counted_as(label: str, status: int | None, error: str) -> float:
        sample = ("kaizen_outbox_failed_total", {"method": "chat.update", "error": label})
        before = REGISTRY.get_sample_value(*sample) or 0.0
        metrics.count_failed("chat.update", status, error)
        return REGISTRY.get_sample_value(*sample) - before

    assert counted_as("not_in_channel", 200, "not_in_channel") == 1
    assert counted_as("http_413", 413, "Request Entity Too Large <html>") == 1
    assert counted_as("connection", None, "connection: [Errno 104] Connection reset by peer") == 1
    assert counted_as("unexpected", None, "unexpected KeyError: 'ts' for U123 and their text") == 1


def test_gunicorn_workers_count_in_a_directory_emptied_at_start_or_a_temporary_one(tmp_path, monkeypatch):
    monkeypatch.delenv(MULTIPROC_DIR, raising=False)
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_99999.db").write_bytes(b"a dead run's counts")
    (shared / "notes.txt").write_text("not prometheus_client's")
    class_before = values.ValueClass

    with share_between_workers(str(shared)) as directory:
        assert directory == shared and os.environ[MULTIPROC_DIR] == str(shared)
        assert [p.name for p in shared.iterdir()] == ["notes.txt"]
        assert values.ValueClass._multiprocess  # what a worker forked now counts with
    assert values.ValueClass is class_before and MULTIPROC_DIR not in os.environ

    with share_between_workers(None) as temporary:
        assert temporary.is_dir() and os.environ[MULTIPROC_DIR] == str(temporary)
    assert not temporary.exists() and MULTIPROC_DIR not in os.environ


def test_a_gunicorn_worker_leaving_leaves_the_temporary_directory_to_the_server(monkeypatch):
    monkeypatch.delenv(MULTIPROC_DIR, raising=False)
    try:
        with share_between_workers(None) as temporary:
            worker = os.fork()
            if worker == 0:
                raise SystemExit(0)  # as a gunicorn worker leaves, through the frames it was forked in
            os.waitpid(worker, 0)
            assert temporary.is_dir() and os.environ[MULTIPROC_DIR] == str(temporary)
    except SystemExit:
        os._exit(0)  # only the worker gets here
    assert not temporary.exists()
