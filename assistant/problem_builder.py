"""From the database to the solver's plain Problem, and back to datetimes.

`derive_eligibility` asks the rules layer (`constraints_for`, the same packs that check every
booking) who may treat whom, which weekly minimums apply and which payer units are left, and
converts the answer to the solver's shape; nothing here encodes policy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from clinic.errors import InvalidInput, NotFound
from clinic.models import (
    ACTIVE_STATUSES,
    Appointment,
    Facility,
    Group,
    Patient,
    Room,
    SessionType,
    Staff,
)
from clinic.timeutil import WEEKDAYS, parse_hhmm, parse_weekly, zone
from rules.service import default_service
from solver.feasibility import Feasibility
from solver.model import (
    Appointment as SolverAppointment,
)
from solver.model import (
    Day,
    Eligibility,
    GroupSpec,
    PatientInfo,
    Problem,
    Requirement,
    RoomInfo,
    SessionKind,
    StaffInfo,
    UnitBudget,
    Window,
)
from solver.timegrid import normalize, subtract

PARTS_OF_DAY = {
    "morning": ("00:00", "12:00"),
    "afternoon": ("12:00", "17:00"),
    "evening": ("17:00", "24:00"),
}
"""Needs served by prescribers (medication-assisted treatment); every other need binds the
credentialed psychotherapy sessions (STF-04, STF-08)."""


@dataclass
class Clock:
    """Converts between the solver's minutes and aware datetimes for one problem."""

    origin: datetime
    tz: ZoneInfo

    def minutes(self, moment: datetime) -> int:
        return int((moment.astimezone(UTC) - self.origin).total_seconds() // 60)

    def moment(self, minutes: int) -> datetime:
        return self.origin + timedelta(minutes=minutes)


@dataclass
class BuiltProblem:
    problem: Problem
    clock: Clock
    start: datetime
    end: datetime
    staff_names: dict[str, str]
    _index: Feasibility | None = field(default=None, repr=False, compare=False)

    def index(self) -> Feasibility:
        """The problem's feasibility index, built on first use and read-only afterwards (so
        concurrent slot searches on a cached problem share it)."""
        if self._index is None:
            self._index = Feasibility(self.problem)
        return self._index


def _local(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    minutes = parse_hhmm(hhmm)
    base = datetime.combine(day, time(0), tzinfo=tz)
    # Wall-clock arithmetic, then to UTC (24:00 is the next midnight).
    if minutes >= 24 * 60:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return base.replace(hour=minutes // 60, minute=minutes % 60).astimezone(UTC)


def _weekly_windows(
    template: dict[str, list[str]] | None, days: Iterable[date], tz: ZoneInfo, clock: Clock
) -> tuple[Window, ...] | None:
    weekly = parse_weekly(template)
    if weekly is None:
        return None
    out: list[Window] = []
    for day in days:
        for iv in weekly.get(WEEKDAYS[day.weekday()], []):
            a = _local(day, f"{iv.start // 60:02d}:{iv.start % 60:02d}", tz)
            b = _local(day, f"{iv.end // 60:02d}:{iv.end % 60:02d}", tz)
            out.append((clock.minutes(a), clock.minutes(b)))
    return normalize(out)


def derive_eligibility(
    session: Session,
    patients: list[Patient],
    staff: list[Staff],
    session_types: list[SessionType],
    period: tuple[datetime, datetime],
    clock: Clock,
) -> Eligibility:
    """Who may treat whom, weekly minimums and payer units left: the rules layer's
    `constraints_for` (the same packs every booking is checked against), in the solver's shape."""
    start, end = period
    tz = clock.tz
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    rules = default_service().constraints_from_db(session, (first, last))
    active = {p.id for p in patients}
    on_staff = {s.id for s in staff}
    known_types = {t.id for t in session_types}
    elig = Eligibility()
    for stype, ids in rules.qualified.items():
        if stype in known_types:
            elig.staff_for[("*", stype)] = tuple(s for s in ids if s in on_staff)
    for (pid, stype), ids in rules.staff_for.items():
        if pid in active and stype in known_types:
            pool = tuple(s for s in ids if s in on_staff)
            if pool:
                elig.staff_for[(pid, stype)] = pool
    elig.blocked = {key: why for key, why in rules.blocked.items() if key[0] in active}
    for pid, pr in rules.patients.items():
        if pid not in active:
            continue
        for req in pr.requirements:
            if req.per_week > 0 and req.session_type in known_types:
                elig.requirements.append(
                    Requirement(pid, req.session_type, req.per_week, req.source)
                )
    elig.max_per_day = dict(rules.max_per_day)
    elig.keep_apart = rules.keep_apart
    for budget in rules.unit_budgets:
        if budget.patient not in active:
            continue
        a_start = datetime.combine(budget.start, time(0), tzinfo=tz)
        a_end = datetime.combine(budget.end + timedelta(days=1), time(0), tzinfo=tz)
        elig.budgets.append(
            UnitBudget(
                budget.patient,
                frozenset(budget.session_types),
                (clock.minutes(a_start), clock.minutes(a_end)),
                max(0, budget.units_left),
                label=budget.authorization or budget.payer,
            )
        )
    return elig


def build_problem(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    history_days: int = 28,
) -> BuiltProblem:
    """The solver's view of [start, end): open days, people, rooms, demand, what is booked."""
    facility = session.scalar(select(Facility).limit(1))
    if facility is None:
        raise NotFound("no facility is loaded: run `rota load FILE` or `rota demo --load` first")
    if end <= start:
        raise InvalidInput("the period is empty: --to must be after --from")
    tz = zone(facility.timezone)
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    origin = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    clock = Clock(origin, tz)
    lo, hi = clock.minutes(start), clock.minutes(end)

    # -- days ---------------------------------------------------------------------------------
    days: list[Day] = []
    dates: list[date] = []
    current = first
    while current <= last:
        if WEEKDAYS[current.weekday()] in (facility.open_days or WEEKDAYS[:5]):
            a = max(lo, clock.minutes(_local(current, facility.open, tz)))
            b = min(hi, clock.minutes(_local(current, facility.close, tz)))
            if a < b:
                days.append(
                    Day(
                        len(days),
                        current,
                        WEEKDAYS[current.weekday()],
                        (current - first).days // 7,
                        (a, b),
                    )
                )
                dates.append(current)
        current += timedelta(days=1)
    open_windows = tuple(d.open for d in days)

    # -- staff and rooms ------------------------------------------------------------------------
    staff_rows = list(
        session.scalars(
            select(Staff).options(selectinload(Staff.unavailability)).order_by(Staff.position)
        )
    )
    staff: list[StaffInfo] = []
    for s in staff_rows:
        windows = _weekly_windows(s.availability, dates, tz, clock) or open_windows
        away = [(clock.minutes(u.start), clock.minutes(u.end)) for u in s.unavailability]
        staff.append(
            StaffInfo(
                id=s.id,
                role=s.role,
                credentials=frozenset(s.credentials or []),
                specializations=frozenset(s.specializations or []),
                available=subtract(windows, away),
                max_minutes_per_week=s.max_minutes_per_week,
            )
        )
    rooms: list[RoomInfo] = []
    for r in session.scalars(
        select(Room).options(selectinload(Room.closures)).order_by(Room.position)
    ):
        closed = [(clock.minutes(c.start), clock.minutes(c.end)) for c in r.closures]
        rooms.append(RoomInfo(r.id, r.kind, r.capacity, subtract(open_windows, closed)))

    # -- session catalogue ----------------------------------------------------------------------
    type_rows = list(session.scalars(select(SessionType).order_by(SessionType.position)))
    kinds = {
        t.id: SessionKind(
            id=t.id,
            minutes=t.minutes,
            room_kinds=tuple(t.room_kinds or ()),
            max_patients=t.max_patients,
            group=t.max_patients > 1,
            family=bool(t.room_kinds) and t.room_kinds[0] == "family",
        )
        for t in type_rows
    }

    # -- booked appointments --------------------------------------------------------------------
    appt_rows = list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.active,
                Appointment.end > start - timedelta(days=1),
                Appointment.start < end + timedelta(days=1),
            )
            .options(selectinload(Appointment.staff_links), selectinload(Appointment.patient_links))
            .order_by(Appointment.start, Appointment.id)
        )
    )
    patient_rows = list(
        session.scalars(
            select(Patient)
            .options(
                selectinload(Patient.requirements),
                selectinload(Patient.court_order),
                selectinload(Patient.authorizations),
            )
            .order_by(Patient.position)
        )
    )
    court_types: dict[str, set[str]] = defaultdict(set)
    for p in patient_rows:
        order = p.court_order
        if order is not None and order.start < end.date() and order.end >= start.date():
            for req in order.requirements:
                court_types[p.id].add(req.session_type_id)
    booked = tuple(
        SolverAppointment(
            id=a.id,
            session_type=a.session_type_id,
            start=clock.minutes(a.start),
            minutes=a.minutes,
            staff=tuple(a.staff_ids),
            patients=tuple(a.patient_ids),
            room=a.room_id,
            group=a.group_id,
            pinned=a.pinned,
            court=any(a.session_type_id in court_types.get(p, ()) for p in a.patient_ids),
        )
        for a in appt_rows
        if a.status in ACTIVE_STATUSES
    )

    # -- patients -------------------------------------------------------------------------------
    seen = _recent_clinicians(session, start - timedelta(days=history_days), start)
    active = [p for p in patient_rows if p.phase != "discharged"]
    patients: list[PatientInfo] = []
    for p in active:
        prefs = p.preferences or {}
        preferred: list[Window] = []
        for part in prefs.get("parts_of_day", []):
            a_txt, b_txt = PARTS_OF_DAY[part]
            for day in dates:
                preferred.append(
                    (clock.minutes(_local(day, a_txt, tz)), clock.minutes(_local(day, b_txt, tz)))
                )
        avoid = {d.index for d in days if d.weekday in set(prefs.get("avoid_days", []))}
        family: tuple[Window, ...] | None = None
        contacts = [c for c in (p.family_contacts or []) if c.get("availability")]
        if contacts:
            family = normalize(
                w
                for c in contacts
                for w in _weekly_windows(c["availability"], dates, tz, clock) or ()
            )
        patients.append(
            PatientInfo(
                id=p.id,
                acuity=p.acuity or 3,
                available=_weekly_windows(p.availability, dates, tz, clock),
                primary_staff=p.primary_clinician_id,
                preferred_staff=prefs.get("clinician"),
                preferred_windows=normalize(preferred),
                avoid_days=frozenset(avoid),
                family_windows=family,
                seen_by=tuple(seen.get(p.id, ())),
            )
        )
    elig = derive_eligibility(session, active, staff_rows, type_rows, (start, end), clock)

    # -- standing groups ------------------------------------------------------------------------
    groups: list[GroupSpec] = []
    for g in session.scalars(
        select(Group)
        .options(selectinload(Group.facilitators), selectinload(Group.members))
        .order_by(Group.position)
    ):
        fixed: list[tuple[int, str | None]] = []
        for item in g.schedule or []:
            for day in dates:
                if WEEKDAYS[day.weekday()] == item["day"]:
                    at = clock.minutes(_local(day, item["start"], tz))
                    if lo <= at < hi:
                        fixed.append((at, item.get("room") or g.room_id))
        members = tuple(m.id for m in g.members if m.phase != "discharged")
        groups.append(
            GroupSpec(
                id=g.id,
                session_type=g.session_type_id,
                facilitators=tuple(f.id for f in g.facilitators),
                members=members,
                sessions_per_week=g.sessions_per_week or len(g.schedule or []) or 1,
                capacity=g.capacity,
                min_days_apart=g.min_days_apart,
                room=g.room_id,
                available=_weekly_windows(g.availability, dates, tz, clock),
                fixed_starts=tuple(fixed),
            )
        )

    problem = Problem(
        origin=origin,
        slot_minutes=facility.slot_minutes or 15,
        days=tuple(days),
        staff=tuple(staff),
        rooms=tuple(rooms),
        patients=tuple(patients),
        session_types=kinds,
        eligibility=elig,
        groups=tuple(groups),
        booked=booked,
    )
    return BuiltProblem(problem, clock, start, end, {s.id: s.name for s in staff_rows})


def _recent_clinicians(session: Session, start: datetime, end: datetime) -> dict[str, list[str]]:
    """Patient -> clinicians seen in [start, end), most recent first (for continuity)."""
    rows = session.scalars(
        select(Appointment)
        .where(
            Appointment.start >= start,
            Appointment.start < end,
            Appointment.status.in_(("attended", "booked", "checked_in")),
        )
        .options(selectinload(Appointment.staff_links), selectinload(Appointment.patient_links))
        .order_by(Appointment.start.desc())
    )
    seen: dict[str, list[str]] = defaultdict(list)
    for appt in rows:
        if appt.group_id:
            continue
        for p in appt.patient_ids:
            for s in appt.staff_ids:
                if s not in seen[p]:
                    seen[p].append(s)
    return seen


def narrow_to_needs(problem: Problem, patient: str, session_type: str, needs: list[str]) -> Problem:
    """The problem with only clinicians who have every one of `needs` for this request."""
    from dataclasses import replace

    have = {s.id: s.specializations for s in problem.staff}
    elig = problem.eligibility
    pool = tuple(
        s
        for s in elig.staff_for.get((patient, session_type), ())
        if set(needs) <= have.get(s, frozenset())
    )
    staff_for = {**elig.staff_for, (patient, session_type): pool}
    blocked = dict(elig.blocked)
    if not pool:
        staff_for.pop((patient, session_type))
        blocked[(patient, session_type)] = (
            f"no clinician who may provide {session_type} has " + " and ".join(needs)
        )
    return replace(problem, eligibility=replace(elig, staff_for=staff_for, blocked=blocked))
