"""Loading a facility file: validate it whole, then write it in one transaction."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from clinic import network
from clinic.audit import append_event
from clinic.catalogue import BUILTIN_SESSION_TYPES
from clinic.changes import AllowAll, BookingPolicy, BookingRequest, ProposedChange, judge, view_of
from clinic.db import Database
from clinic.errors import InvalidInput, RotaError
from clinic.facility_file.validate import FACILITY_DEFAULTS, validate
from clinic.models import (
    ACTIVE_STATUSES,
    SCHEDULED_STATUSES,
    Appointment,
    AppointmentPatient,
    AppointmentStaff,
    Authorization,
    ConversationState,
    CourtOrder,
    CourtOrderRequirement,
    Facility,
    FacilityClosure,
    Group,
    Patient,
    PatientRequirement,
    Proposal,
    Room,
    RoomUnavailability,
    Series,
    SeriesOccurrence,
    SessionType,
    Staff,
    StaffUnavailability,
    group_facilitator,
    group_member,
)
from clinic.placement import Placement, check_outcome_time, place
from clinic.timeutil import now_utc, parse_date, parse_datetime, zone

FILE_REASON = "facility-file"


def load_facility(
    db: Database,
    data: dict[str, Any],
    *,
    replace: bool = False,
    actor: str = "operator",
    source: str | None = None,
    policy: BookingPolicy | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
) -> dict[str, int]:
    """Validate, then write the whole facility in one transaction. Returns counts per section.

    Appointments still to happen (proposed, booked, checked in) are booked one by one, in file
    order, through the booking service's hard checks (`clinic.placement.place`) and `policy`
    (the rule packs, from the composition root; none: hard checks only), each seeing those
    before it. History (attended or no-show, which must have started before `now`, and
    cancelled ones) is imported as recorded: it describes what happened under the hours,
    absences and rules of its day, so only the file's own checks apply to it. Every violation
    is listed with its JSON path, and nothing is written. `dry_run` checks all of it as if
    replacing the facility, then writes nothing."""
    problems = validate(data)
    if problems:
        raise InvalidInput(f"the facility file has {len(problems)} problem(s)", problems)
    tz = zone(data["facility"]["timezone"])
    with db.session() as session:
        if session.scalar(select(Facility.id).limit(1)) is not None:
            if not (replace or dry_run):
                raise InvalidInput(
                    "this database already holds a facility; add --replace to overwrite it "
                    "(its appointments are replaced too; the audit log is kept)"
                )
            _clear(session)
        counts = _insert(session, data, tz)
        problems = _insert_appointments(
            session,
            data.get("appointments", []),
            tz,
            policy or AllowAll(),
            actor,
            now or now_utc(),
        )
        if problems:
            raise InvalidInput(f"the facility file has {len(problems)} problem(s)", problems)
        if dry_run:
            session.rollback()
            return counts
        digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
        append_event(
            session,
            actor=actor,
            action="facility.load",
            entity_type="facility",
            entity_id=data["facility"]["name"][:64],
            after={"counts": counts, "sha256": digest, "source": source},
            reason="replace" if replace else "initial load",
        )
        if db.facility is not None:  # one facility of a network: listed there, atomically
            network.register(session, db.facility, str(data["facility"]["name"]))
    db.forget_facility()
    return counts


def _clear(session: Session) -> None:
    for table in (SeriesOccurrence, Series, AppointmentPatient, AppointmentStaff, Appointment):
        session.execute(delete(table))
    session.execute(delete(group_member))
    session.execute(delete(group_facilitator))
    for model in (
        Group,
        CourtOrderRequirement,
        CourtOrder,
        Authorization,
        PatientRequirement,
        Patient,
        StaffUnavailability,
        RoomUnavailability,
        ConversationState,
        Proposal,
        SessionType,
        Staff,
        Room,
        FacilityClosure,
        Facility,
    ):
        session.execute(delete(model))


def _insert(session: Session, data: dict[str, Any], tz: ZoneInfo) -> dict[str, int]:
    facility = {**FACILITY_DEFAULTS, **data["facility"]}
    session.add(
        Facility(
            name=facility["name"],
            timezone=facility["timezone"],
            open_days=facility["open_days"],
            open=facility["open"],
            close=facility["close"],
            slot_minutes=facility["slot_minutes"],
            calendar_patient_initials=facility.get("calendar_patient_initials", False),
        )
    )
    for i, r in enumerate(data["rooms"]):
        session.add(room_row(r, tz, i))
    for i, s in enumerate(data["staff"]):
        session.add(staff_row(s, tz, i))
    for i, t in enumerate(data.get("session_types", BUILTIN_SESSION_TYPES)):
        session.add(
            SessionType(
                id=t["id"],
                name=t.get("name"),
                minutes=t["minutes"],
                cpt=t.get("cpt"),
                room_kinds=t.get("room_kinds"),
                room_features=t.get("room_features"),
                staff_roles=t.get("staff_roles"),
                credentials_any=t.get("credentials_any"),
                min_patients=t.get("min_patients", 1),
                max_patients=t.get("max_patients", 1),
                position=i,
            )
        )
    session.flush()
    for i, p in enumerate(data.get("patients", [])):
        session.add(patient_row(p, i))
    session.flush()
    for i, g in enumerate(data.get("groups", [])):
        session.add(group_row(g, i))
    session.flush()
    for g in data.get("groups", []):
        insert_group_people(session, g)
    session.flush()
    return {
        section: len(data.get(section, []))
        for section in ("rooms", "staff", "patients", "groups", "appointments")
    }


# One record of the file -> its rows. The facility file's load and the living record's use cases
# (admit, add staff, create a group, ...) build rows here, so a record means one thing.


def room_row(r: dict[str, Any], tz: ZoneInfo, position: int) -> Room:
    return Room(
        id=r["id"],
        name=r["name"],
        kind=r["kind"],
        capacity=r["capacity"],
        features=r.get("features"),
        position=position,
        closures=_periods(RoomUnavailability, r, tz),
    )


def staff_row(s: dict[str, Any], tz: ZoneInfo, position: int) -> Staff:
    return Staff(
        id=s["id"],
        name=s["name"],
        role=s["role"],
        credentials=s.get("credentials"),
        specializations=s.get("specializations"),
        supervisor_id=s.get("supervisor"),
        max_minutes_per_week=s.get("max_minutes_per_week"),
        availability=s.get("availability"),
        slack_user_id=s.get("slack_user_id"),
        email=s.get("email"),
        position=position,
        unavailability=_periods(StaffUnavailability, s, tz),
    )


def patient_row(p: dict[str, Any], position: int) -> Patient:
    order = p.get("court_order")
    return Patient(
        id=p["id"],
        name=p["name"],
        dob=_date(p.get("dob")),
        mrn=p.get("mrn"),
        level_of_care=p.get("level_of_care"),
        phase=p.get("phase"),
        admitted=_date(p.get("admitted")),
        acuity=p.get("acuity"),
        needs=p.get("needs"),
        sex=p.get("sex"),
        primary_clinician_id=p.get("primary_clinician"),
        availability=p.get("availability"),
        preferences=p.get("preferences"),
        contact=p.get("contact"),
        family_contacts=p.get("family_contacts"),
        position=position,
        requirements=[
            PatientRequirement(
                session_type_id=r["session_type"], per_week=r["per_week"], source=r.get("source")
            )
            for r in p.get("requirements", [])
        ],
        court_order=court_order_row(order) if order else None,
        authorizations=[authorization_row(a) for a in p.get("authorizations", [])],
    )


def court_order_row(order: dict[str, Any]) -> CourtOrder:
    return CourtOrder(
        case_number=order["case_number"],
        court=order.get("court"),
        start=parse_date(order["start"]),
        end=parse_date(order["end"]),
        liaison_id=order.get("liaison"),
        report_to=order.get("report_to"),
        requirements=[
            CourtOrderRequirement(session_type_id=r["session_type"], per_week=r["per_week"])
            for r in order["requirements"]
        ],
    )


def authorization_row(a: dict[str, Any]) -> Authorization:
    return Authorization(
        id=a.get("id"),
        payer=a["payer"],
        session_types=a["session_types"],
        units=a["units"],
        used=a.get("used", 0),
        start=parse_date(a["start"]),
        end=parse_date(a["end"]),
    )


def group_row(g: dict[str, Any], position: int) -> Group:
    """The group itself; its facilitators and members go in with `insert_group_people`."""
    return Group(
        id=g["id"],
        name=g["name"],
        session_type_id=g["session_type"],
        capacity=g.get("capacity"),
        closed=g.get("closed", False),
        sessions_per_week=g.get("sessions_per_week"),
        min_days_apart=g.get("min_days_apart", 0),
        schedule=g.get("schedule"),
        room_id=g.get("room"),
        availability=g.get("availability"),
        position=position,
    )


def insert_group_people(session: Session, g: dict[str, Any]) -> None:
    """A group's facilitators and members, in the file's order (the group row must exist)."""
    if g["facilitators"]:
        session.execute(
            group_facilitator.insert(),
            [
                {"group_id": g["id"], "staff_id": s, "position": j}
                for j, s in enumerate(g["facilitators"])
            ],
        )
    if g["members"]:
        session.execute(
            group_member.insert(),
            [
                {"group_id": g["id"], "patient_id": m, "position": j}
                for j, m in enumerate(g["members"])
            ],
        )


def _insert_appointments(
    session: Session,
    appointments: list[dict[str, Any]],
    tz: ZoneInfo,
    policy: BookingPolicy,
    actor: str,
    now: datetime,
) -> list[str]:
    """History as recorded, then every appointment still to happen as a booking. Returns the
    violations ('$.appointments[i]: why'); the caller rolls back when there is any."""
    problems: list[str] = []
    upcoming: list[tuple[int, dict[str, Any]]] = []
    rows: list[dict[str, Any]] = []
    staff_links: list[dict[str, Any]] = []
    patient_links: list[dict[str, Any]] = []
    for i, a in enumerate(appointments):
        status = a.get("status", "booked")
        start = parse_datetime(a["start"], tz)
        # A member's own outcome, like the session's, only once the session has begun.
        early = [
            f"$.appointments[{i}].outcomes.{pid}: {exc}"
            for pid, own in (a.get("outcomes") or {}).items()
            if (exc := _outcome_problem(a["id"], own, start, now))
        ]
        if early:
            problems += early
            continue
        if status in SCHEDULED_STATUSES:  # still to happen: booked as the service would
            upcoming.append((i, a))
            continue
        try:
            check_outcome_time(a["id"], status, start, now)
        except RotaError as exc:
            problems.append(f"$.appointments[{i}]: {exc}")
            continue
        booked_at = parse_datetime(a["booked_at"], tz) if a.get("booked_at") else None
        end = start + timedelta(minutes=a["minutes"])
        values, staff, patients = _row_values(a, i, start, end, a.get("room"), now, booked_at)
        rows.append(values)
        staff_links += [{**link, "appointment_id": a["id"]} for link in staff]
        patient_links += [{**link, "appointment_id": a["id"]} for link in patients]
    # History in bulk (a demo's twelve weeks are thousands of rows): nothing to check per row.
    for model, batch in (
        (Appointment, rows),
        (AppointmentStaff, staff_links),
        (AppointmentPatient, patient_links),
    ):
        if batch:
            session.execute(insert(model), batch)
    session.flush()
    # Hold the rows the checks look up, so the session's (weak) identity map answers them.
    rows = [session.scalars(select(model)).all() for model in (Staff, Patient, Room, SessionType)]
    for i, a in upcoming:
        request = BookingRequest(
            session_type=a["session_type"],
            start=parse_datetime(a["start"], tz),
            staff=a["staff"],
            patients=a["patients"],
            room=a.get("room"),
            minutes=a["minutes"],
            group=a.get("group"),
            appointment_id=a["id"],
            status=a.get("status", "booked"),
        )
        try:
            with session.begin_nested():  # a refused booking leaves nothing behind
                placement = place(session, request, exclude_id=None)
                booked_at = parse_datetime(a["booked_at"], tz) if a.get("booked_at") else None
                row = _row(
                    a, i, placement.start, placement.end, _room_id(placement), now, booked_at
                )
                session.add(row)
                session.flush()
                change = ProposedChange("book", actor, view_of(row), None, FILE_REASON, None)
                judge(policy, session, change)
        except RotaError as exc:
            problems.append(f"$.appointments[{i}]: {exc}")
    del rows
    return problems


def _outcome_problem(appointment_id: str, status: str, start: datetime, now: datetime) -> str:
    try:
        check_outcome_time(appointment_id, status, start, now)
    except RotaError as exc:
        return str(exc)
    return ""


def _room_id(placement: Placement) -> str | None:
    return placement.room.id if placement.room else None


def _row(
    a: dict[str, Any],
    i: int,
    start: datetime,
    end: datetime,
    room: str | None,
    now: datetime,
    booked_at: datetime | None = None,
) -> Appointment:
    values, staff, patients = _row_values(a, i, start, end, room, now, booked_at)
    return Appointment(
        **values,
        staff_links=[AppointmentStaff(**link) for link in staff],
        patient_links=[AppointmentPatient(**link) for link in patients],
    )


def _row_values(
    a: dict[str, Any],
    i: int,
    start: datetime,
    end: datetime,
    room: str | None,
    now: datetime,
    booked_at: datetime | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """One appointment of the file as its row and its staff and patient links (column values).
    `booked_at` (the file's, when it has one) is when it was booked: its creation time."""
    status = a.get("status", "booked")
    active = status in ACTIVE_STATUSES
    outcomes: dict[str, str] = a.get("outcomes") or {}
    own = {p: outcomes.get(p, status) for p in a["patients"]}
    values = {
        "id": a["id"],
        "session_type_id": a["session_type"],
        "start": start,
        "end": end,
        "room_id": room,
        "group_id": a.get("group"),
        "status": status,
        "active": active,
        "pinned": a.get("pinned", False),
        "note": a.get("note"),
        "created_at": booked_at or now,
        "created_by": FILE_REASON,
        "updated_at": now,
        "updated_by": FILE_REASON,
        "position": i,
    }
    staff = [
        {"staff_id": s, "start": start, "end": end, "active": active, "position": j}
        for j, s in enumerate(a["staff"])
    ]
    patients = [
        # A member's late cancel frees their time, not the session's.
        {
            "patient_id": p,
            "start": start,
            "end": end,
            "active": active and own[p] in ACTIVE_STATUSES,
            "status": own[p],
            "position": j,
        }
        for j, p in enumerate(a["patients"])
    ]
    return values, staff, patients


def _periods(model: Any, item: dict[str, Any], tz: ZoneInfo) -> list[Any]:
    """A room's closures or a person's absences (`unavailable` in the file)."""
    return [
        model(
            start=parse_datetime(p["start"], tz),
            end=parse_datetime(p["end"], tz),
            reason=p.get("reason"),
        )
        for p in item.get("unavailable", [])
    ]


def _date(text: str | None) -> Any:
    return parse_date(text) if text else None
