"""Who may do what, and what they may see (minimum necessary), for every door.

The answers come from the rules layer's permissions pack (rules/packs/permissions.yaml), through
the same engine as every other decision, so a refusal names its rule. This module turns them
into PermissionDenied errors and into the fields of an appointment a caller is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from assistant.break_glass import Emergency, break_glass, opens
from clinic import access_log
from clinic.booking import AppointmentView
from clinic.db import Database
from clinic.errors import PermissionDenied
from clinic.models import Staff
from clinic.placement import load_row
from clinic.timeutil import local_iso
from clinic.tokens import Caller
from rules import permissions
from rules.decision import FiredRule
from rules.facts import appointment_facts
from rules.model import Situation, StaffFacts
from rules.service import default_service
from rules.snapshot import role_situation, role_situations

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
    # One patient's agenda is part of their record: whoever may see the record sees it.
    "patient_schedule": "view_patient",
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
    emergency: Emergency | None = None,
) -> bool:
    """Raise PermissionDenied, with the rule's words, unless the caller may do this.

    `patient_id` names the patient the action is about (the caseload rules look at it);
    `staff_id` the staff member it is about: they must exist, and acting about oneself is
    enough for the pack's `self_actions` (anyone may report their own absence);
    `appointment` the session it is about (the own-sessions rules look at its staff);
    `emergency` a reason the caller gave: it opens what the pack's `break_glass` table lets a
    reason open (a record outside the caseload), logged as emergency access.

    Returns True when the access was emergency access (the caller sees what they would for
    their own caseload), False for an ordinary one. A refusal about a patient is written to the
    access log as `denied` (HIPAA §164.312(b): attempts count too); a use case that only asks
    whether to offer something calls `permits`, which logs nothing."""
    denials = _denials(
        db, caller, action, patient_id=patient_id, staff_id=staff_id, appointment=appointment
    )
    if not denials:
        return False
    refusal = denials[0].message.rstrip(".")
    pack_action = ACTION_OF.get(action, action)
    if emergency is not None and patient_id is not None and all(opens(f.id) for f in denials):
        try:
            first_time = patient_id not in emergency.opened
            break_glass(db, caller, patient_id, emergency, refusal)
        except PermissionDenied as refused:
            access_log.record_denied(db, caller, pack_action, patient_id, reason=str(refused))
            raise
        if first_time:
            access_log.record_break_glass(
                db, caller, patient_id, emergency.reason or "", action=pack_action
            )
        return True
    if patient_id is not None:
        access_log.record_denied(db, caller, pack_action, patient_id, reason=refusal)
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
    return not _denials(
        db, caller, action, patient_id=patient_id, staff_id=staff_id, appointment=appointment
    )


def permits_each(db: Database, caller: Caller, action: str, patient_ids: Iterable[str]) -> set[str]:
    """The patients `permits` would let this action through for, from one read of their
    appointments (a caseload asks about every patient: one query, not one per patient)."""
    pids = list(dict.fromkeys(patient_ids))
    if not pids:
        return set()
    service = default_service()
    refuse_outside_scope(caller, ACTION_OF.get(action, action))
    actor, situations = role_situations(db, service.packs, actor=caller.staff_id, patients=pids)
    return {pid for pid in pids if not _judge(caller, action, actor, situations[pid])}


def _denials(
    db: Database,
    caller: Caller,
    action: str,
    *,
    patient_id: str | None,
    staff_id: str | None,
    appointment: AppointmentView | None,
) -> list[FiredRule]:
    """The permission rules refusing this (none: it is allowed)."""
    service = default_service()
    pack_action = ACTION_OF.get(action, action)
    refuse_outside_scope(caller, pack_action)
    if staff_id is not None:
        with db.read() as session:
            load_row(session, Staff, staff_id, "staff member")
    # The people's facts come from the per-facility snapshot (rules.snapshot), not fresh queries.
    actor, situation = role_situation(db, service.packs, actor=caller.staff_id, patient=patient_id)
    about_self = staff_id is not None and staff_id == caller.staff_id and patient_id is None
    if about_self and pack_action in service.packs.tables.get("self_actions", ()):
        return []
    if appointment is not None:
        situation = replace(situation, appointment=appointment_facts(appointment))
    return _judge(caller, action, actor, situation)


def _judge(caller: Caller, action: str, actor: StaffFacts, situation: Situation) -> list[FiredRule]:
    """The pack's permission rules that refuse this action in this situation."""
    # Every role the caller holds counts, however the door learnt them.
    actor = replace(actor, extra_roles=actor.extra_roles | (caller.roles - {actor.role}))
    decision = default_service().evaluate(ACTION_OF.get(action, action), actor, situation)
    return [f for f in decision.fired if f.id.startswith("PERM-") and f.severity == "deny"]


def may(caller: Caller, action: str) -> bool:
    """May someone with the caller's roles, within the scope of the credential they came
    with, ask for this at all (before any patient is named)?"""
    pack_action = ACTION_OF.get(action, action)
    return (
        permissions.scope_allows(caller.scope, pack_action)
        and permissions.may(caller.roles, pack_action).allowed
    )


def refuse_outside_scope(caller: Caller, pack_action: str) -> None:
    """A scope narrows the roles, never widens them: checked before the roles are."""
    if not permissions.scope_allows(caller.scope, pack_action):
        raise PermissionDenied(
            f"this token's {caller.scope} scope may not {pack_action.replace('_', ' ')}: that "
            "needs a token with a wider scope (`rota token create --scope booking|admin`)"
        )


def relation_to(db: Database, caller: Caller, patient_id: str) -> str:
    """'own' when the caller may see this patient's clinical detail, else 'other' (the
    pack's `fields` key for what a patient's record shows them)."""
    return "own" if permits(db, caller, "view_clinical", patient_id=patient_id) else "other"


def patient_fields(db: Database, caller: Caller, patient_id: str) -> set[str]:
    """The pack's fields the caller may see of what is said about this patient (a waitlist
    entry, an offer): as the patient's record shows them."""
    return permissions.visible_fields(caller.roles, relation_to(db, caller, patient_id))


def session_fields(caller: Caller, staff: Iterable[str], *, opened: bool = False) -> set[str]:
    """The pack's fields the caller may see of a session: their own sessions (they are one of
    its staff) in full, others' as the pack grants for others; `opened`: its patient was
    opened in an emergency (seen as their own)."""
    relation = "own" if opened or caller.staff_id in staff else "other"
    return permissions.visible_fields(caller.roles, relation)


def redact_for(
    db: Database,
    caller: Caller,
    appointment: AppointmentView,
    tz: ZoneInfo,
    *,
    opened: bool = False,
) -> dict[str, Any]:
    """The appointment as the caller may see it: clinicians see their own sessions in full and
    only times, rooms and clinicians of others'; front desk never sees clinical detail.
    `opened`: the caller opened the session's patient in an emergency (seen as their own)."""
    record = appointment.as_record()
    record["start"], record["end"] = (
        local_iso(appointment.start, tz),
        local_iso(appointment.end, tz),
    )
    visible = session_fields(caller, appointment.staff, opened=opened)
    return {
        key: value
        for key, value in record.items()
        if key not in FIELD_OF or FIELD_OF[key] in visible
    }
