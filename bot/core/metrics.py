"""Prometheus metrics, served at `GET /metrics`: counters counted where things happen (the outbox, each
request from Slack, each run of a job), and the outbox's gauges read from the database at each scrape.

Under gunicorn each worker counts in files of its own in a directory shared by them all
(prometheus_client's multiprocess mode), and /metrics sums every worker's, whichever worker answers.
Label values are bounded: Web API methods, Slack's error codes, request kinds, job names and outcomes;
never a user ID, text or secret.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from storage.admin import oldest_waiting_written, waiting_by_method

log = logging.getLogger(__name__)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Every metric has labels, so none holds a value until it first counts (see share_between_workers).
OUTBOX_SENT = Counter("kaizen_outbox_sent_total", "Messages Slack accepted", ["method"])
OUTBOX_FAILED = Counter(
    "kaizen_outbox_failed_total", "Messages given up on: refused by Slack, or 24 hours of retries", ["method", "error"]
)
SLACK_RATELIMITED = Counter("kaizen_slack_ratelimited_total", "429 answers from Slack's Web API", ["method"])
REQUESTS = Counter("kaizen_requests_total", "Requests from Slack", ["kind"])
ACK_SECONDS = Histogram(
    "kaizen_request_ack_seconds",
    "From a request's arrival to its acknowledgement (Slack allows 3 s)",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
JOB_RUNS = Counter(
    "kaizen_job_runs_total", "Runs of jobs: ran, skipped (ran already), dry-run, failed", ["job", "outcome"]
)
JOB_SECONDS = Histogram(
    "kaizen_job_duration_seconds",
    "How long a job's run took, its deliveries included",
    ["job"],
    buckets=(0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
)
_SLACK_ERROR = re.compile(r"[a-z][a-z0-9_]{0,63}")  # Slack's error codes: not_in_channel, channel_not_found
_shared_dir: Path | None = None  # where the gunicorn workers count, when they do


def count_failed(method: str, status: int | None, error: str | None) -> None:
    """A message given up on, by Slack's error code; what is no code (a dropped connection's message,
    a surprise's) by its kind, so the label stays one of few values."""
    if error and _SLACK_ERROR.fullmatch(error):
        label = error
    elif status:
        label = f"http_{status}"
    else:
        label = "connection" if (error or "").startswith("connection") else "unexpected"
    OUTBOX_FAILED.labels(method, label).inc()


def count_request(kind: str, ack_seconds: float) -> None:
    REQUESTS.labels(kind).inc()
    ACK_SECONDS.labels(kind).observe(ack_seconds)


def count_job_run(job: str, outcome: str, seconds: float) -> None:
    JOB_RUNS.labels(job, outcome).inc()
    if outcome != "skipped":
        JOB_SECONDS.labels(job).observe(seconds)


class OutboxGauges:
    """What waits in the outbox, read from the database at each scrape (so any process sees it all),
    and whether Slack refuses the token of the process answering."""

    def __init__(self, session_factory: sessionmaker, clock: Callable[[], datetime], token_refused: str | None):
        self.session_factory = session_factory
        self.clock = clock
        self.token_refused = token_refused

    def collect(self) -> Iterator[Metric]:
        token = GaugeMetricFamily("kaizen_slack_token_refused", "1 while Slack refuses the bot token (sending paused)")
        token.add_metric([], 1 if self.token_refused else 0)
        yield token
        try:
            with self.session_factory() as session:
                by_method, written = waiting_by_method(session), oldest_waiting_written(session)
        except SQLAlchemyError as error:  # the counters are still worth a scrape; /healthz says why
            log.warning("/metrics could not read the outbox: %s", type(error).__name__)
            return
        waiting = GaugeMetricFamily("kaizen_outbox_waiting", "Messages waiting to be sent", labels=["method"])
        for method, count, _ in by_method:
            waiting.add_metric([method], count)
        yield waiting
        oldest = GaugeMetricFamily(
            "kaizen_outbox_oldest_waiting_seconds", "How long the message waiting longest has waited since written"
        )
        oldest.add_metric([], (self.clock() - written).total_seconds() if written else 0.0)
        yield oldest


def metrics_page(outbox: OutboxGauges) -> tuple[bytes, str]:
    """The Prometheus text of this process, or of every gunicorn worker; and its content type."""
    registry = CollectorRegistry()
    registry.register(outbox)
    if _shared_dir:
        multiprocess.MultiProcessCollector(registry, str(_shared_dir))
    else:
        registry.register(REGISTRY)  # this process's own counters (and its CPU and memory)
    return generate_latest(registry), CONTENT_TYPE_LATEST


@contextmanager
def share_between_workers(directory: str | None) -> Iterator[Path]:
    """Count in files shared by the gunicorn workers forked inside: in `directory` (PROMETHEUS_MULTIPROC_DIR),
    emptied of an earlier run's counts, or else in a temporary directory, removed at the end."""
    global _shared_dir
    shared = Path(directory or tempfile.mkdtemp(prefix="kaizen-metrics-"))
    shared.mkdir(parents=True, exist_ok=True)
    for stale in shared.glob("*.db"):  # prometheus_client's files only: the directory may hold more
        stale.unlink()
    given, value_class = os.environ.get(MULTIPROC_DIR), values.ValueClass
    os.environ[MULTIPROC_DIR] = str(shared)
    # prometheus_client chose how to keep values when it was imported, from the environment of then;
    # no metric holds a value yet (each has labels), so choosing again now is in time.
    values.ValueClass = values.get_value_class()
    _shared_dir, owner = shared, os.getpid()
    try:
        yield shared
    finally:
        if os.getpid() == owner:  # not a gunicorn worker leaving (forked inside, it leaves through here)
            _shared_dir, values.ValueClass = None, value_class
            if given is None:
                del os.environ[MULTIPROC_DIR]
            else:
                os.environ[MULTIPROC_DIR] = given
            if not directory:
                shutil.rmtree(shared, ignore_errors=True)


def worker_exited(_server, worker) -> None:
    """gunicorn's child_exit hook: prometheus_client's bookkeeping for a worker that is gone."""
    multiprocess.mark_process_dead(worker.pid)
