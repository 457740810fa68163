"""Who may do what, and what they may see (minimum necessary), for every door.

The decisions come from the rules layer's roles-and-permissions pack; this module turns them
into PermissionDenied errors and into the fields a caller is shown.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from clinic.booking import AppointmentView
from clinic.db import Database
from clinic.errors import PermissionDenied
from clinic.models import Patient
from clinic.timeutil import local_iso
from clinic.tokens import Caller

# Interim role table until the rules pack is wired in (see rules/packs/roles.yaml).
_ACTIONS: dict[str, set[str]] = {
    "view_schedule": {"*"},
    "book": {
        "clinical_director",
        "case_manager",
        "intake_coordinator",
        "therapist",
        "counselor",
        "psychiatrist",
        "nurse_practitioner",
        "physician",
        "front_desk",
        "intern",
    },
    "cancel": {
        "clinical_director",
        "case_manager",
        "intake_coordinator",
        "therapist",
        "counselor",
        "psychiatrist",
        "nurse_practitioner",
        "physician",
        "front_desk",
    },
}
_ACTIONS["find_slot"] = _ACTIONS["book"]
_ACTIONS["reschedule"] = _ACTIONS["book"]
_ACTIONS["utilization_summary"] = {"clinical_director", "auditor"}
_ACTIONS["compliance_report"] = {"clinical_director", "case_manager", "auditor"}
_ACTIONS["approve_absence"] = {"clinical_director"}
_ACTIONS["report_absence_for_others"] = {"clinical_director", "case_manager", "front_desk"}
_ACTIONS["emergency_intake"] = {
    "clinical_director",
    "case_manager",
    "intake_coordinator",
    "therapist",
    "counselor",
    "psychiatrist",
    "nurse_practitioner",
    "physician",
    "nurse",
}
_ACTIONS["see_clinical_detail"] = {r for r in _ACTIONS["book"] if r != "front_desk"} | {
    "auditor",
    "nurse",
}
_CLINICAL_FIELDS = {"session_type", "note", "group"}
_NO_CLINICAL_DETAIL = {"front_desk"}
_CASELOAD_ONLY = {"therapist", "counselor", "intern"}


def authorize(
    db: Database,
    caller: Caller,
    action: str,
    *,
    patient_id: str | None = None,
    staff_id: str | None = None,
) -> None:
    allowed = _ACTIONS.get(action, set())
    if "*" not in allowed and caller.role not in allowed:
        raise PermissionDenied(
            f"a {caller.role.replace('_', ' ')} may not {action.replace('_', ' ')}"
        )
    if patient_id and caller.role in _CASELOAD_ONLY and not _in_caseload(db, caller, patient_id):
        raise PermissionDenied("you can only see and change your own caseload")


def may(caller: Caller, action: str) -> bool:
    allowed = _ACTIONS.get(action, set())
    return "*" in allowed or caller.role in allowed


def _in_caseload(db: Database, caller: Caller, patient_id: str) -> bool:
    with db.read() as session:
        patient = session.get(Patient, patient_id)
        return patient is not None and patient.primary_clinician_id == caller.staff_id


def redact_for(
    db: Database, caller: Caller, appointment: AppointmentView, tz: ZoneInfo
) -> dict[str, Any]:
    record = appointment.as_record()
    record["start"], record["end"] = (
        local_iso(appointment.start, tz),
        local_iso(appointment.end, tz),
    )
    if caller.role in _NO_CLINICAL_DETAIL:
        for field in _CLINICAL_FIELDS:
            record.pop(field, None)
    return record
