"""Who may do what, and what they may see (minimum necessary), for every door.

The answers come from the rules layer's permissions pack (rules/packs/permissions.yaml), through
the same engine as every other decision, so a refusal names its rule. This module turns them
into PermissionDenied errors and into the fields of an appointment a caller is shown.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from clinic import access_log
from clinic.booking import AppointmentView
from clinic.db import Database
from clinic.errors import PermissionDenied
from clinic.models import Staff
from clinic.placement import load_row
from clinic.timeutil import local_iso
from clinic.tokens import Caller
from rules import permissions
from rules.facts import appointment_facts
from rules.service import default_service
from rules.snapshot import role_situation

# The dialogue's words for what a person asks → the permissions pack's actions.
ACTION_OF = {
    "find_slot": "book",
    "emergency_intake": "book",
    "reschedule": "move",
    "utilization_summary": "view_reports",
    "compliance_report": "view_reports",
    "approve_absence": "approve_changes",
    "report_absence_for_others": "report_absence",
    "see_clinical_detail": "view_clinical",
    "patient_schedule": "move",  # whoever may manage a patient's appointments may see them
}
# Appointment record keys → the pack's field names.
FIELD_OF = {
    "patients": "name",
    "outcomes": "name",  # keyed by patient: who was a no-show in a group
    "staff": "clinician",
    "room": "room",
    "start": "time",
    "end": "time",
    "session_type": "session_type",
    "group": "group",
    "note": "notes",
}


def authorize(
    db: Database,
    caller: Caller,
    action: str,
    *,
    patient_id: str | None = None,
    staff_id: str | None = None,
    appointment: AppointmentView | None = None,
) -> None:
    """Raise PermissionDenied, with the rule's words, unless the caller may do this.

    `patient_id` names the patient the action is about (the caseload rules look at it);
    `staff_id` the staff member it is about: they must exist, and acting about oneself is
    enough for the pack's `self_actions` (anyone may report their own absence);
    `appointment` the session it is about (the own-sessions rules look at its staff).

    A refusal about a patient is written to the access log as `denied` (HIPAA §164.312(b):
    attempts count too). A use case that only asks whether to offer something calls `permits`,
    which logs nothing."""
    refusal = _refusal(
        db, caller, action, patient_id=patient_id, staff_id=staff_id, appointment=appointment
    )
    if refusal is None:
        return
    if patient_id is not None:
        access_log.record_denied(
            db, caller, ACTION_OF.get(action, action), patient_id, reason=refusal
        )
    raise PermissionDenied(refusal)


def permits(
    db: Database,
    caller: Caller,
    action: str,
    *,
    patient_id: str | None = None,
    staff_id: str | None = None,
    appointment: AppointmentView | None = None,
) -> bool:
    """Whether `authorize` would let this through: for deciding what to offer (a button, a
    list entry), so nothing is logged as an attempt."""
    refusal = _refusal(
        db, caller, action, patient_id=patient_id, staff_id=staff_id, appointment=appointment
    )
    return refusal is None


def _refusal(
    db: Database,
    caller: Caller,
    action: str,
    *,
    patient_id: str | None,
    staff_id: str | None,
    appointment: AppointmentView | None,
) -> str | None:
    """The rule's words refusing this, or None when it is allowed."""
    service = default_service()
    pack_action = ACTION_OF.get(action, action)
    if staff_id is not None:
        with db.read() as session:
            load_row(session, Staff, staff_id, "staff member")
    # The people's facts come from the per-facility snapshot (rules.snapshot), not fresh queries.
    actor, situation = role_situation(db, service.packs, actor=caller.staff_id, patient=patient_id)
    about_self = staff_id is not None and staff_id == caller.staff_id and patient_id is None
    if about_self and pack_action in service.packs.tables.get("self_actions", ()):
        return None
    if appointment is not None:
        situation = replace(situation, appointment=appointment_facts(appointment))
    # Every role the caller holds counts, however the door learnt them.
    actor = replace(actor, extra_roles=actor.extra_roles | (caller.roles - {actor.role}))
    decision = service.evaluate(pack_action, actor, situation)
    denials = [f for f in decision.fired if f.id.startswith("PERM-") and f.severity == "deny"]
    return denials[0].message.rstrip(".") if denials else None


def may(caller: Caller, action: str) -> bool:
    """May someone with the caller's roles ask for this at all (before any patient is named)?"""
    return permissions.may(caller.roles, ACTION_OF.get(action, action)).allowed


def redact_for(
    db: Database, caller: Caller, appointment: AppointmentView, tz: ZoneInfo
) -> dict[str, Any]:
    """The appointment as the caller may see it: clinicians see their own sessions in full and
    only times, rooms and clinicians of others'; front desk never sees clinical detail."""
    record = appointment.as_record()
    record["start"], record["end"] = (
        local_iso(appointment.start, tz),
        local_iso(appointment.end, tz),
    )
    relation = "own" if caller.staff_id in appointment.staff else "other"
    visible = permissions.visible_fields(caller.roles, relation)
    return {
        key: value
        for key, value in record.items()
        if key not in FIELD_OF or FIELD_OF[key] in visible
    }
