"""Send what the outbox owes (every minute): due messages through their channels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant import outbox
from assistant.jobs import job
from clinic.db import Database


@job("outbox", every_minutes=1)
def run(db: Database, now: datetime) -> dict[str, Any]:
    """Send what the outbox owes now: due messages through their channels, with retries."""
    return dict(outbox.drain(db, now))
