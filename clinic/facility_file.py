"""The facility file (contracts/facility.schema.json): validate, load in one transaction, export.

Validation happens before anything is written, and reports every problem at once, each with
its JSON path and what was expected. Export writes explicit values (defaults filled in, times
in the facility's zone with their offset), so load → export → load → export is a fixpoint.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from clinic.audit import append_event
from clinic.catalogue import BUILTIN_SESSION_TYPES
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentPatient,
    AppointmentStaff,
    Authorization,
    ConversationState,
    CourtOrder,
    CourtOrderRequirement,
    Facility,
    Group,
    Patient,
    PatientRequirement,
    Proposal,
    Room,
    RoomUnavailability,
    SessionType,
    Staff,
    StaffUnavailability,
    group_facilitator,
    group_member,
)
from clinic.timeutil import parse_date, parse_datetime, parse_hhmm, zone

FACILITY_DEFAULTS = {
    "open_days": ["mon", "tue", "wed", "thu", "fri"],
    "open": "08:00",
    "close": "18:00",
    "slot_minutes": 15,
}


@cache
def facility_schema() -> dict[str, Any]:
    text = resources.files("clinic.schemas").joinpath("facility.schema.json").read_text()
    return json.loads(text)


# --- reading -----------------------------------------------------------------------------------


def read_file(path: Path) -> dict[str, Any]:
    """JSON or YAML (by content, so a .txt or no extension works too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read it ({exc.__class__.__name__})") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise InvalidInput(
            f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: a facility file is one object (mapping) at the top level")
    return data


def _path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate(data: dict[str, Any]) -> list[str]:
    """Every problem in the file, as 'JSON path: what was expected'. Empty when it is good."""
    validator = Draft202012Validator(facility_schema(), format_checker=FormatChecker(["date"]))
    problems = [
        f"{_path(error.absolute_path)}: {error.message}"
        for error in sorted(
            validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
        )
    ]
    if problems:
        return problems  # semantic checks assume the shape is right
    return _semantic_problems(data)


def _semantic_problems(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    try:
        tz = zone(data["facility"]["timezone"])
    except InvalidInput as exc:
        return [f"$.facility.timezone: {exc}"]
    facility = {**FACILITY_DEFAULTS, **data["facility"]}
    if parse_hhmm(facility["open"]) >= parse_hhmm(facility["close"]):
        problems.append("$.facility: open must be before close")

    ids: dict[str, set[str]] = {}
    for section in ("rooms", "staff", "session_types", "patients", "groups", "appointments"):
        seen: set[str] = set()
        for i, item in enumerate(data.get(section, [])):
            if item["id"] in seen:
                problems.append(f"$.{section}[{i}].id: {item['id']!r} is used twice in {section}")
            seen.add(item["id"])
        ids[section] = seen
    if "session_types" not in data:
        ids["session_types"] = {t["id"] for t in BUILTIN_SESSION_TYPES}

    def ref(path: str, value: str | None, section: str, what: str) -> None:
        if value is not None and value not in ids[section]:
            problems.append(f"{path}: {value!r} is not the id of any {what} in {section}")

    def period(path: str, item: dict[str, Any]) -> tuple[datetime, datetime] | None:
        try:
            start, end = parse_datetime(item["start"], tz), parse_datetime(item["end"], tz)
        except InvalidInput as exc:
            problems.append(f"{path}: {exc}")
            return None
        if end <= start:
            problems.append(f"{path}: end must be after start")
        return start, end

    def weekly(path: str, template: dict[str, list[str]] | None) -> None:
        for day, spans in (template or {}).items():
            for j, span in enumerate(spans):
                start, end = span.split("-")
                if parse_hhmm(start) >= parse_hhmm(end):
                    problems.append(f"{path}.{day}[{j}]: {span!r} ends before it starts")

    def dates(path: str, item: dict[str, Any]) -> None:
        if parse_date(item["end"]) < parse_date(item["start"]):
            problems.append(f"{path}: end date {item['end']} is before start date {item['start']}")

    for i, room in enumerate(data.get("rooms", [])):
        for j, p in enumerate(room.get("unavailable", [])):
            period(f"$.rooms[{i}].unavailable[{j}]", p)
    for i, member in enumerate(data.get("staff", [])):
        ref(f"$.staff[{i}].supervisor", member.get("supervisor"), "staff", "staff member")
        if member.get("supervisor") == member["id"]:
            problems.append(f"$.staff[{i}].supervisor: a staff member cannot supervise themself")
        weekly(f"$.staff[{i}].availability", member.get("availability"))
        for j, p in enumerate(member.get("unavailable", [])):
            period(f"$.staff[{i}].unavailable[{j}]", p)
    slack_ids = [m["slack_user_id"] for m in data.get("staff", []) if m.get("slack_user_id")]
    for dup in {s for s in slack_ids if slack_ids.count(s) > 1}:
        problems.append(f"$.staff: slack_user_id {dup!r} belongs to more than one staff member")
    for i, stype in enumerate(data.get("session_types", [])):
        if stype.get("min_patients", 1) > stype.get("max_patients", 1):
            problems.append(f"$.session_types[{i}]: min_patients is more than max_patients")
    for i, patient in enumerate(data.get("patients", [])):
        base = f"$.patients[{i}]"
        ref(f"{base}.primary_clinician", patient.get("primary_clinician"), "staff", "staff member")
        ref(
            f"{base}.preferences.clinician",
            patient.get("preferences", {}).get("clinician"),
            "staff",
            "staff member",
        )
        weekly(f"{base}.availability", patient.get("availability"))
        for j, req in enumerate(patient.get("requirements", [])):
            ref(
                f"{base}.requirements[{j}].session_type",
                req["session_type"],
                "session_types",
                "session type",
            )
        order = patient.get("court_order")
        if order:
            dates(f"{base}.court_order", order)
            ref(f"{base}.court_order.liaison", order.get("liaison"), "staff", "staff member")
            for j, req in enumerate(order["requirements"]):
                ref(
                    f"{base}.court_order.requirements[{j}].session_type",
                    req["session_type"],
                    "session_types",
                    "session type",
                )
        for j, auth in enumerate(patient.get("authorizations", [])):
            dates(f"{base}.authorizations[{j}]", auth)
            for k, stype in enumerate(auth["session_types"]):
                ref(
                    f"{base}.authorizations[{j}].session_types[{k}]",
                    stype,
                    "session_types",
                    "session type",
                )
        for j, contact in enumerate(patient.get("family_contacts", [])):
            weekly(f"{base}.family_contacts[{j}].availability", contact.get("availability"))
    for i, group in enumerate(data.get("groups", [])):
        base = f"$.groups[{i}]"
        ref(f"{base}.session_type", group["session_type"], "session_types", "session type")
        ref(f"{base}.room", group.get("room"), "rooms", "room")
        for j, sid in enumerate(group["facilitators"]):
            ref(f"{base}.facilitators[{j}]", sid, "staff", "staff member")
        for j, pid in enumerate(group["members"]):
            ref(f"{base}.members[{j}]", pid, "patients", "patient")
        for j, slot in enumerate(group.get("schedule", [])):
            ref(f"{base}.schedule[{j}].room", slot.get("room"), "rooms", "room")
        if group.get("capacity") is not None and len(group["members"]) > group["capacity"]:
            problems.append(
                f"{base}.members: {len(group['members'])} members exceed the capacity of {group['capacity']}"
            )
        if len(set(group["members"])) != len(group["members"]):
            problems.append(f"{base}.members: a patient is listed twice")
        weekly(f"{base}.availability", group.get("availability"))

    # Appointments: references, then no two active ones overlap for one person or room.
    busy: dict[tuple[str, str], list[tuple[datetime, datetime, int]]] = defaultdict(list)
    for i, appt in enumerate(data.get("appointments", [])):
        base = f"$.appointments[{i}]"
        ref(f"{base}.session_type", appt["session_type"], "session_types", "session type")
        ref(f"{base}.room", appt.get("room"), "rooms", "room")
        ref(f"{base}.group", appt.get("group"), "groups", "group")
        for j, sid in enumerate(appt["staff"]):
            ref(f"{base}.staff[{j}]", sid, "staff", "staff member")
        for j, pid in enumerate(appt["patients"]):
            ref(f"{base}.patients[{j}]", pid, "patients", "patient")
        try:
            start = parse_datetime(appt["start"], tz)
        except InvalidInput as exc:
            problems.append(f"{base}.start: {exc}")
            continue
        if appt.get("status", "booked") not in ACTIVE_STATUSES:
            continue
        end = start + timedelta(minutes=appt["minutes"])
        keys = [("staff member", s) for s in appt["staff"]]
        keys += [("patient", p) for p in appt["patients"]]
        keys += [("room", appt["room"])] if appt.get("room") else []
        for key in keys:
            for other_start, other_end, j in busy[key]:
                if other_start < end and start < other_end:
                    problems.append(f"{base}: overlaps $.appointments[{j}] for {key[0]} {key[1]!r}")
            busy[key].append((start, end, i))
    return problems


# --- loading -----------------------------------------------------------------------------------


def load_facility(
    db: Database,
    data: dict[str, Any],
    *,
    replace: bool = False,
    actor: str = "operator",
    source: str | None = None,
) -> dict[str, int]:
    """Validate, then write the whole facility in one transaction. Returns counts per section."""
    problems = validate(data)
    if problems:
        raise InvalidInput(f"the facility file has {len(problems)} problem(s)", problems)
    tz = zone(data["facility"]["timezone"])
    with db.session() as session:
        if session.scalar(select(Facility.id).limit(1)) is not None:
            if not replace:
                raise InvalidInput(
                    "this database already holds a facility; add --replace to overwrite it "
                    "(its appointments are replaced too; the audit log is kept)"
                )
            _clear(session)
        counts = _insert(session, data, tz)
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
    db.forget_facility()
    return counts


def _clear(session: Session) -> None:
    for table in (AppointmentPatient, AppointmentStaff, Appointment):
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
        )
    )
    for i, r in enumerate(data["rooms"]):
        session.add(
            Room(
                id=r["id"],
                name=r["name"],
                kind=r["kind"],
                capacity=r["capacity"],
                features=r.get("features"),
                position=i,
                closures=[
                    RoomUnavailability(
                        start=parse_datetime(p["start"], tz),
                        end=parse_datetime(p["end"], tz),
                        reason=p.get("reason"),
                    )
                    for p in r.get("unavailable", [])
                ],
            )
        )
    for i, s in enumerate(data["staff"]):
        session.add(
            Staff(
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
                position=i,
                unavailability=[
                    StaffUnavailability(
                        start=parse_datetime(p["start"], tz),
                        end=parse_datetime(p["end"], tz),
                        reason=p.get("reason"),
                    )
                    for p in s.get("unavailable", [])
                ],
            )
        )
    for i, t in enumerate(data.get("session_types", BUILTIN_SESSION_TYPES)):
        session.add(
            SessionType(
                id=t["id"],
                name=t.get("name"),
                minutes=t["minutes"],
                cpt=t.get("cpt"),
                room_kinds=t.get("room_kinds"),
                staff_roles=t.get("staff_roles"),
                credentials_any=t.get("credentials_any"),
                min_patients=t.get("min_patients", 1),
                max_patients=t.get("max_patients", 1),
                position=i,
            )
        )
    session.flush()
    for i, p in enumerate(data.get("patients", [])):
        order = p.get("court_order")
        session.add(
            Patient(
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
                position=i,
                requirements=[
                    PatientRequirement(
                        session_type_id=r["session_type"],
                        per_week=r["per_week"],
                        source=r.get("source"),
                    )
                    for r in p.get("requirements", [])
                ],
                court_order=CourtOrder(
                    case_number=order["case_number"],
                    court=order.get("court"),
                    start=parse_date(order["start"]),
                    end=parse_date(order["end"]),
                    liaison_id=order.get("liaison"),
                    report_to=order.get("report_to"),
                    requirements=[
                        CourtOrderRequirement(
                            session_type_id=r["session_type"], per_week=r["per_week"]
                        )
                        for r in order["requirements"]
                    ],
                )
                if order
                else None,
                authorizations=[
                    Authorization(
                        id=a.get("id"),
                        payer=a["payer"],
                        session_types=a["session_types"],
                        units=a["units"],
                        used=a.get("used", 0),
                        start=parse_date(a["start"]),
                        end=parse_date(a["end"]),
                    )
                    for a in p.get("authorizations", [])
                ],
            )
        )
    session.flush()
    for i, g in enumerate(data.get("groups", [])):
        session.add(
            Group(
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
                position=i,
            )
        )
    session.flush()
    for g in data.get("groups", []):
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
    now = datetime.now().astimezone()
    for i, a in enumerate(data.get("appointments", [])):
        start = parse_datetime(a["start"], tz)
        end = start + timedelta(minutes=a["minutes"])
        status = a.get("status", "booked")
        active = status in ACTIVE_STATUSES
        session.add(
            Appointment(
                id=a["id"],
                session_type_id=a["session_type"],
                start=start,
                end=end,
                room_id=a.get("room"),
                group_id=a.get("group"),
                status=status,
                active=active,
                pinned=a.get("pinned", False),
                note=a.get("note"),
                created_at=now,
                created_by="facility-file",
                updated_at=now,
                updated_by="facility-file",
                position=i,
                staff_links=[
                    AppointmentStaff(staff_id=s, start=start, end=end, active=active, position=j)
                    for j, s in enumerate(a["staff"])
                ],
                patient_links=[
                    AppointmentPatient(
                        patient_id=p, start=start, end=end, active=active, position=j
                    )
                    for j, p in enumerate(a["patients"])
                ],
            )
        )
    session.flush()
    return {
        section: len(data.get(section, []))
        for section in ("rooms", "staff", "patients", "groups", "appointments")
    }


def _date(text: str | None) -> Any:
    return parse_date(text) if text else None


# --- exporting ---------------------------------------------------------------------------------


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    """Drop absent (None) fields so the file says only what is known."""
    return {key: value for key, value in record.items() if value is not None}


def _period(start: datetime, end: datetime, reason: str | None, tz: ZoneInfo) -> dict[str, Any]:
    return _clean({"start": _iso(start, tz), "end": _iso(end, tz), "reason": reason})


def _iso(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).isoformat(timespec="seconds")


def export_facility(db: Database) -> dict[str, Any]:
    with db.session() as session:
        facility = session.scalar(select(Facility).limit(1))
        if facility is None:
            raise InvalidInput("there is no facility to export: load one with `rota load FILE`")
        tz = zone(facility.timezone)
        out: dict[str, Any] = {
            "version": 1,
            "facility": {
                "name": facility.name,
                "timezone": facility.timezone,
                "open_days": facility.open_days,
                "open": facility.open,
                "close": facility.close,
                "slot_minutes": facility.slot_minutes,
            },
        }
        rooms = session.scalars(
            select(Room).options(selectinload(Room.closures)).order_by(Room.position)
        ).all()
        out["rooms"] = [
            _clean(
                {
                    "id": r.id,
                    "name": r.name,
                    "kind": r.kind,
                    "capacity": r.capacity,
                    "features": r.features,
                    "unavailable": [_period(c.start, c.end, c.reason, tz) for c in r.closures]
                    or None,
                }
            )
            for r in rooms
        ]
        staff = session.scalars(
            select(Staff).options(selectinload(Staff.unavailability)).order_by(Staff.position)
        ).all()
        out["staff"] = [
            _clean(
                {
                    "id": s.id,
                    "name": s.name,
                    "role": s.role,
                    "credentials": s.credentials,
                    "specializations": s.specializations,
                    "supervisor": s.supervisor_id,
                    "max_minutes_per_week": s.max_minutes_per_week,
                    "availability": s.availability,
                    "unavailable": [_period(u.start, u.end, u.reason, tz) for u in s.unavailability]
                    or None,
                    "slack_user_id": s.slack_user_id,
                    "email": s.email,
                }
            )
            for s in staff
        ]
        out["session_types"] = [
            _clean(
                {
                    "id": t.id,
                    "name": t.name,
                    "minutes": t.minutes,
                    "cpt": t.cpt,
                    "room_kinds": t.room_kinds,
                    "staff_roles": t.staff_roles,
                    "credentials_any": t.credentials_any,
                    "min_patients": t.min_patients,
                    "max_patients": t.max_patients,
                }
            )
            for t in session.scalars(select(SessionType).order_by(SessionType.position))
        ]
        patients = session.scalars(
            select(Patient)
            .order_by(Patient.position)
            .options(
                selectinload(Patient.requirements),
                selectinload(Patient.authorizations),
                selectinload(Patient.court_order).selectinload(CourtOrder.requirements),
            )
        ).all()
        out["patients"] = [_export_patient(p) for p in patients]
        groups = session.scalars(
            select(Group)
            .order_by(Group.position)
            .options(selectinload(Group.facilitators), selectinload(Group.members))
        ).all()
        out["groups"] = [
            _clean(
                {
                    "id": g.id,
                    "name": g.name,
                    "session_type": g.session_type_id,
                    "facilitators": [s.id for s in g.facilitators],
                    "members": [p.id for p in g.members],
                    "capacity": g.capacity,
                    "closed": g.closed,
                    "sessions_per_week": g.sessions_per_week,
                    "min_days_apart": g.min_days_apart,
                    "schedule": g.schedule,
                    "room": g.room_id,
                    "availability": g.availability,
                }
            )
            for g in groups
        ]
        appointments = session.scalars(
            select(Appointment)
            .options(
                selectinload(Appointment.staff_links),
                selectinload(Appointment.patient_links),
            )
            .order_by(Appointment.position, Appointment.start, Appointment.id)
        ).all()
        out["appointments"] = [
            _clean(
                {
                    "id": a.id,
                    "session_type": a.session_type_id,
                    "start": _iso(a.start, tz),
                    "minutes": a.minutes,
                    "staff": a.staff_ids,
                    "patients": a.patient_ids,
                    "group": a.group_id,
                    "room": a.room_id,
                    "status": a.status,
                    "pinned": a.pinned,
                    "note": a.note,
                }
            )
            for a in appointments
        ]
        return out


def _export_patient(p: Patient) -> dict[str, Any]:
    order = p.court_order
    return _clean(
        {
            "id": p.id,
            "name": p.name,
            "dob": p.dob.isoformat() if p.dob else None,
            "mrn": p.mrn,
            "level_of_care": p.level_of_care,
            "phase": p.phase,
            "admitted": p.admitted.isoformat() if p.admitted else None,
            "acuity": p.acuity,
            "needs": p.needs,
            "sex": p.sex,
            "primary_clinician": p.primary_clinician_id,
            "requirements": [
                _clean(
                    {"session_type": r.session_type_id, "per_week": r.per_week, "source": r.source}
                )
                for r in p.requirements
            ]
            or None,
            "court_order": _clean(
                {
                    "case_number": order.case_number,
                    "court": order.court,
                    "start": order.start.isoformat(),
                    "end": order.end.isoformat(),
                    "requirements": [
                        {"session_type": r.session_type_id, "per_week": r.per_week}
                        for r in order.requirements
                    ],
                    "liaison": order.liaison_id,
                    "report_to": order.report_to,
                }
            )
            if order
            else None,
            "authorizations": [
                _clean(
                    {
                        "id": a.id,
                        "payer": a.payer,
                        "session_types": a.session_types,
                        "units": a.units,
                        "used": a.used,
                        "start": a.start.isoformat(),
                        "end": a.end.isoformat(),
                    }
                )
                for a in p.authorizations
            ]
            or None,
            "availability": p.availability,
            "preferences": p.preferences,
            "contact": p.contact,
            "family_contacts": p.family_contacts,
        }
    )


def dump(data: dict[str, Any], path: Path | None) -> str:
    """JSON for .json paths and stdout; YAML for .yaml/.yml."""
    if path is not None and path.suffix.lower() in {".yaml", ".yml"}:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
