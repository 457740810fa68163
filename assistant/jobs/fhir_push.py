"""Write appointment changes back to the EHR (every minute, when a FHIR server is configured):
queue what changed since the last run, then send what is due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant import fhir_writeback
from assistant.jobs import job
from clinic.db import Database


@job("fhir_push", every_minutes=1)
def run(db: Database, now: datetime) -> dict[str, Any]:
    """Write appointment changes back to the EHR over FHIR (only with ROTA_FHIR_BASE_URL set)."""
    sender = fhir_writeback.pusher()
    if sender is None:
        return {"configured": False}
    queued = fhir_writeback.queue_changes(db, sender.server, now)
    return {"queued": queued, **fhir_writeback.drain(db, now, sender)}
