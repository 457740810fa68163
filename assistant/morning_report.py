"""The morning exception report: what needs a person's attention on the facility's local day.

Each section is a list of rows with its count, computed from the database by the same queries
the other reports use (assistant.reports for court orders and authorizations, rules.derive for
the level-of-care bands, the attendance outcomes for what is still unmarked), so the report and
the rest of Rota cannot disagree. Rows carry ids only; doors add names as the reader may see.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from assistant import break_glass
from assistant.reports import Compliance, compliance
from clinic.db import Database
from clinic.models import (
    SCHEDULED_STATUSES,
    Appointment,
    Authorization,
    Facility,
    Patient,
    RoomUnavailability,
    SessionType,
    StaffUnavailability,
)
from clinic.timeutil import WEEKDAYS, day_bounds, local_iso
from rules.derive import age_from_dob, band_for, band_position, band_text, category_of
from rules.facts import session_type_facts
from rules.model import PatientFacts
from rules.service import RulesService, default_service

UNMARKED = ("booked", "checked_in")
"""Outcomes not yet recorded (assistant.usecases.attendance.OPEN)."""

SECTIONS = (
    "absences_without_cover",
    "closed_rooms",
    "sessions_without_room",
    "court_orders_behind",
    "level_of_care_behind",
    "authorizations_ending",
    "authorizations_expired",
    "unplaced",
    "unmarked_yesterday",
)
AUDIT_SECTIONS = ("emergency_access",)
"""Sections only for readers who may read the audit log (`build(..., audit=True)`)."""


@dataclass(frozen=True)
class Day:
    """The local day the report is about, its bounds in UTC, and the last open day before it."""

    day: date
    start: datetime
    end: datetime
    previous: date
    tz: Any


def the_day(db: Database, session: Session, now: datetime) -> Day:
    tz = db.facility_tz()
    today = now.astimezone(tz).date()
    start, end = day_bounds(today, tz)
    return Day(today, start, end, _previous_open_day(session, today), tz)


def build(
    db: Database,
    now: datetime,
    *,
    unplaced: list[dict[str, Any]] | None = None,
    service: RulesService | None = None,
    checks: Compliance | None = None,
    audit: bool = False,
) -> dict[str, Any]:
    """The report for the local day of `now`. `unplaced`: the morning plan's open demand left
    without a place, with the solver's reasons (none when no plan was made); `checks`: the
    court and authorization figures of `now` (`assistant.reports.compliance`), when the caller
    has them already; `audit`: add the sections for readers of the audit log (emergency
    access since the start of the last open day)."""
    service = service or default_service()
    with db.read() as session:
        d = the_day(db, session, now)
        today = _appointments(session, d.start, d.end)
        checks = checks or compliance(session, now, service=service)
        sections: dict[str, list[dict[str, Any]]] = {
            "absences_without_cover": _absent(session, d, today),
            "closed_rooms": _closed(session, d, today),
            "sessions_without_room": _roomless(session, d, today),
            "court_orders_behind": [r for r in checks.court if not r["on_track"]],
            "level_of_care_behind": _loc_behind(session, d, service),
            "authorizations_ending": checks.authorizations,
            "authorizations_expired": _expired(session, d),
            "unplaced": list(unplaced or []),
            "unmarked_yesterday": _unmarked(session, d, now),
        }
        if audit:
            sections["emergency_access"] = _emergency_access(session, d, now)
    return {
        "day": d.day.isoformat(),
        "yesterday": d.previous.isoformat(),
        "sessions_today": len(today),
        "sections": {k: {"count": len(v), "rows": v} for k, v in sections.items()},
    }


# --- sections --------------------------------------------------------------------------------


def _appointments(session: Session, start: datetime, end: datetime) -> list[Appointment]:
    """Sessions still booked (or checked in) that overlap [start, end), earliest first."""
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.start < end,
                Appointment.end > start,
                Appointment.status.in_(SCHEDULED_STATUSES),
            )
            .order_by(Appointment.start, Appointment.id)
            .options(selectinload(Appointment.staff_links), selectinload(Appointment.patient_links))
        )
    )


def _row(a: Appointment, tz: Any) -> dict[str, Any]:
    return {
        "appointment": a.id,
        "start": local_iso(a.start, tz),
        "end": local_iso(a.end, tz),
        "session_type": a.session_type_id,
        "staff": list(a.staff_ids),
        "patients": list(a.patient_ids),
        "room": a.room_id,
        "status": a.status,
    }


def _absent(session: Session, d: Day, today: list[Appointment]) -> list[dict[str, Any]]:
    """Sessions today still booked with a clinician who is out at their time (no cover yet)."""
    away = session.scalars(
        select(StaffUnavailability).where(
            StaffUnavailability.start < d.end, StaffUnavailability.end > d.start
        )
    ).all()
    rows = []
    for a in today:
        for u in away:
            if u.staff_id in a.staff_ids and u.start < a.end and a.start < u.end:
                rows.append({**_row(a, d.tz), "absent": u.staff_id, "reason": u.reason})
                break
    return rows


def _closed(session: Session, d: Day, today: list[Appointment]) -> list[dict[str, Any]]:
    """Rooms closed during the day, each with the sessions still booked in it then."""
    closures = session.scalars(
        select(RoomUnavailability)
        .where(RoomUnavailability.start < d.end, RoomUnavailability.end > d.start)
        .order_by(RoomUnavailability.room_id, RoomUnavailability.start)
    ).all()
    return [
        {
            "room": c.room_id,
            "start": local_iso(c.start, d.tz),
            "end": local_iso(c.end, d.tz),
            "reason": c.reason,
            "sessions": [
                _row(a, d.tz)
                for a in today
                if a.room_id == c.room_id and a.start < c.end and c.start < a.end
            ],
        }
        for c in closures
    ]


def _roomless(session: Session, d: Day, today: list[Appointment]) -> list[dict[str, Any]]:
    """Sessions today of a type that needs a room, booked without one."""
    kinds = session.execute(select(SessionType.id, SessionType.room_kinds)).tuples().all()
    needs = {sid for sid, room_kinds in kinds if room_kinds}
    return [_row(a, d.tz) for a in today if a.room_id is None and a.session_type_id in needs]


def _loc_behind(session: Session, d: Day, service: RulesService) -> list[dict[str, Any]]:
    """Patients whose ISO week (booked and held) is under their level of care's band
    (LOC-WEEK-UNDER's reading: clinical hours of the week against the band's minimum)."""
    tables = service.packs.tables
    clinical = frozenset(tables.get("clinical_categories", ()))
    types = {t.id: session_type_facts(t) for t in session.scalars(select(SessionType))}
    monday = d.day - timedelta(days=d.day.weekday())
    lo, _ = day_bounds(monday, d.tz)
    _, hi = day_bounds(monday + timedelta(days=6), d.tz)
    minutes: dict[str, int] = defaultdict(int)
    for a in session.scalars(
        select(Appointment)
        .where(Appointment.start >= lo, Appointment.start < hi, Appointment.active)
        .options(selectinload(Appointment.patient_links))
    ):
        if category_of(a.session_type_id, types, tables) in clinical:
            for pid in a.patient_ids:
                minutes[pid] += int((a.end - a.start).total_seconds() // 60)
    rows = []
    for p in session.scalars(
        select(Patient).where(Patient.phase != "discharged").order_by(Patient.id)
    ):
        # Only what the band reads (age, level): the full facts would load every relation.
        facts = PatientFacts(p.id, age=age_from_dob(p.dob, d.day), level_of_care=p.level_of_care)
        band = band_for(facts, tables)
        if band is None:
            continue
        hours = round(minutes.get(p.id, 0) / 60, 2)
        if band_position(hours, band) == "below":
            rows.append(
                {
                    "patient": p.id,
                    "level_of_care": p.level_of_care,
                    "week": monday.isoformat(),
                    "hours": hours,
                    "band": band_text(band),
                }
            )
    return rows


def _expired(session: Session, d: Day) -> list[dict[str, Any]]:
    """Sessions booked from today on under an authorization that has ended, for a patient with
    no other authorization of that session type covering the session's day."""
    auths = session.scalars(select(Authorization)).all()
    by_patient: dict[str, list[Authorization]] = defaultdict(list)
    for auth in auths:
        by_patient[auth.patient_id].append(auth)
    ended = [a for a in auths if a.end < d.day]
    if not ended:
        return []
    patients = {a.patient_id for a in ended}
    rows = []
    for a in session.scalars(
        select(Appointment)
        .where(Appointment.start >= d.start, Appointment.status.in_(SCHEDULED_STATUSES))
        .order_by(Appointment.start, Appointment.id)
        .options(selectinload(Appointment.staff_links), selectinload(Appointment.patient_links))
    ):
        on = a.start.astimezone(d.tz).date()
        for pid in set(a.patient_ids) & patients:
            mine = [x for x in by_patient[pid] if a.session_type_id in (x.session_types or [])]
            lapsed = [x for x in mine if x.end < on]
            if lapsed and not any(x.start <= on <= x.end for x in mine):
                last = max(lapsed, key=lambda x: x.end)
                rows.append(
                    {
                        **_row(a, d.tz),
                        "patient": pid,
                        "authorization": last.id,
                        "payer": last.payer,
                        "ended": last.end.isoformat(),
                    }
                )
    return rows


def _unmarked(session: Session, d: Day, now: datetime) -> list[dict[str, Any]]:
    """Sessions of the last open day before today that started and still have no outcome."""
    lo, hi = day_bounds(d.previous, d.tz)
    rows = session.scalars(
        select(Appointment)
        .where(
            Appointment.start >= lo,
            Appointment.start < min(hi, now),
            Appointment.status.in_(UNMARKED),
        )
        .order_by(Appointment.start, Appointment.id)
        .options(selectinload(Appointment.staff_links), selectinload(Appointment.patient_links))
    )
    return [_row(a, d.tz) for a in rows]


def _emergency_access(session: Session, d: Day, now: datetime) -> list[dict[str, Any]]:
    """Every patient opened outside a caseload (break the glass) since the start of the last
    open day: who, which patient, when, why and through which door."""
    lo, _ = day_bounds(d.previous, d.tz)
    return [
        {**row, "at": local_iso(row["at"], d.tz)} for row in break_glass.since(session, lo, now)
    ]


def _previous_open_day(session: Session, day: date) -> date:
    """The last day before `day` the facility was open (yesterday, or Friday on a Monday)."""
    facility = session.scalar(select(Facility).limit(1))
    for back in range(1, 8):
        candidate = day - timedelta(days=back)
        if facility is None or not facility.open_days:
            return candidate
        if WEEKDAYS[candidate.weekday()] in facility.open_days:
            return candidate
    return day - timedelta(days=1)


# --- reading it --------------------------------------------------------------------------------

TITLES = {
    "absences_without_cover": "Sessions of a clinician who is out, no cover yet",
    "closed_rooms": "Rooms closed today",
    "sessions_without_room": "Sessions without a room",
    "court_orders_behind": "Court-ordered patients behind this week",
    "level_of_care_behind": "Patients under their level of care's weekly hours",
    "authorizations_ending": "Authorizations running out",
    "authorizations_expired": "Sessions booked after an authorization ended",
    "unplaced": "Open demand the morning plan could not place",
    "unmarked_yesterday": "Sessions still unmarked from the last open day",
    "emergency_access": "Emergency access since yesterday",
}


def patients_in(report: dict[str, Any]) -> set[str]:
    """Every patient the report names (what a message carrying it discloses)."""
    found: set[str] = set()
    for section in report["sections"].values():
        for row in section["rows"]:
            for r in [row, *row.get("sessions", [])]:
                if r.get("patient"):
                    found.add(r["patient"])
                found.update(r.get("patients") or [])
    return found


def appointments_in(report: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for section in report["sections"].values():
        for row in section["rows"]:
            for r in [row, *row.get("sessions", [])]:
                if r.get("appointment"):
                    found.add(r["appointment"])
    return found


def line(name: str, row: dict[str, Any], names: dict[str, str]) -> str:
    """One row in words, ids replaced by the names the reader may see (`names`)."""

    def n(x: str | None) -> str:
        return names.get(x, x) if x else "-"

    when = f"{row['start'][11:16]}–{row['end'][11:16]} " if "end" in row and "start" in row else ""
    who = ", ".join(n(p) for p in row.get("patients", []))
    staff = ", ".join(n(s) for s in row.get("staff", []))
    if name == "absences_without_cover":
        return (
            f"{when}{row['session_type']} {who} with {n(row['absent'])} (out) {row['appointment']}"
        )
    if name == "closed_rooms":
        return f"{n(row['room'])} {when}({row.get('reason') or 'closed'}): {len(row['sessions'])} session(s)"
    if name in ("sessions_without_room", "unmarked_yesterday"):
        return f"{row['start'][:16]} {row['session_type']} {who} with {staff} {row['appointment']}"
    if name == "court_orders_behind":
        return (
            f"{n(row['patient'])} {row['session_type']}: {row['scheduled']} of "
            f"{row['required']} this week (case {row.get('case_number') or '-'})"
        )
    if name == "level_of_care_behind":
        return f"{n(row['patient'])} level {row['level_of_care']}: {row['hours']} h ({row['band']})"
    if name == "authorizations_ending":
        return (
            f"{n(row['patient'])} {row['payer']} {row['authorization']}: {'; '.join(row['flags'])}"
        )
    if name == "authorizations_expired":
        return (
            f"{row['start'][:16]} {row['session_type']} {n(row['patient'])}: "
            f"{row['payer']} {row['authorization']} ended {row['ended']}"
        )
    if name == "emergency_access":
        return (
            f"{n(row['actor'])} opened {n(row['patient'])} ({row['patient']}) at "
            f"{row['at'][:16].replace('T', ' ')} via {row.get('door') or '-'}: {row['reason']}"
        )
    if name == "unplaced":
        whom = n(row.get("patient")) if row.get("patient") else n(row.get("group"))
        return f"{whom} {row['session_type']} x{row['missing']}: {row['reason']}"
    return str(row)


def text(report: dict[str, Any], names: dict[str, str]) -> str:
    """The report as a message: each section's count, then its rows."""
    out = [f"Morning report for {report['day']} ({report['sessions_today']} sessions today)"]
    for key, section in report["sections"].items():
        out.append(f"{TITLES[key]}: {section['count']}")
        out += [f"  • {line(key, row, names)}" for row in section["rows"]]
    return "\n".join(out)
