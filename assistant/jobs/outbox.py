"""Send what the outbox owes (every minute): due messages through their channels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant import outbox
from clinic.db import Database


def run(db: Database, now: datetime) -> dict[str, Any]:
    return dict(outbox.drain(db, now))
