"""The month itself: a demo facility loaded into a fresh SQLite database, lived business day by
business day on the one settable clock (clinic.timeutil.use_clock), every change through the
use cases. The exogenous events come from `events.Draws` (drawn before any policy runs); what
is decided comes from the policy.

A business day (facility time):
- 06:30 sick calls starting today (the policy repairs);
- 07:00 the policy's morning (Rota: the morning job, its plan booked);
- 07:30 the policy's extra reminders (Rota: risk-targeted), then late cancellations of today's
  sessions (the patient's drawn outcome, from clinic.attendance_process on the session as
  booked: events.Draws.outcome), each freed place handed to the policy's waitlist hook;
- during the day, in time order: new patients (an emergency walk-in's assessment, a
  referral's intake: admitted, then the policy books), discharges at 12:00, and on Fridays at
  14:00 the weekly round: next week's standing group meetings at their fixed times (the same
  for both policies), then each patient's weekly requirements not yet booked, one request each
  (the policy books);
- 19:30 attendance: every session of the day still open is marked attended or no-show as
  drawn (a late cancellation drawn for a session booked after 07:30 counts as a no-show); a
  referral whose intake was attended moves to the stabilization phase (their level of care's
  weekly sessions follow from it).
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assistant import callers
from assistant.usecases import attendance, patients
from assistant.usecases.appointments import Book, book
from assistant.wiring import load_facility_file
from bench.sim import metrics
from bench.sim.events import Arrival, Draws
from bench.sim.policies import REFUSED, Policy, standing_series
from clinic.attendance_history import MISSED, OUTCOMES, RECENT
from clinic.attendance_process import Visit
from clinic.booking import AppointmentView
from clinic.catalogue import BUILTIN_SESSION_TYPES
from clinic.db import Database, open_database
from clinic.models import Appointment, AppointmentPatient, CourtOrder, Group, Patient
from clinic.queries import appointments_between
from clinic.timeutil import WEEKDAYS, at_local, day_bounds, parse_hhmm, use_clock
from clinic.tokens import Caller

SICK_CALL, MORNING, LATE_CANCELS, DISCHARGE, WEEKLY_ROUND, END_OF_DAY = (
    6 * 60 + 30,
    7 * 60,
    7 * 60 + 30,
    12 * 60,
    14 * 60,
    19 * 60 + 30,
)
OPEN = ("booked", "checked_in")
GROUP_MIN_MEMBERS = next(t["min_patients"] for t in BUILTIN_SESSION_TYPES if t["id"] == "group")
DIRECTOR = "clinical_director"


@dataclass
class Ledger:
    """What the metrics need that the database does not say: when new patients arrived, who was
    in care when, and what each patient was required to have."""

    arrivals: dict[str, Arrival] = field(default_factory=dict)
    arrived_at: dict[str, datetime] = field(default_factory=dict)
    discharged_on: dict[str, int] = field(default_factory=dict)
    requirements: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    """patient → session type → source → weekly minimum, for the patients in care at the start,
    read at the start (what the month owes them)."""
    refilled: int = 0
    marked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    group_refused: int = 0
    handled: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Exogenous events this run lived through (the same for every policy on the same draws)."""
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))


@dataclass
class World:
    db: Database
    tz: ZoneInfo
    draws: Draws
    policy: Policy
    director: Caller
    now: datetime
    primary: dict[str, str]
    ledger: Ledger = field(default_factory=Ledger)

    def at(self, day: int, minute: int) -> datetime:
        self.now = at_local(self.draws.days[day], minute, self.tz)
        return self.now

    def closing(self, moment: datetime) -> datetime:
        return at_local(moment.astimezone(self.tz).date(), parse_hhmm("19:00"), self.tz)

    def next_morning(self, moment: datetime) -> datetime:
        """Local midnight after `moment`."""
        return day_bounds(moment.astimezone(self.tz).date(), self.tz)[1]

    def bounds(self, day: int) -> tuple[datetime, datetime]:
        return day_bounds(self.draws.days[day], self.tz)


def simulate(demo: dict[str, Any], draws: Draws, policy: Policy, start: date) -> dict[str, Any]:
    """One policy's month on a fresh database; returns its metrics."""
    demo = paperwork_in_order(demo, draws.days[-1])
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'sim.sqlite3'}")
        try:
            return _live(db, demo, draws, policy, start)
        finally:
            use_clock(None)
            db.dispose()


RENEWED_UNITS_PER_WEEK = 12


def paperwork_in_order(demo: dict[str, Any], last: date) -> dict[str, Any]:
    """The demo with every payer authorization running through the month with units to spare:
    utilization review renews them as they run out, which both policies would do alike (left
    out, a third of the demo's patients lose their authorization within the month and the
    comparison measures the paperwork, not the scheduling)."""
    out = copy.deepcopy(demo)
    weeks = (last - date.fromisoformat(out["appointments"][0]["start"][:10])).days // 7 + 1
    for patient in out["patients"]:
        for auth in patient.get("authorizations", []):
            auth["end"] = max(auth["end"], (last + timedelta(days=28)).isoformat())
            auth["units"] += RENEWED_UNITS_PER_WEEK * weeks
    return out


def smaller(demo: dict[str, Any], patients: int) -> dict[str, Any]:
    """The demo with only its first `patients` patients (their sessions and groups; a group
    left with fewer members than a group session takes goes, with its meetings): a tiny
    facility for tests."""
    out = copy.deepcopy(demo)
    kept = {p["id"] for p in out["patients"][:patients]}
    out["patients"] = out["patients"][:patients]
    groups = []
    for group in out["groups"]:
        group["members"] = [m for m in group["members"] if m in kept]
        if len(group["members"]) >= GROUP_MIN_MEMBERS:
            groups.append(group)
    out["groups"] = groups
    alive = {g["id"] for g in groups}
    appointments = []
    for a in out["appointments"]:
        a["patients"] = [p for p in a["patients"] if p in kept]
        if "outcomes" in a:  # a group member's own outcome, for the members kept
            a["outcomes"] = {p: o for p, o in a["outcomes"].items() if p in kept}
        if a["patients"] and (a.get("group") is None or a["group"] in alive):
            appointments.append(a)
    out["appointments"] = appointments
    return out


def _live(
    db: Database, demo: dict[str, Any], draws: Draws, policy: Policy, start: date
) -> dict[str, Any]:
    tz = ZoneInfo(demo["facility"]["timezone"])
    moment = day_bounds(start, tz)[0]
    use_clock(lambda: moment)
    load_facility_file(db, demo, actor="operator", source="simulation", as_of=start)
    director = callers.with_role(db, DIRECTOR)
    assert director is not None, "the demo has a clinical director"
    primary = {
        p["id"]: p["primary_clinician"] for p in demo["patients"] if "primary_clinician" in p
    }
    world = World(db, tz, draws, policy, director, moment, primary)
    use_clock(lambda: world.now)
    world.ledger.requirements = required_now(db)
    for day in range(len(draws.days)):
        live_day(world, day)
    world.now = day_bounds(draws.days[-1], tz)[1]
    return metrics.measure(world)


def live_day(world: World, day: int) -> None:
    draws, policy, led = world.draws, world.policy, world.ledger
    clock = time.perf_counter()
    for call in (s for s in draws.sick if s.day == day):
        world.at(day, SICK_CALL)
        last = draws.days[call.day + call.days - 1]
        policy.sick_call(world, call.staff, world.now, day_bounds(last, world.tz)[1])
        led.handled["sick_calls"] += 1
    led.seconds["sick_calls"] += time.perf_counter() - clock
    clock = time.perf_counter()
    world.at(day, MORNING)
    policy.morning(world)
    led.seconds["morning"] += time.perf_counter() - clock
    clock = time.perf_counter()
    world.at(day, LATE_CANCELS)
    reminded = policy.reminded(world, day)
    late_cancels(world, day, reminded)
    led.seconds["late_cancels"] += time.perf_counter() - clock
    happenings: list[tuple[int, int, Any]] = [
        (a.minute, 0, a) for a in draws.arrivals if a.day == day
    ] + [(DISCHARGE, 1, d.patient) for d in draws.discharges if d.day == day]
    if draws.days[day].weekday() == 4 and day + 1 < len(draws.days):
        happenings.append((WEEKLY_ROUND, 2, None))
    for minute, kind, what in sorted(happenings, key=lambda h: (h[0], h[1], str(h[2]))):
        clock = time.perf_counter()
        world.at(day, minute)
        if kind == 0:
            arrive(world, what)
            led.seconds["arrivals"] += time.perf_counter() - clock
        elif kind == 1:
            discharge(world, what, day)
            led.seconds["discharges"] += time.perf_counter() - clock
        else:
            weekly_round(world, day + 1)
            led.seconds["weekly_round"] += time.perf_counter() - clock
    clock = time.perf_counter()
    world.at(day, END_OF_DAY)
    mark_day(world, day, reminded)
    led.seconds["attendance"] += time.perf_counter() - clock


# --- the day's parts ------------------------------------------------------------------------------


def todays(world: World, day: int) -> list[AppointmentView]:
    start, end = world.bounds(day)
    with world.db.read() as session:
        return appointments_between(session, start, end)


def nth_sessions(rows: list[AppointmentView]) -> dict[tuple[str, str], int]:
    """(appointment, patient) → which of the patient's sessions of the day it is (0-based, by
    start), over the sessions the patient had that day (not those the facility cancelled)."""
    mine: dict[str, list[AppointmentView]] = defaultdict(list)
    for row in rows:
        for p in row.patients:
            if row.outcome_of(p) != "cancelled":
                mine[p].append(row)
    return {
        (row.id, p): n
        for p, sessions in mine.items()
        for n, row in enumerate(sorted(sessions, key=lambda r: (r.start, r.id)))
    }


def visits(world: World, day: int, rows: list[AppointmentView]) -> dict[tuple[str, str], Visit]:
    """(appointment, patient) → what the attendance process knows of that place: the session
    as booked (local start, type, days booked ahead, with the patient's own clinician or not),
    the patient's misses among their last RECENT sessions before today, whether they have never
    had a session before, and the standard reminders (every policy sends them)."""
    day_start = world.bounds(day)[0]
    ids = [r.id for r in rows]
    pids = sorted({p for r in rows for p in r.patients})
    with world.db.read() as session:
        created = dict(
            session.execute(
                select(Appointment.id, Appointment.created_at).where(Appointment.id.in_(ids))
            ).all()
        )
        past: dict[str, list[str]] = defaultdict(list)
        for pid, status in session.execute(
            select(AppointmentPatient.patient_id, AppointmentPatient.status)
            .where(
                AppointmentPatient.patient_id.in_(pids),
                AppointmentPatient.status.in_(OUTCOMES),
                AppointmentPatient.start < day_start,
            )
            .order_by(AppointmentPatient.start)
        ):
            past[pid].append(status)
    out: dict[tuple[str, str], Visit] = {}
    for row in rows:
        booked = created.get(row.id) or row.start
        if booked.tzinfo is None:
            booked = booked.replace(tzinfo=row.start.tzinfo)
        lead = max(0, (row.start - booked).days)
        for p in row.patients:
            own = world.primary.get(p)
            out[(row.id, p)] = Visit(
                patient_id=p,
                start=row.start.astimezone(world.tz).replace(tzinfo=None),
                session_type=row.session_type,
                lead_days=lead,
                recent_misses=sum(s in MISSED for s in past[p][-RECENT:]),
                first_visit=not past[p],
                own_clinician=own is None or own in row.staff,
                reminded=True,
            )
    return out


def fate(
    world: World,
    day: int,
    row: AppointmentView,
    patient: str,
    order: dict[tuple[str, str], int],
    seen: dict[tuple[str, str], Visit],
    reminded: set[tuple[str, str]],
) -> str:
    """The drawn outcome of one patient's place in one of today's sessions."""
    key = (row.id, patient)
    return world.draws.outcome(day, order[key], seen[key], key in reminded)


def late_cancels(world: World, day: int, reminded: set[tuple[str, str]]) -> None:
    rows = todays(world, day)
    order = nth_sessions(rows)
    seen = visits(world, day, rows)
    for row in rows:
        for p in row.patients:
            if row.outcome_of(p) != "booked" or p not in world.draws.uniforms:
                continue
            if fate(world, day, row, p, order, seen, reminded) != "late_cancel":
                continue
            try:
                attendance.mark(
                    world.db,
                    world.director,
                    attendance.Mark(
                        row.id, "late_cancel", patient=p if len(row.patients) > 1 else None
                    ),
                )
            except REFUSED:
                world.ledger.marked["refused"] += 1
                continue
            world.ledger.marked["late_cancelled"] += 1
            world.ledger.refilled += world.policy.freed(world, row, p)


def mark_day(world: World, day: int, reminded: set[tuple[str, str]]) -> None:
    rows = todays(world, day)
    order = nth_sessions(rows)
    seen = visits(world, day, rows)
    for row in rows:
        for p in row.patients:
            if row.outcome_of(p) not in OPEN or p not in world.draws.uniforms:
                continue
            drawn = fate(world, day, row, p, order, seen, reminded)
            action = "attended" if drawn == "attended" else "no_show"
            try:
                attendance.mark(
                    world.db,
                    world.director,
                    attendance.Mark(row.id, action, patient=p if len(row.patients) > 1 else None),
                )
            except REFUSED:
                world.ledger.marked["refused"] += 1
                continue
            world.ledger.marked[action] += 1
            arrival = world.ledger.arrivals.get(p)
            if (
                action == "attended"
                and row.session_type == "intake_assessment"
                and arrival is not None
                and not arrival.emergency
            ):
                patients.update(
                    world.db,
                    world.director,
                    patients.Update(p, {"phase": "stabilization"}, reason="intake done"),
                )


def arrive(world: World, arrival: Arrival) -> None:
    patients.admit(
        world.db,
        world.director,
        patients.Admit(
            dict(arrival.record),
            reason="emergency walk-in" if arrival.emergency else "referral",
            duplicate_ok=True,
        ),
    )
    world.ledger.arrivals[arrival.patient] = arrival
    world.ledger.handled["emergencies" if arrival.emergency else "referrals"] += 1
    world.ledger.arrived_at[arrival.patient] = world.now
    if arrival.record.get("primary_clinician"):
        world.primary[arrival.patient] = arrival.record["primary_clinician"]
    if arrival.emergency:
        world.policy.emergency(world, arrival.patient, world.now)
    else:
        world.policy.intake(world, arrival.patient, world.now)


def discharge(world: World, patient: str, day: int) -> None:
    """Discharge as the director; a court-ordered patient's as their court liaison, who
    approves the court's sessions ending (CRT-REQUIRED-CANCEL) with a reason."""
    with world.db.read() as session:
        row = session.get(Patient, patient)
        if row is None or row.phase == "discharged":
            return
        liaison = row.court_order.liaison_id if row.court_order is not None else None
    try:
        patients.discharge(
            world.db,
            world.director,
            patients.Discharge(patient, reason="treatment ended", now=world.now),
        )
    except REFUSED:
        if liaison is None:
            world.ledger.handled["discharges_refused"] += 1
            return
        try:
            patients.discharge(
                world.db,
                callers.for_staff(world.db, liaison),
                patients.Discharge(
                    patient,
                    reason="treatment ended",
                    override_reason="the court was told of the discharge",
                    now=world.now,
                ),
            )
        except REFUSED:
            world.ledger.handled["discharges_refused"] += 1
            return
    world.ledger.discharged_on[patient] = day
    world.ledger.handled["discharges"] += 1


def weekly_round(world: World, first_day: int) -> None:
    """Next week's standing group meetings, then every patient's weekly sessions not yet
    booked (in patient id order, the same for both policies)."""
    monday = world.draws.days[first_day]
    start = day_bounds(monday, world.tz)[0]
    end = day_bounds(monday + timedelta(days=5), world.tz)[0]
    book_groups(world, monday)
    with world.db.read() as session:
        booked = appointments_between(session, start, end, include_cancelled=False)
    have: dict[tuple[str, str], int] = defaultdict(int)
    for row in booked:
        for p in row.patients:
            if row.outcome_of(p) in OPEN:
                have[(p, row.session_type)] += 1
    for patient, needs in sorted(required_now(world.db).items()):
        for session_type, sources in sorted(needs.items()):
            per_week = max(sources.values())
            if standing_series(world, world.policy, patient, session_type):
                continue
            for _ in range(per_week - have[(patient, session_type)]):
                world.policy.request(world, patient, session_type, start, end)


def book_groups(world: World, monday: date) -> None:
    """Each standing group's meetings of the week at their fixed times, where the group has
    no meeting that day yet (a morning plan may have placed it already)."""
    start = day_bounds(monday, world.tz)[0]
    end = day_bounds(monday + timedelta(days=5), world.tz)[0]
    with world.db.read() as session:
        groups = session.scalars(
            select(Group).options(selectinload(Group.members), selectinload(Group.facilitators))
        ).all()
        plans = [
            (
                g.id,
                g.session_type_id,
                [s.id for s in g.facilitators],
                [m.id for m in g.members if m.phase != "discharged"],
                list(g.schedule or []),
            )
            for g in groups
        ]
        met = {
            (row.group, row.start.astimezone(world.tz).date())
            for row in appointments_between(session, start, end, include_cancelled=False)
            if row.group
        }
    for gid, session_type, staff, members, schedule in plans:
        for meeting in schedule:
            day = monday + timedelta(days=WEEKDAYS.index(meeting["day"]))
            if (gid, day) in met:
                continue
            moment = at_local(day, parse_hhmm(meeting["start"]), world.tz)
            try:
                book(
                    world.db,
                    world.director,
                    Book(
                        session_type=session_type,
                        start=moment,
                        staff=tuple(staff),
                        patients=tuple(members),
                        room=meeting.get("room"),
                        group=gid,
                        reason="standing group",
                    ),
                )
            except REFUSED:
                world.ledger.group_refused += 1


def required_now(db: Database) -> dict[str, dict[str, dict[str, int]]]:
    """Each patient in care: session type → source (level_of_care, treatment_plan, court_order,
    ...) → weekly minimum. Sources are minimums, so the largest binds."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    with db.read() as session:
        rows = session.scalars(
            select(Patient)
            .where(Patient.phase != "discharged")
            .options(
                selectinload(Patient.requirements),
                selectinload(Patient.court_order).selectinload(CourtOrder.requirements),
            )
        ).all()
        for patient in rows:
            needs: dict[str, dict[str, int]] = defaultdict(dict)
            for req in patient.requirements:
                source = req.source or "treatment_plan"
                needs[req.session_type_id][source] = max(
                    req.per_week, needs[req.session_type_id].get(source, 0)
                )
            if patient.court_order is not None:
                for req in patient.court_order.requirements:
                    needs[req.session_type_id]["court_order"] = req.per_week
            if needs:
                out[patient.id] = dict(needs)
    return out
