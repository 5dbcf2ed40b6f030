"""Slack listeners, one module per feature. Each parses, acks, calls a service and answers;
bot/features.py registers each module's `register(app, ctx)`."""
