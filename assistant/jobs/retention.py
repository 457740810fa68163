"""Retention: once a day, at a quiet hour, delete what Rota no longer keeps (assistant.retention:
old conversation state, settled outbox messages, answered Slack requests, patients' replies,
ended waitlist offers, failed sign-ins; ended web sessions and spent sign-in links; settled
proposals' payloads and old job runs' error text cleared). Never the audit log or the access
log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant import retention
from assistant.jobs import job
from clinic.db import Database

NAME = "retention"


@job(NAME, daily_at="03:30")
def run(db: Database, now: datetime) -> dict[str, Any]:
    """Purge data past its retention period (ROTA_RETENTION_DAYS, default 30)."""
    report = retention.purge(db, now)
    return {"days": report.days, **report.counts}
