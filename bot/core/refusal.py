"""The one exception every feature's rules raise to say no, kindly."""

from __future__ import annotations


class Refused(Exception):
    """Something a person asked for that cannot be done; nothing was stored.

    `reason` is what they are told; `field` is the modal input it belongs to, when it came from a form.
    """

    default_field = ""

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field or self.default_field
