"""The morning report on demand (`rota morning`): built, shown, never delivered.

The open demand section comes from the day's morning plan when one is waiting (the cycle ran);
otherwise the plan is made now (bounded by ROTA_MORNING_SECONDS) and not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant import morning_report
from assistant.access import authorize
from assistant.jobs import morning as cycle
from assistant.usecases import morning_plan, records
from assistant.usecases.absences import waiting
from clinic import access_log
from clinic.db import Database
from clinic.tokens import Caller
from rules import permissions


@dataclass(frozen=True)
class MorningReport:
    now: datetime
    plan: bool = True
    """Make (or reuse) the morning plan for the open-demand section."""


def report(db: Database, caller: Caller, cmd: MorningReport) -> dict[str, Any]:
    """The report for the local day of `cmd.now`, with the names the caller may see."""
    authorize(db, caller, "view_reports")
    unplaced = None
    if cmd.plan:
        day = cmd.now.astimezone(db.facility_tz()).date().isoformat()
        stored = [p for p in waiting(db) if p["kind"] == morning_plan.KIND and p["day"] == day]
        if stored:
            unplaced = stored[-1]["unmet"]
        else:
            planned = cycle.plan(db, cmd.now, cycle.Settings.from_env())
            unplaced = planned["unmet"] if planned else []
    data = morning_report.build(db, cmd.now, unplaced=unplaced)
    data["names"] = _names(db, caller, data)
    shown = sorted(morning_report.patients_in(data))
    access_log.record_reads(db, caller, access_log.REPORT_VIEW, shown, detail={"report": "morning"})
    return data


def _names(db: Database, caller: Caller, data: dict[str, Any]) -> dict[str, str]:
    """Staff and rooms by name; patients by name only for a role that may see names."""
    everyone = records.names(db)
    patients = morning_report.patients_in(data)
    sees = "name" in permissions.visible_fields(caller.roles, "other")
    return {k: v for k, v in everyone.items() if sees or k not in patients}
