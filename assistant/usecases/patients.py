"""A patient's living record: admit, show, update, discharge (their paperwork — authorizations,
court orders, Part 2 consents — is assistant.usecases.paperwork, on the same `change_record`).
One authorization step, one transaction and one audit event each.

Every change is made to the record in the facility file's shape (`patient_record`), checked by
the facility file's own validator as one record among the rest (`check_record`: the same JSON
paths, relative to the record) and written with the file's own row builders, so a record means
one thing whether it came in a file, over HTTP, from the command line or from a conversation.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from assistant.access import authorize, relation_to
from assistant.break_glass import Emergency
from assistant.reports import authorization_usage
from assistant.usecases.notices import tell_patients, who_to_tell
from assistant.wiring import booking_service
from clinic import access_log
from clinic.audit import append_event
from clinic.booking import AppointmentView
from clinic.consents import with_derived_list
from clinic.db import Database
from clinic.errors import (
    BookingConflict,
    InvalidInput,
    LikelyDuplicate,
    NotFound,
    RuleViolation,
)
from clinic.facility_file.export import patient_record
from clinic.facility_file.load import authorization_row, court_order_row, patient_row
from clinic.facility_file.records import check_record, check_shape
from clinic.models import (
    SCHEDULED_STATUSES,
    Appointment,
    AppointmentPatient,
    AuditEvent,
    CourtOrder,
    Patient,
    SessionType,
    group_member,
)
from clinic.timeutil import local_iso, now_utc
from clinic.tokens import Caller
from rules import permissions
from rules.facts import session_type_facts
from rules.model import SessionTypeFacts
from rules.requirements import level_requirements, rederive
from rules.service import default_service

Record = dict[str, Any]

PERMISSION_OF = {
    "admit_patient": "admit_patient",
    "discharge_patient": "discharge_patient",
    "update_patient": "update_patient",
    "add_authorization": "manage_authorizations",
    "record_consent": "manage_consents",
    "revoke_consent": "manage_consents",
    "transfer_patient": "discharge_patient",  # and admit_patient where they go (transfers)
}
"""A request's `action` (the request frame's) → the permissions pack's action."""

# ------------------------------------------------------------------------------------ commands


@dataclass(frozen=True)
class Admit:
    """A new patient: the facility file's patient object (an id is made when it has none)."""

    record: Record
    reason: str | None = None
    duplicate_ok: bool = False
    """Admit even when a patient in care looks like the same person (the caller checked)."""


@dataclass(frozen=True)
class Show:
    patient_id: str
    emergency: Emergency | None = None
    """A reason given to open a patient outside the caller's caseload (break the glass)."""


@dataclass(frozen=True)
class Update:
    """PATCH semantics: the fields given replace those of the record (a nested object such as
    `contact` or `preferences` is merged key by key; null removes a field)."""

    patient_id: str
    changes: Record
    reason: str | None = None


@dataclass(frozen=True)
class Discharge:
    patient_id: str
    reason: str
    override_reason: str | None = None
    now: datetime | None = None


# ------------------------------------------------------------------------------------ use cases


def admit(db: Database, caller: Caller, cmd: Admit) -> Record:
    """Admit a patient; returns the stored record."""
    authorize(db, caller, "admit_patient")
    with db.session() as session:
        return admit_in(db, session, caller, cmd)


def admit_in(db: Database, session: Session, caller: Caller, cmd: Admit) -> Record:
    """`admit`'s change inside a unit of work the caller opened and authorized (an import
    admits many patients in one transaction)."""
    if not isinstance(cmd.record, dict):
        raise InvalidInput("a patient record must be a JSON object", ["$: expected an object"])
    today = facility_today(db)
    record = copy.deepcopy(cmd.record)
    record.setdefault("id", new_id("p"))
    record.setdefault("phase", "intake")
    record.setdefault("admitted", today.isoformat())
    check_shape("patients", record)  # before anything is derived from its fields
    if isinstance(record.get("authorizations"), list):
        record["authorizations"] = [
            {"id": new_id("AUTH"), **a} if isinstance(a, dict) else a
            for a in record["authorizations"]
        ]
    if not any(r.get("source") == "level_of_care" for r in items_of(record, "requirements")):
        derived = level_requirements(
            record.get("level_of_care"), record["phase"], _tables(), _session_types(session)
        )
        if derived:
            record["requirements"] = items_of(record, "requirements") + derived
    record = _normalised(record, today)
    check_record(session, "patients", record)
    if not cmd.duplicate_ok:
        _refuse_duplicate(session, record, db.facility_tz())
    position = (session.scalar(select(func.max(Patient.position))) or 0) + 1
    session.add(patient_row(record, position))
    session.flush()
    append_event(
        session,
        actor=caller.staff_id,
        action="patient.admit",
        entity_type="patient",
        entity_id=record["id"],
        after={"fields": sorted(record)},
        reason=cmd.reason,
    )
    return patient_record(_load(session, record["id"]))


def show(db: Database, caller: Caller, cmd: Show) -> Record:
    """The record as the caller may see it, with each authorization's units used, booked and
    left from the one unit ledger (`rules.units`, through the compliance report's reader)."""
    opened = authorize(
        db, caller, "view_patient", patient_id=cmd.patient_id, emergency=cmd.emergency
    )
    # Emergency access shows what the patient's own clinician sees (the reason is logged).
    relation = "own" if opened else relation_to(db, caller, cmd.patient_id)
    visible = permissions.visible_fields(caller.roles, relation)
    with db.read() as session:
        row = _load(session, cmd.patient_id)
        record = redact_record(patient_record(row), visible)
        units = [
            {
                "id": auth.id,
                "payer": auth.payer,
                "start": auth.start.isoformat(),
                "end": auth.end.isoformat(),
                "units": auth.units,
                **_ledger(session, auth),
            }
            for auth in row.authorizations
        ]
    out: Record = {"patient": record, "relation": relation}
    if "authorization" in visible:
        out["authorizations"] = units
    # Every look-up is in the access log, with the clinical fields it showed (PERM-AUDIT-ACCESS).
    access_log.record_reads(
        db,
        caller,
        access_log.PATIENT_VIEW,
        [cmd.patient_id],
        detail={"clinical": sorted(visible & CLINICAL)} if visible & CLINICAL else None,
    )
    return out


def update(db: Database, caller: Caller, cmd: Update) -> Record:
    """Merge the changes into the record. A new level of care or phase re-derives the
    requirements the level implies in the phase (source level_of_care); the treatment plan's,
    court's and payer's are kept."""
    if not isinstance(cmd.changes, dict):
        raise InvalidInput("changes must be a JSON object", ["$: expected an object"])
    if "id" in cmd.changes and cmd.changes["id"] != cmd.patient_id:
        raise InvalidInput("a patient's id cannot change", ["$.id: the id cannot change"])
    if cmd.changes.get("phase") == "discharged":  # the future sessions go with a discharge
        raise InvalidInput(
            "a patient is discharged with discharge (it cancels their future sessions)",
            ["$.phase: use discharge to discharge a patient"],
        )

    def edit(record: Record, session: Session) -> Record:
        merged = _merge(record, cmd.changes)
        changed = any(merged.get(k) != record.get(k) for k in ("level_of_care", "phase"))
        if changed and "requirements" not in cmd.changes:
            merged["requirements"] = rederive(
                items_of(merged, "requirements"),
                merged.get("level_of_care"),
                merged.get("phase"),
                _tables(),
                _session_types(session),
            )
        return merged

    return change_record(
        db, caller, cmd.patient_id, "update_patient", "patient.update", cmd.reason, edit
    )


def discharge(db: Database, caller: Caller, cmd: Discharge) -> Record:
    """Phase discharged; every future session of the patient alone cancelled, and the patient
    taken out of shared (group) sessions ahead, which go on for the others: each through the
    booking service, in the same transaction. The patient leaves their groups too. Returns the
    record, the cancelled sessions, the shared ones left, any a rule kept them in (with why),
    the groups left, and who must be told."""
    if not cmd.reason or not cmd.reason.strip():
        raise InvalidInput("a discharge needs a reason", ["$.reason: a reason is required"])
    authorize(db, caller, "discharge_patient", patient_id=cmd.patient_id)
    with db.session() as session:
        return discharge_in(db, session, caller, cmd)


def discharge_in(db: Database, session: Session, caller: Caller, cmd: Discharge) -> Record:
    """`discharge`'s change inside a unit of work the caller opened and authorized (a transfer
    admits the patient at another facility, committed only with it)."""
    now = cmd.now or now_utc()
    tz = db.facility_tz()
    row = _load(session, cmd.patient_id)
    if row.phase == "discharged":
        raise InvalidInput(
            f"patient {cmd.patient_id} is already discharged",
            ["$.phase: already discharged"],
        )
    before = patient_record(row)
    # Discharged first, so the cancellations are judged as a discharge's (the level of
    # care's weekly band no longer applies; a court's required sessions still need their
    # liaison's word).
    after = {**before, "phase": "discharged"}
    after["requirements"] = rederive(  # the level implies nothing a discharge allows
        items_of(after, "requirements"),
        after.get("level_of_care"),
        "discharged",
        _tables(),
        _session_types(session),
    )
    after = _normalised(after, facility_today(db))
    check_record(session, "patients", after, replaces=cmd.patient_id)
    _write(session, row, after)
    service = booking_service(db, session)
    cancelled: list[Record] = []
    kept: list[Record] = []
    moves: list[Record] = []
    left: list[Record] = []
    for appt in _future(session, cmd.patient_id, now):
        if len(appt.patient_ids) > 1:  # a group goes on for the others, without them
            others = [p for p in appt.patient_ids if p != cmd.patient_id]
            try:
                with session.begin_nested():
                    view = service.move(
                        caller.staff_id,
                        appt.id,
                        patients=others,
                        reason=f"{cmd.patient_id} discharged: {cmd.reason}",
                        override_reason=cmd.override_reason,
                    )
                left.append(_brief(appt, tz))
                moves.append(_notice_of(view, cmd.patient_id, cancelled=False))
            except (BookingConflict, RuleViolation, InvalidInput) as exc:
                kept.append({**_brief(appt, tz), "reason": str(exc)})
            continue
        view = service.cancel(
            caller.staff_id,
            appt.id,
            reason=f"discharged: {cmd.reason}",
            override_reason=cmd.override_reason,
        )
        cancelled.append(_brief(appt, tz))
        moves.append(_notice_of(view, cmd.patient_id, cancelled=True))
    groups = list(
        session.scalars(
            select(group_member.c.group_id).where(group_member.c.patient_id == cmd.patient_id)
        )
    )
    session.execute(delete(group_member).where(group_member.c.patient_id == cmd.patient_id))
    notify = who_to_tell(session, moves, patient_kind="sessions_cancelled")
    tell_patients(session, moves, change=f"discharge:{cmd.patient_id}")
    append_event(
        session,
        actor=caller.staff_id,
        action="patient.discharge",
        entity_type="patient",
        entity_id=cmd.patient_id,
        before={"phase": before.get("phase")},
        after={
            "phase": "discharged",
            "cancelled": [c["id"] for c in cancelled],
            "left": [a["id"] for a in left],
            "kept": [k["id"] for k in kept],
            "groups": groups,
            "notify": notify,
        },
        reason=cmd.reason,
    )
    return {
        "patient": patient_record(row),
        "cancelled": cancelled,
        "left": left,
        "kept": kept,
        "groups": groups,
        "notify": notify,
    }


# ------------------------------------------------------------------------------------ the core


def change_record(
    db: Database,
    caller: Caller,
    patient_id: str,
    action: str,
    event: str,
    reason: str | None,
    edit: Callable[[Record, Session], Record],
) -> Record:
    """Authorize, edit the record in the file's shape, check it as the file would, write it,
    audit it: one transaction. Returns the stored record."""
    authorize(db, caller, action, patient_id=patient_id)
    with db.session() as session:
        row = _load(session, patient_id)
        before = patient_record(row)
        after = _normalised(edit(copy.deepcopy(before), session), facility_today(db))
        check_record(session, "patients", after, replaces=patient_id)
        _write(session, row, after)
        changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
        append_event(
            session,
            actor=caller.staff_id,
            action=f"patient.{event}" if not event.startswith("patient.") else event,
            entity_type="patient",
            entity_id=patient_id,
            before={k: before.get(k) for k in changed},
            after={k: after.get(k) for k in changed},
            reason=reason,
        )
        return patient_record(row)


def _write(session: Session, row: Patient, record: Record) -> None:
    """Bring the row to the record, through the file's row builders; children keep their rows
    where they can (authorizations by id, the court order in place), so what refers to them
    (a unit ledger's history, a court report) still finds them."""
    fresh = patient_row({**record, "authorizations": [], "court_order": None}, row.position)
    for column in Patient.__table__.columns:
        if column.key not in ("id", "position"):
            setattr(row, column.key, getattr(fresh, column.key))
    requirements = list(fresh.requirements)
    fresh.requirements.clear()  # the builder's patient stays out of the session
    row.requirements = requirements
    order = record.get("court_order")
    if order is None:
        row.court_order = None
    elif row.court_order is None:
        row.court_order = court_order_row(order)
    else:
        new = court_order_row(order)
        for column in CourtOrder.__table__.columns:
            if column.key not in ("id", "patient_id"):
                setattr(row.court_order, column.key, getattr(new, column.key))
        order_requirements = list(new.requirements)
        new.requirements.clear()  # the builder's order stays out of the session
        row.court_order.requirements = order_requirements
    by_id = {a.id: a for a in row.authorizations if a.id is not None}
    rows = []
    for auth in record.get("authorizations", []):
        new = authorization_row(auth)
        old = by_id.get(auth.get("id"))
        if old is None:
            rows.append(new)
            continue
        for key in ("payer", "session_types", "units", "used", "start", "end"):
            setattr(old, key, getattr(new, key))
        rows.append(old)
    row.authorizations = rows
    session.flush()


def _normalised(record: Record, today: date) -> Record:
    """What the record says in one way only: consent_disclose_to follows the recorded
    consents; empty lists and objects are left out (as the file's export leaves them)."""
    if isinstance(record.get("contact"), dict):
        record["contact"] = with_derived_list(record["contact"], today)
    return {k: v for k, v in record.items() if v is not None and v != [] and v != {}}


def _merge(record: Record, changes: Record) -> Record:
    """PATCH: objects merge key by key (one level: `contact`, `preferences`, `court_order`),
    anything else replaces; None removes."""
    out = dict(record)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict) and key != "availability":
            out[key] = {k: v for k, v in {**out[key], **value}.items() if v is not None}
        else:
            out[key] = value
    return out


def likely_duplicate(db: Database, caller: Caller, record: Record) -> Record | None:
    """The patient in care that `record` likely describes again (see `_duplicate_of`), for a
    door that asks before it admits; None when there is none."""
    authorize(db, caller, "admit_patient")
    with db.read() as session:
        return _duplicate_of(session, record, db.facility_tz())


def _refuse_duplicate(session: Session, record: Record, tz: Any) -> None:
    existing = _duplicate_of(session, record, tz)
    if existing is None:
        return
    raise LikelyDuplicate(
        f"{existing['name']} ({existing['id']}) is already a patient with the same "
        f"{existing['matched_on']}; use that record, or admit anyway with duplicate_ok",
        existing,
    )


def _duplicate_of(session: Session, record: Record, tz: Any) -> Record | None:
    """The same walk-in reported twice must not become two patients: a patient not discharged
    with the same name (case aside) and, when both are known, the same date of birth, or with
    the same phone number, is likely the same person."""
    name = str(record.get("name") or "").strip().casefold()
    dob, phone = record.get("dob"), _digits((record.get("contact") or {}).get("phone"))
    rows = session.scalars(
        select(Patient)
        .where((Patient.phase.is_(None)) | (Patient.phase != "discharged"))
        .order_by(Patient.position)
    )
    for row in rows:
        same_name = row.name.strip().casefold() == name and (
            not dob or row.dob is None or row.dob.isoformat() == str(dob)
        )
        same_phone = bool(phone) and _digits((row.contact or {}).get("phone")) == phone
        if not (same_name or same_phone):
            continue
        at = session.scalar(
            select(AuditEvent.at)
            .where(AuditEvent.entity_id == row.id, AuditEvent.action == "patient.admit")
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
        matched = "phone"
        if same_name:
            matched = "name and date of birth" if dob and row.dob else "name"
        return {
            "id": row.id,
            "name": row.name,
            "sex": row.sex,
            "admitted": row.admitted.isoformat() if row.admitted else None,
            "admitted_at": local_iso(at, tz) if at else None,
            "matched_on": matched,
        }
    return None


def _digits(phone: object) -> str:
    """A phone number as its last ten digits ('(555) 010-2000' and '555.010.2000' are one)."""
    return "".join(c for c in str(phone or "") if c.isdigit())[-10:]


def find_patient(session: Session, patient_id: str) -> Patient | None:
    """A patient with what their record holds (requirements, authorizations, court order)."""
    return session.scalar(
        select(Patient)
        .where(Patient.id == patient_id)
        .options(
            selectinload(Patient.requirements),
            selectinload(Patient.authorizations),
            selectinload(Patient.court_order).selectinload(CourtOrder.requirements),
        )
    )


def _load(session: Session, patient_id: str) -> Patient:
    row = find_patient(session, patient_id)
    if row is None:
        raise NotFound(f"no patient with id {patient_id!r}")
    return row


def _future(session: Session, patient_id: str, now: datetime) -> list[Appointment]:
    return list(
        session.scalars(
            select(Appointment)
            .join(AppointmentPatient, AppointmentPatient.appointment_id == Appointment.id)
            .where(
                AppointmentPatient.patient_id == patient_id,
                Appointment.status.in_(SCHEDULED_STATUSES),
                Appointment.start >= now,
            )
            .order_by(Appointment.start, Appointment.id)
        )
    )


def _notice_of(view: AppointmentView, patient: str, *, cancelled: bool) -> Record:
    """A discharge's change as `who_to_tell` reads it: a cancelled session moves to no time
    (its clinicians and the patient hear); one the patient left keeps its time (its
    facilitators hear)."""
    start = view.start.isoformat()
    return {
        "appointment": view.id,
        "before": {"staff": list(view.staff), "start": start, "patients": [patient]},
        "after": {"staff": [], "start": None} if cancelled else {"staff": [], "start": start},
    }


def _brief(appt: Appointment, tz: Any) -> Record:
    return {
        "id": appt.id,
        "session_type": appt.session_type_id,
        "start": local_iso(appt.start, tz),
        "staff": list(appt.staff_ids),
        "group": appt.group_id,
    }


def _ledger(session: Session, auth: Any) -> Record:
    usage = authorization_usage(session, auth)
    return {"used": usage["used"], "booked": usage["booked"], "left": usage["remaining"]}


def authorization_index(auths: list[Record], auth_id: str) -> int:
    for i, auth in enumerate(auths):
        if auth.get("id") == auth_id:
            return i
    raise NotFound(f"no authorization {auth_id!r} for this patient")


# The record's fields → the permissions pack's field names (minimum necessary).
FIELD_OF = {
    "name": "name",
    "dob": "dob",
    "mrn": "demographics",
    "sex": "demographics",
    "admitted": "demographics",
    "level_of_care": "level_of_care",
    "requirements": "level_of_care",
    "phase": "phase",
    "acuity": "needs",
    "needs": "needs",
    "primary_clinician": "clinician",
    "availability": "time",
    "preferences": "time",
    "authorizations": "authorization",
    "court_order": "court_order",
    "family_contacts": "contact",
}
CONSENT_KEYS = ("consent_disclose_to", "consents", "consent_reminders")
# The one contact detail a role may see without seeing them all (the pack's `phone` field).
CONTACT_FIELD_OF = {"phone": "phone"}
CLINICAL = frozenset({"level_of_care", "phase", "needs", "court_order", "consents", "notes"})


def redact_record(record: Record, visible: set[str]) -> Record:
    """The record with only the fields the pack lets `visible` show (the id always)."""
    out = {
        k: v for k, v in record.items() if k == "id" or (k in FIELD_OF and FIELD_OF[k] in visible)
    }
    contact = record.get("contact") or {}
    shown = {
        k: v
        for k, v in contact.items()
        if (k in CONSENT_KEYS and "consents" in visible)
        or (k not in CONSENT_KEYS and "contact" in visible)
        or CONTACT_FIELD_OF.get(k) in visible
    }
    if shown:
        out["contact"] = shown
    return out


def items_of(record: Record, key: str) -> list[Any]:
    return list(record.get(key) or [])


def _tables() -> Any:
    return default_service().packs.tables


def _session_types(session: Session) -> dict[str, SessionTypeFacts]:
    return {row.id: session_type_facts(row) for row in session.scalars(select(SessionType))}


def facility_today(db: Database) -> date:
    return now_utc().astimezone(db.facility_tz()).date()


def new_id(prefix: str) -> str:
    """A fresh id for a record the person gave none (patients p-…, authorizations AUTH-…)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
