"""The plan lived: HISTORY_WEEKS weeks of the template week before the week of `start`, and that
week booked. Each patient's sessions start the day after their intake; attendance is drawn from
`clinic.attendance_process` one patient at a time in time order (their recent misses are their own
earlier draws), with the lead time each booking was made at (`booked_at`)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clinic.attendance_process import AttendanceProcess, Visit
from clinic.demo.facility import (
    CLOSE,
    HISTORY_WEEKS,
    OPEN,
    SLOT,
    TIMEZONE,
    WORKDAYS,
    FacilityPlan,
    Slot,
    _phase,
    weekday_of,
)
from clinic.timeutil import WEEKDAYS, parse_hhmm

MISSED = ("no_show", "late_cancelled")
INDIVIDUAL_LEAD_DAYS = [1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 14, 14, 21]
INTAKE_LEAD_DAYS = [0, 1, 1, 2, 2, 3, 4, 5, 7, 10]
GROUP_LEAD_DAYS = [7, 14, 21, 28]


def live(plan: FacilityPlan, weeks: int = HISTORY_WEEKS) -> dict[str, Any]:
    tz = ZoneInfo(TIMEZONE)
    rng = random.Random(f"{plan.seed}:history")  # nosec B311  # seeded simulation, not a secret
    staff = {s["id"]: s for s in plan.staff}
    away = _annual_leave(plan, staff, tz)
    first_week = plan.week - timedelta(days=7 * weeks)
    process = AttendanceProcess(plan.seed)
    reminded = {p["id"]: bool(p["contact"].get("consent_reminders")) for p in plan.patients}
    past: dict[str, list[str]] = defaultdict(list)
    cutoff = datetime.combine(plan.today - timedelta(days=1), time(17, 0), tzinfo=tz)
    intakes = _intakes(plan, first_week, process, rng, reminded, past, cutoff)
    entries: list[tuple[date, Slot, list[str]]] = []
    admitted = {p["id"]: date.fromisoformat(p["admitted"]) for p in plan.patients}
    for w in range(weeks + 1):
        monday = first_week + timedelta(days=7 * w)
        for slot in plan.slots:
            day = monday + timedelta(days=WEEKDAYS.index(slot.day))
            if any(day in away.get(s, ()) for s in slot.staff):
                continue
            present = [p for p in slot.patients if admitted[p] < day]
            if not present or (slot.group and len(present) < 3):
                continue
            entries.append((day, slot, present))
    entries.sort(key=lambda e: (e[0], e[1].start, e[1].room))
    primary = {p["id"]: p["primary_clinician"] for p in plan.patients}
    appointments = list(intakes)
    for day, slot, present in entries:
        start = datetime.combine(day, time(slot.start // 60, slot.start % 60), tzinfo=tz)
        booked = _booked_at(rng, day, GROUP_LEAD_DAYS if slot.group else INDIVIDUAL_LEAD_DAYS)
        # Booked at the intake at the earliest (and before the file's today).
        intake = max(admitted[p] for p in present)
        booked = max(booked, datetime.combine(intake, time(17, 0), tzinfo=tz))
        booked = min(booked, cutoff, start - timedelta(hours=1))
        appointment = _appointment(slot, start, present, booked)
        if day < plan.today:
            own = {}
            for pid in present:
                visit = Visit(
                    patient_id=pid,
                    start=start,
                    session_type=slot.session_type,
                    lead_days=min((day - booked.date()).days, (day - admitted[pid]).days + 1),
                    recent_misses=sum(o in MISSED for o in past[pid][-3:]),
                    first_visit=slot.session_type == "intake_assessment",
                    own_clinician=primary[pid] in slot.staff,
                    reminded=reminded[pid],
                )
                own[pid] = process.outcome(visit)
                past[pid].append(own[pid])
            status = _session_status(list(own.values()))
            appointment["status"] = status
            differ = {pid: o for pid, o in own.items() if o != status}
            if differ:
                appointment["outcomes"] = differ
        appointments.append(appointment)
    appointments.sort(key=lambda a: (a["start"], a["room"]))
    for n, a in enumerate(appointments):
        a["id"] = f"a{n + 1:05d}"
    _settle_authorizations(plan, appointments, rng)
    return {
        "version": 1,
        "facility": {
            "name": f"{plan.fake.city()} Recovery Center",
            "timezone": TIMEZONE,
            "open_days": WORKDAYS,
            "open": OPEN,
            "close": CLOSE,
            "slot_minutes": SLOT,
        },
        "rooms": plan.rooms,
        "staff": plan.staff,
        "patients": plan.patients,
        "groups": plan.groups,
        "appointments": appointments,
    }


def _session_status(outcomes: list[str]) -> str:
    """A session is held when anyone came; otherwise it has its participants' outcome."""
    for status in ("attended", "no_show", "late_cancelled", "cancelled"):
        if status in outcomes:
            return status
    return "cancelled"


def _annual_leave(
    plan: FacilityPlan, staff: dict[str, dict[str, Any]], tz: ZoneInfo
) -> dict[str, set[date]]:
    """A therapist's planned day off in the booked week (no group that day, no intern to
    supervise), so repair and agendas have something to show."""
    supervisors = {s.get("supervisor") for s in plan.staff}
    grouped = {(sid, s.day) for s in plan.slots if s.group for sid in s.staff}
    for member in plan.staff:
        if member["role"] != "therapist" or member["id"] in supervisors:
            continue
        for offset in (3, 4, 2, 1, 0):
            day = plan.week + timedelta(days=offset)
            name = weekday_of(day)
            if name in member["availability"] and (member["id"], name) not in grouped:
                member["unavailable"] = [
                    {
                        "start": datetime.combine(day, time(0, 0), tzinfo=tz).isoformat(),
                        "end": datetime.combine(
                            day + timedelta(days=1), time(0, 0), tzinfo=tz
                        ).isoformat(),
                        "reason": "annual leave",
                    }
                ]
                return {member["id"]: {day}}
    return {}


def _booked_at(rng: random.Random, day: date, leads: list[int]) -> datetime:
    lead = rng.choice(leads)
    moment = time(rng.randint(9, 16), rng.choice([0, 15, 30, 45]))
    return datetime.combine(day - timedelta(days=lead), moment, tzinfo=ZoneInfo(TIMEZONE))


def _appointment(
    slot: Slot, start: datetime, patients: list[str], booked: datetime
) -> dict[str, Any]:
    appointment: dict[str, Any] = {
        "id": "",  # numbered in time order once all are drawn
        "session_type": slot.session_type,
        "start": start.isoformat(timespec="seconds"),
        "minutes": slot.minutes,
        "staff": list(slot.staff),
        "patients": list(patients),
        "room": slot.room,
        "status": "booked",
        "pinned": False,
        "booked_at": booked.isoformat(timespec="seconds"),
    }
    if slot.group:
        appointment["group"] = slot.group
    return appointment


def _intakes(
    plan: FacilityPlan,
    first_week: date,
    process: AttendanceProcess,
    rng: random.Random,
    reminded: dict[str, bool],
    past: dict[str, list[str]],
    cutoff: datetime,
) -> list[dict[str, Any]]:
    """Each patient admitted inside the history came to an intake assessment with the intake
    coordinator (on the coordinator's nearest working day at or before the admission drawn).
    An intake missed or cancelled (drawn like any visit, `first_visit`) is booked again three
    or more days later until one is kept: the patient is admitted that day, and their sessions
    begin the day after. One still not kept by the booked week is booked in it."""
    tz = ZoneInfo(TIMEZONE)
    coordinator = next(s for s in plan.staff if s["role"] == "intake_coordinator")
    hours = coordinator["availability"]
    room = plan.office[f"off-{coordinator['id']}"]
    last = plan.week + timedelta(days=4)
    taken: dict[date, set[int]] = defaultdict(set)

    def free(d: date) -> int | None:
        for span in hours.get(weekday_of(d), []):
            a, b = (parse_hhmm(x) for x in span.split("-"))
            for start in range(a, b - 60 + 1, 60):
                if start not in taken[d]:
                    return start
        return None

    out = []
    for p in plan.patients:
        day = date.fromisoformat(p["admitted"])
        if day < first_week:
            continue
        d = next(
            (
                x
                for back in range(21)
                if first_week <= (x := day - timedelta(days=back)) < plan.today
                and free(x) is not None
            ),
            None,
        )
        while d is not None and d <= last:
            start_minute = free(d)
            if start_minute is None:
                d += timedelta(days=1)
                continue
            taken[d].add(start_minute)
            slot = Slot(
                weekday_of(d),
                start_minute,
                60,
                "intake_assessment",
                [coordinator["id"]],
                [p["id"]],
                room,
            )
            start = datetime.combine(d, time(start_minute // 60, start_minute % 60), tzinfo=tz)
            booked = min(_booked_at(rng, d, INTAKE_LEAD_DAYS), cutoff, start - timedelta(hours=1))
            appointment = _appointment(slot, start, [p["id"]], booked)
            out.append(appointment)
            p["admitted"] = d.isoformat()
            if d >= plan.today:
                break  # booked in the booked week
            visit = Visit(
                patient_id=p["id"],
                start=start,
                session_type="intake_assessment",
                lead_days=(d - booked.date()).days,
                recent_misses=sum(o in MISSED for o in past[p["id"]][-3:]),
                first_visit=True,
                own_clinician=p["primary_clinician"] == coordinator["id"],
                reminded=reminded[p["id"]],
            )
            outcome = process.outcome(visit)
            past[p["id"]].append(outcome)
            appointment["status"] = outcome
            if outcome == "attended":
                break
            d += timedelta(days=3)
        p["phase"] = _phase((plan.today - date.fromisoformat(p["admitted"])).days)
    return out


def _settle_authorizations(
    plan: FacilityPlan, appointments: list[dict[str, Any]], rng: random.Random
) -> None:
    """Units documented before Rota + sessions in the authorization's span (held or booked)
    never exceed what was authorized, with a few patients left close to the end (so warnings
    have something to show)."""
    counted: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for a in appointments:
        for pid in a["patients"]:
            own = (a.get("outcomes") or {}).get(pid, a["status"])
            if own != "cancelled":
                counted[pid].append((a["start"][:10], a["session_type"]))
    for patient in plan.patients:
        for auth in patient.get("authorizations", []):
            used = sum(
                1
                for day, stype in counted[patient["id"]]
                if stype in auth["session_types"] and auth["start"] <= day <= auth["end"]
            )
            auth["units"] = used + rng.choice([3, 6, 12, 24])
            room = auth["units"] - used - rng.choice([2, 3, 6])
            auth["used"] = max(0, min(auth["used"], room))
