"""Build the plain facts of `rules.model` from the database (a Session and the clinic models).

The only module of the rules layer that reads the ORM. Facts the facility file has no field for
(extra roles, intern hours, per-week caps, keep-apart pairs, commitments) come from the packs'
`data` (ROTA_RULES_DIR).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from clinic import network
from clinic.consents import disclose_to
from clinic.errors import NotFound
from clinic.models import (
    ACTIVE_STATUSES,
    OUTCOME_STATUSES,
    Appointment,
    AppointmentPatient,
    Authorization,
    Facility,
    Group,
    Patient,
    SessionType,
    Staff,
    group_member,
)
from clinic.timeutil import parse_weekly, zone
from rules.derive import age_from_dob
from rules.loader import FacilityData, PackSet
from rules.model import (
    AppointmentFacts,
    AuthorizationFacts,
    CourtOrderFacts,
    Disclosure,
    GroupFacts,
    PatientFacts,
    SessionTypeFacts,
    Situation,
    StaffFacts,
)

_COUNTED = tuple(dict.fromkeys((*ACTIVE_STATUSES, *OUTCOME_STATUSES)))
"""Appointments the facts carry: those holding time, and held ones whose outcome may use a payer
unit (a late cancellation, when the pack says so); plain cancellations count for nothing."""


class AppointmentLike(Protocol):
    """clinic.booking.AppointmentView, or anything shaped like it."""

    id: str
    session_type: str
    start: datetime
    end: datetime
    staff: Sequence[str]
    patients: Sequence[str]
    room: str | None
    group: str | None
    status: str
    # and, optionally, `outcomes: Mapping[str, str]` (participants' own outcomes)


class ChangeLike(Protocol):
    """clinic.booking.ProposedChange, structurally."""

    action: str
    actor: str
    appointment: Any
    before: Any
    reason: str | None
    override_reason: str | None


# ------------------------------------------------------------------ single rows


def staff_facts(row: Staff, data: FacilityData) -> StaffFacts:
    return StaffFacts(
        id=row.id,
        role=row.role,
        credentials=frozenset(row.credentials or ()),
        specializations=frozenset(row.specializations or ()),
        supervisor=row.supervisor_id,
        supervised_hours=data.interns.get(row.id),
        extra_roles=data.roles.get(row.id, frozenset()),
        availability=parse_weekly(row.availability),
        unavailable=tuple((u.start, u.end) for u in row.unavailability),
    )


def patient_facts(row: Patient, on: date, data: FacilityData) -> PatientFacts:
    contact = row.contact or {}
    order = row.court_order
    return PatientFacts(
        id=row.id,
        age=age_from_dob(row.dob, on),
        level_of_care=row.level_of_care,
        phase=row.phase,
        admitted=row.admitted,
        needs=frozenset(row.needs or ()),
        primary_clinician=row.primary_clinician_id,
        availability=parse_weekly(row.availability),
        authorizations=tuple(authorization_facts(a, data) for a in row.authorizations),
        court_order=None
        if order is None
        else CourtOrderFacts(
            start=order.start,
            end=order.end,
            requirements={r.session_type_id: r.per_week for r in order.requirements},
            liaison=order.liaison_id,
            report_to=order.report_to,
        ),
        consents=consent_recipients(disclose_to(contact, on)),
        consent_reminders=bool(contact.get("consent_reminders", False)),
        requirements=tuple(
            (r.session_type_id, r.per_week, r.source or "treatment_plan") for r in row.requirements
        ),
        commitments=data.commitments.get(row.id, ()),
    )


def authorization_facts(row: Authorization, data: FacilityData) -> AuthorizationFacts:
    return AuthorizationFacts(
        id=row.id or f"{row.payer}#{row.pk}",
        payer=row.payer,
        session_types=frozenset(row.session_types or ()),
        units=row.units,
        used=row.used or 0,
        start=row.start,
        end=row.end,
        max_units_per_week=data.authorization_caps.get(row.id or ""),
    )


def patient_history(session: Session, patient: str) -> tuple[AppointmentFacts, ...]:
    """The patient's appointments that hold time or had an outcome (what a unit ledger reads),
    each with the patient's own outcome as its status."""
    return tuple(a.for_patient(patient) for a in _existing(session, [patient], exclude=None))


def patient_histories(
    session: Session, patients: Iterable[str]
) -> dict[str, tuple[AppointmentFacts, ...]]:
    """`patient_history` of many patients in one query (a report over every authorization)."""
    pids = sorted(set(patients))
    found: dict[str, list[AppointmentFacts]] = {pid: [] for pid in pids}
    for a in _existing(session, pids, exclude=None):
        for pid in a.patients:
            if pid in found:
                found[pid].append(a)
    return {pid: tuple(rows) for pid, rows in found.items()}


def consent_recipients(entries: Iterable[object]) -> frozenset[str]:
    """Part 2 consent recipients, lower-case. "family:spouse" (a class and who in it) names
    both the family and the spouse."""
    out: set[str] = set()
    for entry in entries:
        text = str(entry).strip().lower()
        out.add(text)
        if ":" in text:
            out.update(part.strip() for part in text.split(":") if part.strip())
    return frozenset(out)


def session_type_facts(row: SessionType) -> SessionTypeFacts:
    return SessionTypeFacts(
        id=row.id,
        minutes=row.minutes,
        cpt=row.cpt,
        staff_roles=frozenset(row.staff_roles or ()),
        credentials_any=frozenset(row.credentials_any or ()),
        min_patients=row.min_patients or 1,
        max_patients=row.max_patients or 1,
    )


def appointment_facts(a: Appointment | AppointmentLike) -> AppointmentFacts:
    if isinstance(a, Appointment):
        return AppointmentFacts(
            id=a.id,
            session_type=a.session_type_id,
            start=a.start,
            end=a.end,
            staff=tuple(a.staff_ids),
            patients=tuple(a.patient_ids),
            room=a.room_id,
            group=a.group_id,
            status=a.status,
            outcomes=tuple(a.outcomes.items()),
        )
    return AppointmentFacts(
        id=a.id,
        session_type=a.session_type,
        start=a.start,
        end=a.end,
        staff=tuple(a.staff),
        patients=tuple(a.patients),
        room=a.room,
        group=a.group,
        status=a.status,
        outcomes=tuple(getattr(a, "outcomes", {}).items()),
    )


def _group_facts(session: Session, row: Group, before: datetime | None) -> GroupFacts:
    held = 0
    if before is not None:
        held = (
            session.scalar(
                select(func.count())
                .select_from(Appointment)
                .where(
                    Appointment.group_id == row.id,
                    Appointment.start < before,
                    Appointment.status.in_(ACTIVE_STATUSES),
                )
            )
            or 0
        )
    return GroupFacts(
        id=row.id,
        session_type=row.session_type_id,
        members=frozenset(p.id for p in row.members),
        facilitators=tuple(s.id for s in row.facilitators),
        capacity=row.capacity,
        closed=bool(row.closed),
        sessions_held_before=held,
    )


# ------------------------------------------------------------------ a whole decision


def facility_zone(session: Session) -> ZoneInfo:
    name = session.scalar(select(Facility.timezone).limit(1))
    return zone(name or "UTC")


def actor_facts(session: Session, actor: str, data: FacilityData) -> StaffFacts:
    """The staff member asking. A person of another facility of a network, named STAFF@FACILITY
    (assistant.tenancy), acts with the roles a network-wide grant gives them; anyone else not on
    the staff list has no role and may do nothing."""
    row = session.get(Staff, actor)
    if row is None:
        granted = _granted(session, actor)
        if granted:
            role = sorted(granted)[0]
            return StaffFacts(id=actor, role=role, extra_roles=granted - {role})
        return StaffFacts(id=actor, role="unknown", extra_roles=data.roles.get(actor, frozenset()))
    return staff_facts(row, data)


def _granted(session: Session, actor: str) -> frozenset[str]:
    """The network-wide roles of STAFF@FACILITY (none for a plain id, or without a network)."""
    staff, at, facility = actor.rpartition("@")
    if not at or not staff or network.here(session) is None:
        return frozenset()
    return network.granted_roles(session, facility, staff)


def build_situation(
    session: Session,
    packs: PackSet,
    *,
    actor: str,
    appointment: AppointmentFacts | None = None,
    before: AppointmentFacts | None = None,
    patient: str | None = None,
    group: str | None = None,
    disclosure: Disclosure | None = None,
    new_status: str | None = None,
    override_reason: str | None = None,
    week_of: date | None = None,
    now: datetime | None = None,
) -> tuple[StaffFacts, Situation]:
    """Everything one decision needs, read in a handful of queries."""
    data = packs.data
    tz = facility_zone(session)
    now = now or datetime.now(UTC)
    on = appointment.start.astimezone(tz).date() if appointment else (week_of or now.date())
    pids = list(appointment.patients if appointment else ())
    for extra in (patient, disclosure.patient if disclosure else None):
        if extra and extra not in pids:
            pids.append(extra)
    patient_rows = _patients(session, pids)
    actor_row = actor_facts(session, actor, data)

    staff_ids = {actor}
    if appointment:
        staff_ids |= set(appointment.staff)
    if before:
        staff_ids |= set(before.staff)
    if disclosure and disclosure.recipient_staff:
        staff_ids.add(disclosure.recipient_staff)
    staff_ids |= {p.primary_clinician_id for p in patient_rows if p.primary_clinician_id}
    staff_rows = _staff(session, staff_ids)
    staff_ids |= {s.supervisor_id for s in staff_rows if s.supervisor_id}
    staff_rows = _staff(session, staff_ids)
    staff = {s.id: staff_facts(s, data) for s in staff_rows}
    if actor_row.id not in staff:
        staff[actor_row.id] = actor_row

    existing = _existing(session, pids, exclude=appointment.id if appointment else None)
    type_ids = {a.session_type for a in existing}
    if appointment:
        type_ids.add(appointment.session_type)
    types = {
        t.id: session_type_facts(t)
        for t in session.scalars(select(SessionType).where(SessionType.id.in_(type_ids)))
    }
    groups = _groups(session, pids, appointment.group if appointment else None, group, appointment)
    return actor_row, Situation(
        tz=tz,
        now=now,
        appointment=appointment,
        before=before,
        patients={p.id: patient_facts(p, on, data) for p in patient_rows},
        staff=staff,
        session_types=types,
        groups=groups,
        existing=existing,
        keep_apart=data.keep_apart,
        program_capability=data.program_capability,
        new_status=new_status,
        override_reason=override_reason,
        subject_patient=patient,
        subject_group=group,
        disclosure=disclosure,
        week_of=week_of,
    )


def situation_for_change(
    session: Session, packs: PackSet, change: ChangeLike, now: datetime | None = None
) -> tuple[StaffFacts, Situation]:
    """The situation of a booking service change (book, cancel, move, set_status)."""
    after = appointment_facts(change.appointment)
    before = appointment_facts(change.before) if change.before is not None else None
    # The status being recorded: a cancellation records `cancelled` or `late_cancelled`, and the
    # attendance rules (CRT-ATTENDANCE) read it whichever action carried it.
    new_status = after.status if change.action in ("set_status", "cancel") else None
    if change.action == "cancel" and before is not None:
        after = before  # judge the appointment being cancelled, as it was
    return build_situation(
        session,
        packs,
        actor=change.actor,
        appointment=after,
        before=before,
        new_status=new_status,
        override_reason=change.override_reason,
        now=now,
    )


def _patients(session: Session, ids: Iterable[str]) -> list[Patient]:
    ids = list(ids)
    if not ids:
        return []
    rows = list(
        session.scalars(
            select(Patient)
            .where(Patient.id.in_(ids))
            .options(
                selectinload(Patient.authorizations),
                selectinload(Patient.court_order),
                selectinload(Patient.requirements),
            )
        )
    )
    missing = set(ids) - {p.id for p in rows}
    if missing:
        raise NotFound(f"no patient with id {sorted(missing)[0]!r}")
    return rows


def _staff(session: Session, ids: Iterable[str]) -> list[Staff]:
    return list(
        session.scalars(
            select(Staff).where(Staff.id.in_(list(ids))).options(selectinload(Staff.unavailability))
        )
    )


def _existing(
    session: Session, pids: list[str], exclude: str | None
) -> tuple[AppointmentFacts, ...]:
    if not pids:
        return ()
    query = (
        select(Appointment)
        .join(AppointmentPatient)
        .where(AppointmentPatient.patient_id.in_(pids), Appointment.status.in_(_COUNTED))
        .options(selectinload(Appointment.staff_links), selectinload(Appointment.patient_links))
    )
    if exclude:
        query = query.where(Appointment.id != exclude)
    return tuple(appointment_facts(a) for a in session.scalars(query).unique())


def _groups(
    session: Session,
    pids: list[str],
    appointment_group: str | None,
    subject_group: str | None,
    appointment: AppointmentFacts | None,
) -> dict[str, GroupFacts]:
    wanted = {appointment_group, subject_group}
    ids = set(
        session.scalars(select(group_member.c.group_id).where(group_member.c.patient_id.in_(pids)))
    ) | {g for g in wanted if g}
    rows = list(
        session.scalars(
            select(Group)
            .where(Group.id.in_(ids))
            .options(selectinload(Group.members), selectinload(Group.facilitators))
        )
    )
    out: dict[str, GroupFacts] = {}
    for row in rows:
        member_ids = {p.id for p in row.members}
        if row.id in wanted or member_ids & set(pids):
            before = appointment.start if appointment and row.id == appointment_group else None
            if row.id == subject_group and before is None:
                before = datetime.now(UTC)
            out[row.id] = _group_facts(session, row, before)
    return out


# ------------------------------------------------------------------ the whole facility (solver)


@dataclass(frozen=True)
class World:
    """Everything `constraints_for` reads, for one period."""

    patients: tuple[PatientFacts, ...]
    staff: tuple[StaffFacts, ...]
    session_types: dict[str, SessionTypeFacts]
    groups: tuple[GroupFacts, ...]
    appointments: tuple[AppointmentFacts, ...]
    tz: ZoneInfo


def load_world(session: Session, packs: PackSet, period: tuple[date, date]) -> World:
    data = packs.data
    tz = facility_zone(session)
    start = datetime.combine(period[0], datetime.min.time(), tzinfo=tz)
    patients = list(
        session.scalars(
            select(Patient).options(
                selectinload(Patient.authorizations),
                selectinload(Patient.court_order),
                selectinload(Patient.requirements),
            )
        )
    )
    staff = list(session.scalars(select(Staff).options(selectinload(Staff.unavailability))))
    appointments = session.scalars(
        select(Appointment)
        .where(Appointment.status.in_(_COUNTED))
        .options(selectinload(Appointment.staff_links), selectinload(Appointment.patient_links))
    )
    groups = session.scalars(
        select(Group).options(selectinload(Group.members), selectinload(Group.facilitators))
    )
    return World(
        patients=tuple(patient_facts(p, period[0], data) for p in patients),
        staff=tuple(staff_facts(s, data) for s in staff),
        session_types={t.id: session_type_facts(t) for t in session.scalars(select(SessionType))},
        groups=tuple(_group_facts(session, g, start) for g in groups),
        appointments=tuple(appointment_facts(a) for a in appointments),
        tz=tz,
    )
