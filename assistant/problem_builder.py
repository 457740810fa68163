"""From the database to the solver's plain Problem, and back to datetimes.

The rules layer answers what any plan must respect (`constraints_for`, the same packs that check
every booking); `derive_eligibility` is the one mapping of that answer to the solver's shape.
Every field of the answer is either used there or named in NOT_FOR_PLANS with the reason a plan
does not need it (tests/solver/test_mapping.py proves the two lists cover the answer). Nothing
here encodes policy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from clinic import network
from clinic.errors import InvalidInput, NotFound
from clinic.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentPatient,
    Facility,
    FacilityClosure,
    Group,
    Patient,
    Room,
    SessionType,
    Staff,
)
from clinic.timeutil import (
    PARTS_OF_DAY,
    WEEKDAYS,
    Weekly,
    at_local,
    parse_hhmm,
    parse_weekly,
    weekly_spans,
    zone,
)
from rules import eligibility as answer
from rules.eligibility import missing_needs
from rules.facts import load_world
from rules.loader import PackSet
from rules.model import AuthorizationFacts
from rules.service import default_service
from solver.feasibility import Feasibility
from solver.model import (
    Day,
    GroupSpec,
    MinimumLength,
    PatientInfo,
    PatientLimit,
    Placement,
    PlanRules,
    Problem,
    RoomInfo,
    RuleWindows,
    SameDayApart,
    SessionKind,
    StaffInfo,
    UnitBudget,
    WeeklyMinimum,
    Window,
)
from solver.timegrid import normalize, subtract


@dataclass
class Clock:
    """Converts between the solver's minutes and aware datetimes for one problem."""

    origin: datetime
    tz: ZoneInfo

    def minutes(self, moment: datetime) -> int:
        return int((moment.astimezone(UTC) - self.origin).total_seconds() // 60)

    def moment(self, minutes: int) -> datetime:
        return self.origin + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Basis:
    """What an appointment change can move in a built problem, and what redoing it needs
    (assistant.problem_cache patches a cached problem with it instead of building anew)."""

    booked_span: tuple[datetime, datetime]
    """`problem.booked` holds the active appointments overlapping this span."""
    history_span: tuple[datetime, datetime]
    """Patients' `seen_by`: the clinicians they saw in this span."""
    court_types: Mapping[str, frozenset[str]]
    """Patient -> the session types their court order requires (Placement.court)."""
    budget_sources: tuple[tuple[str, AuthorizationFacts], ...]
    """The patient and authorization of each of `problem.eligibility.budgets`, in order."""
    intake_first: frozenset[str]
    """Patients whose allowed session types wait for their first assessment (LOC-INTAKE-FIRST):
    a change to their appointments can move more than the parts above."""
    packs: PackSet
    tz: ZoneInfo


@dataclass
class BuiltProblem:
    problem: Problem
    clock: Clock
    start: datetime
    end: datetime
    staff_names: dict[str, str]
    basis: Basis | None = field(default=None, repr=False, compare=False)
    _index: Feasibility | None = field(default=None, repr=False, compare=False)

    def index(self) -> Feasibility:
        """The problem's feasibility index, built on first use and read-only afterwards (so
        concurrent slot searches on a cached problem share it)."""
        if self._index is None:
            self._index = Feasibility(self.problem)
        return self._index


def _local(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    return at_local(day, parse_hhmm(hhmm), tz)


def _weekly_windows(
    weekly: Weekly | answer.Windows | None, days: Iterable[date], clock: Clock
) -> tuple[Window, ...] | None:
    """A weekly template over the period's days, in the solver's minutes (None: no limit)."""
    if weekly is None:
        return None
    spans = weekly_spans(weekly, days, clock.tz)
    return normalize((clock.minutes(a), clock.minutes(b)) for a, b in spans)


@dataclass(frozen=True)
class Scope:
    """What the mapping needs besides the rules' answer: who and what is in the problem, the
    period's open days, the clock, and when each staff member is away."""

    patients: frozenset[str]
    staff: frozenset[str]
    session_types: frozenset[str]
    dates: tuple[date, ...]
    clock: Clock
    horizon: Window
    away: dict[str, tuple[Window, ...]] = field(default_factory=dict)


@dataclass
class Mapped:
    eligibility: PlanRules
    patient_hours: dict[str, tuple[Window, ...] | None]
    """Each patient's own hours over the period (None: whenever the facility is open)."""


NOT_FOR_PLANS: dict[str, str] = {
    "Eligibility.period": "the period the rules were asked about: the Scope's own dates",
    "Eligibility.max_per_day": (
        "the same OPS-ONE-INDIVIDUAL limit as PatientRules.max_individual_per_day, used per patient"
    ),
    "PatientRules.min_weekly_clinical_minutes": (
        "a floor the booking checks only when a cancellation drops below it (LOC-BELOW-BAND) and "
        "a review flags (LOC-WEEK-UNDER); a plan never cancels, and its weekly minimums are the "
        "requirements"
    ),
    "StaffRules.session_types": "Eligibility.qualified, by staff member instead of session type",
    "Requirement.rule": (
        "the rule guarding the cancellation of a court-required session (CRT-REQUIRED-CANCEL); a "
        "plan never cancels"
    ),
    "GroupRules.min_members": (
        "GRP-MIN-SIZE only warns (a small group cannot be billed as a group); the booking books "
        "it and says so, and a plan places a standing group whatever its size"
    ),
    "GroupRules.closed_to_new": (
        "GRP-CLOSED-COHORT refuses new members; a plan only ever seats a group's own members, "
        "and enrolment is where new members are checked"
    ),
}
"""Fields of the rules' answer (rules.eligibility) the mapping does not use, and why."""


def derive_eligibility(rules: answer.Eligibility, scope: Scope) -> Mapped:
    """The rules' answer in the solver's shape: who may treat whom, weekly minimums, per-day and
    per-week limits, same-day pairs, rule windows, payer budgets, group sizes and the shortest
    sessions."""
    clock = scope.clock
    elig = PlanRules()
    types = scope.session_types
    for stype, ids in rules.qualified.items():
        if stype in types:
            elig.qualified[stype] = tuple(s for s in ids if s in scope.staff)
    elig.blocked = {key: why for key, why in rules.blocked.items() if key[0] in scope.patients}
    for (pid, stype), ids in rules.staff_for.items():
        if pid in scope.patients and stype in types:
            pool = tuple(s for s in ids if s in scope.staff)
            if pool:
                elig.staff_for[(pid, stype)] = pool
    elig.keep_apart = rules.keep_apart
    hours: dict[str, tuple[Window, ...] | None] = {}
    for pr in rules.patients.values():
        pid = pr.patient
        if pid not in scope.patients:
            continue
        hours[pid] = _weekly_windows(pr.windows, scope.dates, clock)
        _patient_rules(elig, pr, types)
        assessed = pr.assessed_from
        if pr.intake_first_session_types and (
            assessed is None or clock.minutes(assessed) >= scope.horizon[0]
        ):
            # LOC-INTAKE-FIRST: no group or family session in a period that does not start after
            # the intake assessment (kept simple: the whole period, not the hours after it).
            for stype in pr.intake_first_session_types & types:
                elig.staff_for.pop((pid, stype), None)
                elig.blocked.setdefault(
                    (pid, stype), f"{pid} needs the intake assessment first (LOC-INTAKE-FIRST)"
                )
        if pr.blocked:
            away = [(clock.minutes(a), clock.minutes(b)) for a, b, _what in pr.blocked]
            elig.windows[pid] = RuleWindows(subtract([scope.horizon], away), "CRT-COMMITMENT")
    for sr in rules.staff.values():
        sid = sr.staff
        if sid in scope.staff and (sr.supervisor or sr.needs_cofacilitator_outside_windows):
            # An intern alone: inside the rules' windows (their supervisor's hours under the
            # threshold, STF-INTERN-ONSITE; none without a supervisor, STF-INTERN-NO-SUPERVISOR)
            # and never while the supervisor is away (STF-INTERN-REACHABLE).
            own = _weekly_windows(sr.windows, scope.dates, clock)
            away = scope.away.get(sr.supervisor or "", ())
            allowed = subtract([scope.horizon] if own is None else own, away)
            onsite = sr.needs_cofacilitator_outside_windows
            rule = "STF-INTERN-ONSITE" if onsite else "STF-INTERN-REACHABLE"
            elig.windows[sid] = RuleWindows(allowed, rule, cofacilitated=True)
    for budget in rules.unit_budgets:
        if budget.patient not in scope.patients:
            continue
        a_start = datetime.combine(budget.start, time(0), tzinfo=clock.tz)
        a_end = datetime.combine(budget.end + timedelta(days=1), time(0), tzinfo=clock.tz)
        names = (budget.authorization, budget.payer)  # the authorization's id, else its payer
        elig.budgets.append(
            UnitBudget(
                budget.patient,
                frozenset(budget.session_types),
                (clock.minutes(a_start), clock.minutes(a_end)),
                max(0, budget.units_left),
                label=next((n for n in names if n), ""),
                per_week=budget.max_per_week,
            )
        )
    for gr in rules.groups.values():
        if gr.max_members is not None:  # GRP-MAX-SIZE, GRP-CAPACITY
            elig.group_max[gr.group] = gr.max_members
    for least in rules.min_minutes.values():  # COD-IOP-DAY
        stype = least.session_type
        if stype in types:
            elig.min_minutes[stype] = MinimumLength(stype, least.minutes, least.rule, least.what)
    return Mapped(elig, hours)


def _patient_rules(elig: PlanRules, pr: answer.PatientRules, types: frozenset[str]) -> None:
    """One patient's weekly minimums, treatment phase and daily and weekly limits."""
    pid = pr.patient
    for req in pr.requirements:
        if req.per_week > 0 and req.session_type in types:
            elig.requirements.append(WeeklyMinimum(pid, req.session_type, req.per_week, req.source))
    for stype in types - pr.allowed_session_types:  # LOC-PHASE-SESSION
        elig.staff_for.pop((pid, stype), None)
        elig.blocked.setdefault((pid, stype), f"{pid}'s treatment phase excludes {stype}")
    limits = (
        (pr.max_individual_per_day, pr.individual_session_types, "day", False,
         "OPS-ONE-INDIVIDUAL", "individual psychotherapy"),
        (pr.max_psychotherapy_minutes_per_day, pr.psychotherapy_session_types, "day", True,
         "OPS-DAILY-PSYCHOTHERAPY-CAP", "psychotherapy"),
        (pr.max_weekly_clinical_minutes, pr.clinical_session_types, "week", True,
         "LOC-ABOVE-BAND", "clinical services (the level of care's band)"),
        (pr.max_evaluations_per_day, pr.evaluation_session_types, "day", False,
         "OPS-ONE-EVALUATION", "diagnostic evaluation"),
        (pr.max_family_per_day, pr.family_session_types, "day", False,
         "OPS-FAMILY-SAME-DAY", "family session"),
    )  # fmt: skip
    for most, session_types, per, minutes, rule, what in limits:
        if most is not None and session_types & types:
            elig.limits.append(
                PatientLimit(pid, frozenset(session_types & types), per, most, minutes, rule, what)
            )
    evaluations, em = pr.evaluation_session_types & types, pr.em_session_types & types
    if evaluations and em:
        elig.apart_same_day.append(
            SameDayApart(
                pid, evaluations, em, "OPS-EVAL-EM-SAME-DAY", "diagnostic evaluation and E/M visit"
            )
        )


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

    # -- ISO weeks and open days ------------------------------------------------------------
    monday = first - timedelta(days=first.weekday())
    week_starts = [monday + timedelta(days=7 * n) for n in range((last - monday).days // 7 + 1)]
    weeks = tuple(
        (
            clock.minutes(_local(w, "00:00", tz)),
            clock.minutes(_local(w + timedelta(7), "00:00", tz)),
        )
        for w in week_starts
    )
    days: list[Day] = []
    dates: list[date] = []
    closed = [  # holidays (facility-wide closures): the open hours they cut off a day's ends
        (clock.minutes(c.start), clock.minutes(c.end))
        for c in session.scalars(
            select(FacilityClosure).where(FacilityClosure.start < end, FacilityClosure.end > start)
        )
    ]
    current = first
    while current <= last:
        if WEEKDAYS[current.weekday()] in (facility.open_days or WEEKDAYS[:5]):
            a = max(lo, clock.minutes(_local(current, facility.open, tz)))
            b = min(hi, clock.minutes(_local(current, facility.close, tz)))
            for c_start, c_end in closed:
                if c_start <= a < c_end:
                    a = c_end
                if c_start < b <= c_end:
                    b = c_start
            if a < b:
                weekday = WEEKDAYS[current.weekday()]
                days.append(Day(len(days), current, weekday, (current - monday).days // 7, (a, b)))
                dates.append(current)
        current += timedelta(days=1)
    open_windows = tuple(d.open for d in days)
    horizon = (open_windows[0][0], open_windows[-1][1]) if open_windows else (lo, hi)

    # -- staff and rooms ------------------------------------------------------------------------
    staff_rows = list(
        session.scalars(
            select(Staff).options(selectinload(Staff.unavailability)).order_by(Staff.position)
        )
    )
    staff: list[StaffInfo] = []
    away: dict[str, tuple[Window, ...]] = {}
    # Someone who also works at other sites of a network is away while there, and while
    # travelling between (the window widened by the travel minutes).
    other_sites = network.elsewhere(session, [s.id for s in staff_rows], start, end)
    held_there = _minutes_elsewhere(session, [s.id for s in staff_rows], weeks, clock)
    for s in staff_rows:
        # No weekly hours: the facility's. Hours that miss every day of the period: no time
        # (an empty tuple, which `or` would have read as "no limit").
        weekly = _weekly_windows(parse_weekly(s.availability), dates, clock)
        windows = open_windows if weekly is None else weekly
        away[s.id] = normalize(
            [(clock.minutes(u.start), clock.minutes(u.end)) for u in s.unavailability]
            + [(clock.minutes(b.start), clock.minutes(b.end)) for b in other_sites.get(s.id, [])]
        )
        staff.append(
            StaffInfo(
                id=s.id,
                role=s.role,
                credentials=frozenset(s.credentials or []),
                specializations=frozenset(s.specializations or []),
                available=subtract(windows, away[s.id]),
                max_minutes_per_week=s.max_minutes_per_week,
                minutes_elsewhere=held_there.get(s.id, ()),
            )
        )
    rooms: list[RoomInfo] = []
    for r in session.scalars(
        select(Room).options(selectinload(Room.closures)).order_by(Room.position)
    ):
        closed = [(clock.minutes(c.start), clock.minutes(c.end)) for c in r.closures]
        rooms.append(
            RoomInfo(
                r.id, r.kind, r.capacity, subtract(open_windows, closed), tuple(r.features or ())
            )
        )

    # -- session catalogue ----------------------------------------------------------------------
    type_rows = list(session.scalars(select(SessionType).order_by(SessionType.position)))
    kinds = {
        t.id: SessionKind(
            id=t.id,
            minutes=t.minutes,
            room_kinds=tuple(t.room_kinds or ()),
            room_features=tuple(t.room_features or ()),
            max_patients=t.max_patients,
            group=t.max_patients > 1,
            family=bool(t.room_kinds) and t.room_kinds[0] == "family",
        )
        for t in type_rows
    }

    # -- booked appointments: the whole ISO weeks, since weekly limits count them ---------------
    week_lo = clock.moment(weeks[0][0]) if weeks else start
    week_hi = clock.moment(weeks[-1][1]) if weeks else end
    booked_span = (min(start - timedelta(days=1), week_lo), max(end + timedelta(days=1), week_hi))
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
    court_types: dict[str, frozenset[str]] = {}
    for p in patient_rows:
        order = p.court_order
        if order is not None and order.start < end.date() and order.end >= start.date():
            court_types[p.id] = frozenset(req.session_type_id for req in order.requirements)
    booked = in_order(
        placement_of(a, clock, court_types)
        for a in booked_rows(session, booked_span)
        if holds_time(a)
    )

    # -- what the rules allow (the same packs every booking is checked against) ----------------
    active = [p for p in patient_rows if p.phase != "discharged"]
    service = default_service()
    world = load_world(session, service.packs, (first, last))
    rules = service.constraints_from_world(world, (first, last))
    scope = Scope(
        patients=frozenset(p.id for p in active),
        staff=frozenset(s.id for s in staff_rows),
        session_types=frozenset(kinds),
        dates=tuple(dates),
        clock=clock,
        horizon=horizon,
        away=away,
    )
    mapped = derive_eligibility(rules, scope)

    # -- patients -------------------------------------------------------------------------------
    history_span = (start - timedelta(days=history_days), start)
    seen = recent_clinicians(session, history_span)
    patients: list[PatientInfo] = []
    for p in active:
        prefs = p.preferences or {}
        liked = [PARTS_OF_DAY[part] for part in prefs.get("parts_of_day", [])]
        parts = {day: liked for day in WEEKDAYS} if liked else {}
        avoid = {d.index for d in days if d.weekday in set(prefs.get("avoid_days", []))}
        family: tuple[Window, ...] | None = None
        contacts = [c for c in (p.family_contacts or []) if c.get("availability")]
        if contacts:
            family = normalize(
                w
                for c in contacts
                for w in _weekly_windows(parse_weekly(c["availability"]), dates, clock) or ()
            )
        patients.append(
            PatientInfo(
                id=p.id,
                acuity=p.acuity or 3,
                available=mapped.patient_hours.get(p.id),
                primary_staff=p.primary_clinician_id,
                preferred_staff=prefs.get("clinician"),
                preferred_windows=_weekly_windows(parts, dates, clock) or (),
                avoid_days=frozenset(avoid),
                family_windows=family,
                seen_by=tuple(seen.get(p.id, ())),
            )
        )

    # -- standing groups ------------------------------------------------------------------------
    groups: list[GroupSpec] = []
    for g in session.scalars(
        select(Group)
        .options(selectinload(Group.facilitators), selectinload(Group.members))
        .order_by(Group.position)
    ):
        fixed: list[tuple[int, str | None]] = []
        for item in g.schedule or []:
            at = parse_hhmm(item["start"])
            for moment, _ in weekly_spans({item["day"]: [(at, at)]}, dates, tz):
                if lo <= clock.minutes(moment) < hi:
                    fixed.append((clock.minutes(moment), item.get("room") or g.room_id))
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
                available=_weekly_windows(parse_weekly(g.availability), dates, clock),
                fixed_starts=tuple(sorted(fixed)),
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
        eligibility=mapped.eligibility,
        groups=tuple(groups),
        booked=booked,
        weeks=weeks,
    )
    basis = Basis(
        booked_span=booked_span,
        history_span=history_span,
        court_types=court_types,
        budget_sources=tuple(
            (x.id, auth)
            for x in world.patients
            if x.id in scope.patients
            for auth in x.authorizations
        ),
        intake_first=frozenset(
            p for p, pr in rules.patients.items() if pr.intake_first_session_types
        ),
        packs=service.packs,
        tz=world.tz,
    )
    return BuiltProblem(problem, clock, start, end, {s.id: s.name for s in staff_rows}, basis)


def _minutes_elsewhere(
    session: Session, staff_ids: list[str], weeks: tuple[Window, ...], clock: Clock
) -> dict[str, tuple[int, ...]]:
    """Minutes each shared clinician holds at the network's other sites in each ISO week of
    the problem (the weekly cap is the person's); empty without a network."""
    if not weeks:
        return {}
    held = network.held_elsewhere(
        session, staff_ids, clock.moment(weeks[0][0]), clock.moment(weeks[-1][1])
    )
    out: dict[str, tuple[int, ...]] = {}
    for staff_id, sessions in held.items():
        per_week = [0] * len(weeks)
        for h in sessions:
            at = clock.minutes(h.start)
            week = next(i for i, (a, b) in enumerate(weeks) if a <= at < b)
            per_week[week] += h.minutes
        out[staff_id] = tuple(per_week)
    return out


def booked_rows(
    session: Session, span: tuple[datetime, datetime], ids: Collection[str] | None = None
) -> list[Appointment]:
    """The active appointments in `span`; with `ids`, those of them in `span` whatever their
    status (a patch drops the ones no longer holding time)."""
    query = (
        select(Appointment)
        .where(Appointment.end > span[0], Appointment.start < span[1])
        .options(selectinload(Appointment.staff_links), selectinload(Appointment.patient_links))
        .order_by(Appointment.start, Appointment.id)
    )
    query = (
        query.where(Appointment.id.in_(ids)) if ids is not None else query.where(Appointment.active)
    )
    return list(session.scalars(query))


def holds_time(a: Appointment) -> bool:
    return a.active and a.status in ACTIVE_STATUSES


def in_order(placements: Iterable[Placement]) -> tuple[Placement, ...]:
    """Booked placements in one order, however they were read (by start, then id)."""
    return tuple(sorted(placements, key=lambda p: (p.start, p.id)))


def placement_of(
    a: Appointment, clock: Clock, court_types: Mapping[str, frozenset[str]]
) -> Placement:
    return Placement(
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


def recent_clinicians(
    session: Session, span: tuple[datetime, datetime], patients: Collection[str] | None = None
) -> dict[str, list[str]]:
    """Patient -> clinicians seen in `span`, most recent first (for continuity)."""
    query = (
        select(Appointment)
        .where(
            Appointment.start >= span[0],
            Appointment.start < span[1],
            Appointment.status.in_(("attended", "booked", "checked_in")),
        )
        .options(selectinload(Appointment.staff_links), selectinload(Appointment.patient_links))
        .order_by(Appointment.start.desc(), Appointment.id)
    )
    if patients is not None:
        query = query.where(
            Appointment.id.in_(
                select(AppointmentPatient.appointment_id).where(
                    AppointmentPatient.patient_id.in_(patients)
                )
            )
        )
    seen: dict[str, list[str]] = defaultdict(list)
    for appt in session.scalars(query):
        if appt.group_id:
            continue
        for p in appt.patient_ids:
            for s in appt.staff_ids:
                if s not in seen[p]:
                    seen[p].append(s)
    return seen


def narrow_to_needs(problem: Problem, patient: str, session_type: str, needs: list[str]) -> Problem:
    """The problem with only clinicians who have every one of `needs` for this request (the
    rules' STF-NEEDS definition, applied to what the person asked for)."""
    have = {s.id: s.specializations for s in problem.staff}
    elig = problem.eligibility
    pool = tuple(
        s
        for s in elig.staff_for.get((patient, session_type), ())
        if not missing_needs(needs, have.get(s, frozenset()))
    )
    staff_for = {**elig.staff_for, (patient, session_type): pool}
    blocked = dict(elig.blocked)
    if not pool:
        staff_for.pop((patient, session_type))
        wanted = " and ".join(needs)
        holders = [
            s
            for s in elig.qualified.get(session_type, ())
            if not missing_needs(needs, have.get(s, frozenset()))
        ]
        # Someone has what was asked, but the patient's own needs or the rules rule them out:
        # saying "nobody has it" would send the person looking for a clinician who exists.
        blocked[(patient, session_type)] = (
            f"of the clinicians with {wanted}, none may see {patient} for {session_type} "
            f"({patient}'s own needs or the rules rule each one out)"
            if holders
            else f"no clinician who may provide {session_type} has {wanted}"
        )
    return replace(problem, eligibility=replace(elig, staff_for=staff_for, blocked=blocked))
