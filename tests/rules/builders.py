"""A small cast and vocabulary to write rule scenarios as plain data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clinic.catalogue import BUILTIN_SESSION_TYPES
from clinic.timeutil import parse_weekly
from rules.model import (
    AppointmentFacts,
    PatientFacts,
    SessionTypeFacts,
    Situation,
    StaffFacts,
)

TZ = ZoneInfo("America/New_York")
MON = date(2026, 11, 30)  # a Monday
TUE, WED, THU, FRI, SAT, SUN = (MON + timedelta(days=i) for i in range(1, 7))
WEEKDAYS_9_17 = parse_weekly({d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
WEEKDAYS_8_21 = parse_weekly({d: ["08:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")})


def _builtin(row: dict[str, Any]) -> SessionTypeFacts:
    return SessionTypeFacts(
        id=row["id"],
        minutes=row["minutes"],
        cpt=row.get("cpt"),
        staff_roles=frozenset(row.get("staff_roles", ())),
        credentials_any=frozenset(row.get("credentials_any", ())),
        min_patients=row.get("min_patients", 1),
        max_patients=row.get("max_patients", 1),
    )


TYPES: dict[str, SessionTypeFacts] = {row["id"]: _builtin(row) for row in BUILTIN_SESSION_TYPES}
# Facility-specific types without roles/credentials: the credentials pack's matrix applies.
TYPES.update(
    {
        "iop_day": SessionTypeFacts("iop_day", 180, cpt="H0015", max_patients=12),
        "ind_60": SessionTypeFacts("ind_60", 60, cpt="90837"),
        "diag_eval": SessionTypeFacts("diag_eval", 60, cpt="90791"),
        "eval_90792": SessionTypeFacts("eval_90792", 60, cpt="90792"),
        "family_no_patient": SessionTypeFacts("family_no_patient", 50, cpt="90846"),
        "em_visit": SessionTypeFacts("em_visit", 30, cpt="99214"),
    }
)

STAFF: dict[str, StaffFacts] = {
    s.id: s
    for s in (
        StaffFacts(
            "ther",
            "therapist",
            frozenset({"LPC"}),
            frozenset({"dual_diagnosis", "trauma"}),
            availability=WEEKDAYS_9_17,
        ),
        StaffFacts("ther2", "therapist", frozenset({"LCSW"}), frozenset({"spanish_speaking"})),
        StaffFacts("couns", "counselor", frozenset({"CADC"})),
        StaffFacts("psych", "psychiatrist", frozenset({"MD"})),
        StaffFacts("np", "nurse_practitioner", frozenset({"NP"})),
        StaffFacts("nurse", "nurse", frozenset({"RN"})),
        StaffFacts("cm", "case_manager"),
        StaffFacts("liaison", "case_manager"),
        StaffFacts("intake", "intake_coordinator", frozenset({"CADC"})),
        StaffFacts("cd", "clinical_director", frozenset({"LCSW", "LCADC"})),
        StaffFacts("fd", "front_desk"),
        StaffFacts("aud", "auditor"),
        StaffFacts("dir", "auditor", extra_roles=frozenset({"director"})),
        StaffFacts(
            "intern", "intern", supervisor="ther", supervised_hours=600, availability=WEEKDAYS_8_21
        ),
        StaffFacts("intern_orphan", "intern"),
    )
}


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=TZ).astimezone(UTC)


def appt(
    session_type: str,
    day: date,
    hhmm: str,
    staff: tuple[str, ...] | str = "ther",
    patients: tuple[str, ...] | str = "p1",
    *,
    minutes: int | None = None,
    group: str | None = None,
    status: str = "booked",
    id: str | None = None,
) -> AppointmentFacts:
    start = at(day, hhmm)
    length = minutes if minutes is not None else TYPES[session_type].minutes
    staff = (staff,) if isinstance(staff, str) else staff
    patients = (patients,) if isinstance(patients, str) else patients
    return AppointmentFacts(
        id=id or f"{session_type}-{day.isoformat()}-{hhmm}-{'-'.join(patients)}",
        session_type=session_type,
        start=start,
        end=start + timedelta(minutes=length),
        staff=staff,
        patients=patients,
        group=group,
        status=status,
    )


def patient(pid: str = "p1", **kw: Any) -> PatientFacts:
    base = PatientFacts(
        id=pid, age=35, level_of_care="1.0", phase="active_treatment", primary_clinician="ther"
    )
    return replace(base, **kw)


def situation(
    appointment: AppointmentFacts | None = None,
    patients: tuple[PatientFacts, ...] = (),
    *,
    existing: tuple[AppointmentFacts, ...] = (),
    staff: dict[str, StaffFacts] | None = None,
    now: datetime | None = None,
    **kw: Any,
) -> Situation:
    people = list(patients)
    known = {p.id for p in people}
    for a in ((appointment,) if appointment else ()) + existing:
        for pid in a.patients:
            if pid not in known:
                people.append(patient(pid))
                known.add(pid)
    return Situation(
        tz=TZ,
        now=now or at(MON, "07:00"),
        appointment=appointment,
        patients={p.id: p for p in people},
        staff={**STAFF, **(staff or {})},
        session_types=TYPES,
        existing=existing,
        **kw,
    )
