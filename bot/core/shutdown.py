"""Stopping on SIGTERM (a deploy, a restart, `docker stop`): take no new work, finish the work under
way, send nothing more (a send under way finishes; every outbox claim not used is given back, so the
next process sends those rows at once), stop the scheduler, and exit 0 within 10 seconds.

gunicorn handles its own signals (SIGTERM is graceful: no new connection, those under way finish) and
calls `wind_down` from its worker_exit hook (bot.core.http.serve). `kaizen run` in Socket Mode,
`kaizen scheduler` and `kaizen jobs run` learn of the signal from `stop_signal_calls`.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from apscheduler.schedulers.base import BaseScheduler
from slack_bolt import App

from bot.core.context import Context

log = logging.getLogger(__name__)

GUNICORN_GRACE = 8  # gunicorn's graceful_timeout: it kills a worker still there this long after SIGTERM
SENDS_FINISH_WITHIN = 5.0  # how long the end waits for a call to Slack under way (it answers in well under 1 s)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_signal_calls(stop: Callable[[], None]) -> Iterator[None]:
    """Within this, the first SIGTERM or SIGINT (Ctrl-C) calls `stop`, on a thread of its own.

    Not from the signal handler: Python runs that in the main thread between any two of its steps, and
    a handler taking a lock the main thread holds at that moment (an Event's, say) would hang. So the
    handler does nothing, and signal.set_wakeup_fd has the signal's number written (from C) to a socket
    that the thread reads."""
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    previous = {number: signal.signal(number, lambda *_: None) for number in STOP_SIGNALS}

    def wait_for_signal() -> None:
        while received := reader.recv(1):  # b"" once the writer is closed, on the way out
            if received[0] in STOP_SIGNALS:
                log.info("%s received: stopping", signal.Signals(received[0]).name)
                stop()
                return

    thread = threading.Thread(target=wait_for_signal, name="kaizen-stop-signal", daemon=True)
    thread.start()
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(previous_fd)
        writer.close()
        thread.join()
        reader.close()


def wind_down(ctx: Context, *, app: App | None = None, scheduler: BaseScheduler | None = None) -> None:
    """The end of a process that takes no new work any more (its socket closed, gunicorn's connections
    finished): send nothing more, let the job under way end (its fan-out returns at once), handle the
    requests acknowledged already and the work they deferred (their messages wait in the outbox for the
    next process), then wait a little for a call to Slack under way."""
    ctx.outbox.stop()
    if scheduler is not None:
        scheduler.shutdown(wait=True)
    if app is not None:  # first: a listener defers work to the context's pool
        app.listener_runner.listener_executor.shutdown(wait=True)
    ctx.close()
    ctx.outbox.wait_for_sends(SENDS_FINISH_WITHIN)
    log.info("Stopped: every message not sent waits in the outbox for the next Kaizen process")
