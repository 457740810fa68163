"""Who and what a message can name: patients (with their family contacts), staff and rooms.

A plain, immutable snapshot so the parser and the redactor work on plain data (tests build one
from a dict; the doors build one from the database with `load_roster`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.db import Database

BUILTIN_SESSION_TYPES: tuple[str, ...] = (
    "individual",
    "group",
    "family",
    "intake_assessment",
    "psychiatric_evaluation",
    "medical_evaluation",
    "medication_management",
    "case_management",
    "crisis",
)

# Credentials and roles that people address with "Dr.".
_DOCTOR_CREDENTIALS = frozenset({"md", "do", "psyd", "phd", "edd", "dnp"})
_DOCTOR_ROLES = frozenset({"psychiatrist", "physician"})


@dataclass(frozen=True)
class PatientEntry:
    id: str
    name: str
    family: tuple[str, ...] = ()
    # Known identifier values as (type, value): MRN, PHONE, EMAIL, CASE_NUMBER, MEMBER_ID.
    identifiers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StaffEntry:
    id: str
    name: str
    role: str = ""
    credentials: tuple[str, ...] = ()

    @property
    def is_doctor(self) -> bool:
        creds = {c.lower().replace(".", "") for c in self.credentials}
        titled = self.name.lower().startswith(("dr ", "dr. "))
        return titled or self.role in _DOCTOR_ROLES or bool(creds & _DOCTOR_CREDENTIALS)


@dataclass(frozen=True)
class RoomEntry:
    id: str
    name: str
    kind: str = ""


@dataclass(frozen=True)
class Roster:
    patients: tuple[PatientEntry, ...] = ()
    staff: tuple[StaffEntry, ...] = ()
    rooms: tuple[RoomEntry, ...] = ()
    session_types: tuple[str, ...] = BUILTIN_SESSION_TYPES
    timezone: str = "UTC"
    # Lazily built lookup structures (see assistant.parse.names.index_for); not part of equality.
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_facility_file(cls, data: Mapping[str, Any]) -> Roster:
        """Build from a facility-file dict (../shared/contracts/facility.schema.json)."""
        patients = []
        for p in data.get("patients") or []:
            contact = p.get("contact") or {}
            ids = [("MRN", p.get("mrn")), ("PHONE", contact.get("phone"))]
            ids.append(("EMAIL", contact.get("email")))
            if p.get("court_order"):
                ids.append(("CASE_NUMBER", p["court_order"].get("case_number")))
            ids += [("MEMBER_ID", a.get("id")) for a in p.get("authorizations") or []]
            patients.append(
                PatientEntry(
                    id=p["id"],
                    name=p["name"],
                    family=tuple(
                        f["name"] for f in p.get("family_contacts") or [] if f.get("name")
                    ),
                    identifiers=_clean(ids),
                )
            )
        staff = [
            StaffEntry(s["id"], s["name"], s.get("role", ""), tuple(s.get("credentials") or ()))
            for s in data.get("staff") or []
        ]
        rooms = [RoomEntry(r["id"], r["name"], r.get("kind", "")) for r in data.get("rooms") or []]
        types = tuple(t["id"] for t in data.get("session_types") or []) or BUILTIN_SESSION_TYPES
        return cls(
            patients=tuple(patients),
            staff=tuple(staff),
            rooms=tuple(rooms),
            session_types=types,
            timezone=(data.get("facility") or {}).get("timezone", "UTC"),
        )


def _clean(values: Iterable[tuple[str, str | None]]) -> tuple[tuple[str, str], ...]:
    return tuple((kind, str(v).strip()) for kind, v in values if v and str(v).strip())


def read_roster(db: Database) -> Roster:
    """`load_roster` in a read-only transaction of its own."""
    with db.read() as session:
        return load_roster(session)


def load_roster(session: Session) -> Roster:
    """Snapshot the roster from the clinic database (an empty database gives an empty roster)."""
    from clinic import models as m

    facility = session.scalars(select(m.Facility).limit(1)).first()
    court = {c.patient_id: c.case_number for c in session.scalars(select(m.CourtOrder))}
    auths: dict[str, list[tuple[str, str | None]]] = {}
    for a in session.scalars(select(m.Authorization)):
        auths.setdefault(a.patient_id, []).append(("MEMBER_ID", a.id))
    patients = []
    for p in session.scalars(select(m.Patient).order_by(m.Patient.position, m.Patient.id)):
        contact = p.contact or {}
        ids = [
            ("MRN", p.mrn),
            ("PHONE", contact.get("phone")),
            ("EMAIL", contact.get("email")),
            ("CASE_NUMBER", court.get(p.id)),
        ]
        patients.append(
            PatientEntry(
                id=p.id,
                name=p.name,
                family=tuple(f["name"] for f in p.family_contacts or [] if f.get("name")),
                identifiers=_clean([*ids, *auths.get(p.id, [])]),
            )
        )
    staff = [
        StaffEntry(s.id, s.name, s.role, tuple(s.credentials or ()))
        for s in session.scalars(select(m.Staff).order_by(m.Staff.position, m.Staff.id))
    ]
    rooms = [
        RoomEntry(r.id, r.name, r.kind)
        for r in session.scalars(select(m.Room).order_by(m.Room.position, m.Room.id))
    ]
    types = tuple(
        session.scalars(select(m.SessionType.id).order_by(m.SessionType.position, m.SessionType.id))
    )
    return Roster(
        patients=tuple(patients),
        staff=tuple(staff),
        rooms=tuple(rooms),
        session_types=types or BUILTIN_SESSION_TYPES,
        timezone=facility.timezone if facility else "UTC",
    )
