"""The baseline for bench/ack.py: a Bolt app whose /kudos listener only acks, served like `kaizen run --http`."""

from __future__ import annotations

import argparse
import os

from slack_bolt import App
from slack_sdk import WebClient

from bot.core.context import build_context
from bot.core.http import serve, wsgi_app
from bot.core.settings import load_settings
from storage.db import make_engine


def bare_app():
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

    @app.command("/kudos")
    def only_ack(ack):
        ack()

    return wsgi_app(app, build_context(load_settings(os.environ), (), engine=make_engine("sqlite://")))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    serve(bare_app, port=args.port, workers=args.workers, threads=args.threads)
