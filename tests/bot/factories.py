"""Rows for tests that need history: kudos at chosen times."""

from __future__ import annotations

import itertools
from datetime import datetime

from storage.kudos import Kudos

_batches = itertools.count(1)


def kudos(giver: str, recipient: str, at: datetime, values: str = "") -> Kudos:
    return Kudos(
        batch_key=f"test:{next(_batches)}",
        giver_id=giver,
        recipient_id=recipient,
        message="thanks for the help",
        values=values,
        source="command",
        created_at=at,
    )
