"""One patient's page (the web's /patients/{id}): the agenda, authorizations with the unit
ledger, the court order's status, consents and waitlist entries — only what the caller's role
may see, decided by the permissions pack, never by the page.

Whoever may manage the patient's appointments may open it (`patient_schedule`, as the agenda of
one patient asks everywhere): front desk and directors for anyone, a clinician for their own
caseload. What it then shows follows the pack's visible fields for the caller's relation to
the patient (patients.show redacts the record the same way for every door).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from assistant.access import authorize, permits
from assistant.schedule import Period, list_appointments
from assistant.usecases import patients, waitlist
from assistant.usecases.records import names
from clinic import access_log
from clinic.consents import disclose_to, in_force
from clinic.db import Database
from clinic.errors import NotFound
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from rules import permissions

AGENDA_BEFORE = timedelta(days=7)
AGENDA_AFTER = timedelta(days=21)


@dataclass(frozen=True)
class PatientPage:
    id: str
    name: str | None
    """None when the role may not see the patient's name."""
    visible: frozenset[str]
    agenda: list[dict[str, Any]]
    record: dict[str, Any]
    authorizations: list[dict[str, Any]] | None = None
    court_order: dict[str, Any] | None = None
    consents: list[dict[str, Any]] | None = None
    waitlist: list[dict[str, Any]] | None = None
    names: dict[str, str] = field(default_factory=dict)


def patient_page(
    db: Database, caller: Caller, patient_id: str, now: datetime | None = None
) -> PatientPage:
    """NotFound for an unknown id; PermissionDenied (with the rule's words) for a caller who
    may not manage this patient's appointments."""
    with db.read() as session:
        if patients.find_patient(session, patient_id) is None:
            raise NotFound(f"there is no patient {patient_id}")
    authorize(db, caller, "patient_schedule", patient_id=patient_id)
    with access_log.batch(db):  # the record and the agenda: one write to the access log
        return _page(db, caller, patient_id, now)


def _page(db: Database, caller: Caller, patient_id: str, now: datetime | None) -> PatientPage:
    shown = patients.show(db, caller, patients.Show(patient_id))
    record = shown["patient"]
    visible = frozenset(permissions.visible_fields(caller.roles, shown["relation"]))
    now = now or now_utc()
    agenda = list_appointments(
        db, caller, Period(now - AGENDA_BEFORE, now + AGENDA_AFTER), patient=patient_id
    )
    today = now.astimezone(db.facility_tz()).date()
    page = PatientPage(
        id=patient_id,
        name=record.get("name"),
        visible=visible,
        agenda=agenda,
        record=record,
        authorizations=shown.get("authorizations"),
        court_order=_court_status(record["court_order"], today)
        if "court_order" in record
        else None,
        consents=_consents(record.get("contact") or {}, today) if "consents" in visible else None,
        waitlist=_waitlist(db, caller, patient_id) if "session_type" in visible else None,
        names=names(db),
    )
    return page


def _court_status(order: dict[str, Any], today: date) -> dict[str, Any]:
    """The order and whether it is in force today."""
    start, end = order.get("start"), order.get("end")
    if start and today.isoformat() < str(start):
        status = f"starts {start}"
    elif end and str(end) < today.isoformat():
        status = f"ended {end}"
    else:
        status = f"in force until {end}" if end else "in force"
    return {**order, "status": status}


def _consents(contact: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """Each recorded consent with whether it counts today, then recipients given before Rota."""
    recorded = [{**c, "in_force": in_force(c, today)} for c in contact.get("consents", [])]
    named = {c["recipient"].lower() for c in recorded}
    plain = [
        {"recipient": r, "information": "as given", "in_force": True}
        for r in disclose_to(contact, today)
        if r.lower() not in named
    ]
    return recorded + plain


def _waitlist(db: Database, caller: Caller, patient_id: str) -> list[dict[str, Any]] | None:
    """Waiting and offered entries, for a caller who may book for the patient."""
    if not permits(db, caller, waitlist.BOOK, patient_id=patient_id):
        return None  # a role that may not book for them sees no waitlist
    entries = waitlist.entries(db, caller, waitlist.ListEntries(patient=patient_id))
    return [waitlist.as_record(e) for e in entries]
