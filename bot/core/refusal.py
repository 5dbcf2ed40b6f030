"""The one exception every feature's rules raise to say no, kindly."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"[0-9]{1,10}")
MAX_RECORD_ID = 2**31 - 1  # the integer columns' range (PostgreSQL refuses a query past it)


class Refused(Exception):
    """Something a person asked for that cannot be done; nothing was stored.

    `reason` is what they are told; `field` is the modal input it belongs to, when it came from a form.
    """

    default_field = ""

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field or self.default_field


def record_id(value: str, field: str | None = None) -> int:
    """The number of a record (an idea, a goal, a pair…) as a button, a menu option or a checkbox
    carries it. A value Kaizen never put there (not a number, or past the integer columns' range)
    is refused as a record that is gone would be; `field` is the form input it came from."""
    if not _NUMBER.fullmatch(value) or int(value) > MAX_RECORD_ID:
        raise Refused("I can't find that any more, so nothing was done.", field)
    return int(value)
