"""A caller's caseload: the patients whose record they may open (GET /api/patients).

Who is on it is the permissions pack's `view_patient` answer for each patient, the same one
GET /api/patients/{id} asks: the list never offers a record the read would refuse, and never
leaves out one it would show (a read outside it is refused unless the glass is broken).
Discharged patients stay on it (their phase says so) while their record is kept: the read
still shows them to whoever shared their care.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from assistant.access import authorize, permits_each
from assistant.usecases.patients import redact_record
from clinic import access_log
from clinic.db import Database
from clinic.models import Patient
from clinic.tokens import Caller
from rules import permissions

Record = dict[str, Any]


def caseload(db: Database, caller: Caller) -> list[Record]:
    """The patients whose record the caller may see, by id: everyone for a role that sees
    every record (front desk, directors, case managers), their own caseload for a clinician.
    Each entry is `id` and `relation` (own / other), with the name,
    level of care, phase and primary clinician as far as the pack's visible fields for that
    relation allow. Every patient listed is a read in the access log."""
    authorize(db, caller, "view_patient")
    with db.read() as session:
        rows = session.execute(
            select(
                Patient.id,
                Patient.name,
                Patient.level_of_care,
                Patient.phase,
                Patient.primary_clinician_id,
            ).order_by(Patient.id)
        ).all()
    # Two questions per patient (open the record? see its clinical detail?), each answered for
    # the whole list from one read of the appointments.
    opened = permits_each(db, caller, "view_patient", (row[0] for row in rows))
    clinical = permits_each(db, caller, "view_clinical", opened)
    entries = []
    for pid, name, level, phase, clinician in rows:
        if pid not in opened:
            continue
        relation = "own" if pid in clinical else "other"  # as access.relation_to answers
        record = {
            "id": pid,
            "name": name,
            "level_of_care": level,
            "phase": phase,
            "primary_clinician": clinician,
        }
        shown = redact_record(
            {k: v for k, v in record.items() if v is not None},
            permissions.visible_fields(caller.roles, relation),
        )
        entries.append({**shown, "relation": relation})
    access_log.record_reads(db, caller, access_log.PATIENT_VIEW, [e["id"] for e in entries])
    return entries
