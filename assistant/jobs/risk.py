"""Retrain the no-show model once a week (Sunday 02:00 facility time, ROTA_RETRAIN_RISK_AT
moves the hour): the facility's history up to now, scored on its latest weeks, stored as the
next version (assistant/no_show.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant import no_show
from assistant.jobs import job
from clinic.db import Database
from clinic.errors import InvalidInput


@job("retrain-risk", daily_at="02:00", weekday=6)
def run(db: Database, now: datetime) -> dict[str, Any]:
    """Retrain the no-show model on the attendance history and store it as the next version."""
    try:
        trained = no_show.retrain(db, now)
    except InvalidInput as exc:  # too little history yet: the smoothed rate stays in force
        return {"trained": False, "reason": str(exc)}
    metrics = trained["metrics"]
    summary: dict[str, Any] = {"trained": True, "version": trained["version"], "n": trained["n"]}
    for name in ("model", "baseline"):
        if name in metrics:
            summary |= {f"{name}_{k}": v for k, v in metrics[name].items()}
    return summary
