"""Waitlist offers nobody answered in time (every 5 minutes): closed, their patients wait again,
and each slot goes to the next in rank (assistant.usecases.waitlist.expire_offers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant.jobs import job
from assistant.usecases import waitlist
from clinic.db import Database


@job("waitlist", every_minutes=5)
def run(db: Database, now: datetime) -> dict[str, Any]:
    """Close the waitlist offers past their time and offer those slots to the next in rank."""
    return dict(waitlist.expire_offers(db, now))
