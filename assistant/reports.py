"""Directors' numbers, computed from the database (prose comes from templates, not a model).

Utilization: minutes booked in sessions over available minutes (weekly hours ∩ facility hours,
minus absences), over the clinicians: the staff the credential rules qualify for at least one
session type (the solver's plan figures count the same people, `solver.metrics.utilization`).
Attendance: attended / (attended + no-show + late cancel) of past sessions.
Authorizations: units from the one ledger (`rules.units`), warnings at the pack's thresholds.
Unmet requirements: per ISO week, each weekly minimum (treatment plan, level of care, court
order) against the sessions the patient actually has that week.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from assistant.disclosure import raise_if_refused
from clinic.db import Database
from clinic.models import (
    ACTIVE_STATUSES,
    OUTCOME_STATUSES,
    Appointment,
    Authorization,
    CourtOrder,
    Facility,
    Patient,
    Room,
    RoomUnavailability,
    Staff,
)
from clinic.timeutil import (
    business_days_between,
    day_bounds,
    intersect_weekly,
    opening_hours,
    parse_weekly,
    weekly_spans,
    zone,
)
from clinic.tokens import Caller
from rules.decision import Decision
from rules.facts import (
    authorization_facts,
    build_situation,
    patient_histories,
    patient_history,
)
from rules.model import AppointmentFacts
from rules.service import RulesService, default_service
from rules.units import ledger


@dataclass
class Utilization:
    start: datetime
    end: datetime
    staff_utilization: float
    room_utilization: float
    booked_minutes: int
    available_minutes: int
    attendance_rate: float | None
    no_show_rate: float | None
    sessions_held: int
    by_staff: list[dict[str, Any]] = field(default_factory=list)
    unmet: list[dict[str, Any]] = field(default_factory=list)
    # Billable: minutes of sessions someone attended (no-shows and sessions still ahead are not);
    # `ahead`: booked minutes that start after `now`. Room figures as the staff ones.
    billable_minutes: int = 0
    ahead_minutes: int = 0
    room_booked_minutes: int = 0
    room_available_minutes: int = 0
    room_billable_minutes: int = 0


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> int:
    return max(0, int((min(a1, b1) - max(a0, b0)).total_seconds() // 60))


def _open_intervals(
    session: Session, start: datetime, end: datetime, weekly: dict[str, list[str]] | None
) -> list[tuple[datetime, datetime]]:
    """Working intervals (a weekly template ∩ facility hours) inside [start, end), as UTC
    pairs; no template: the facility's hours."""
    facility = session.scalar(select(Facility).limit(1))
    if facility is None:
        return []
    tz = zone(facility.timezone)
    hours = opening_hours(facility.open_days, facility.open, facility.close)
    template = parse_weekly(weekly) if weekly else None
    working = intersect_weekly(template, hours) if template is not None else hours
    first = start.astimezone(tz).date()
    days = [first + timedelta(days=n) for n in range((end.astimezone(tz).date() - first).days + 1)]
    return [
        (max(a, start), min(b, end))
        for a, b in weekly_spans(working, days, tz)
        if a < end and start < b
    ]


def clinicians(session: Session, start: datetime, end: datetime, service: RulesService) -> set[str]:
    """Staff who deliver sessions: qualified by the credential rules for at least one type."""
    tz = _tz(session)
    period = (start.astimezone(tz).date(), end.astimezone(tz).date())
    qualified = service.constraints_from_db(session, period).qualified
    return {sid for pool in qualified.values() for sid in pool}


def _outcomes(a: Appointment) -> list[str]:
    """Each participant's outcome (a session without patients counts once, as itself)."""
    return [a.outcome_of(pid) for pid in a.patient_ids] or [a.status]


def _attended(a: Appointment) -> bool:
    """Held with someone there: billable (a group counts when any member attended)."""
    return any(outcome == "attended" for outcome in _outcomes(a))


def utilization(
    session: Session,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    service: RulesService | None = None,
    staff_ids: Collection[str] | None = None,
    with_unmet: bool = True,
) -> Utilization:
    """`staff_ids`: the clinicians to count, when the caller already knows them (a report of
    many weeks works them out once for its whole span); default: `clinicians` of the period.
    `with_unmet=False` leaves `unmet` empty, for a caller that reads `unmet_requirements` of
    many weeks at once."""
    who = (
        set(staff_ids)
        if staff_ids is not None
        else clinicians(session, start, end, service or default_service())
    )
    staff = session.scalars(
        select(Staff)
        .where(Staff.id.in_(who))
        .order_by(Staff.id)
        .options(selectinload(Staff.unavailability))
    ).all()
    appointments = session.scalars(
        select(Appointment)
        .where(Appointment.start < end, Appointment.end > start)
        .options(selectinload(Appointment.staff_links), selectinload(Appointment.patient_links))
    ).all()
    busy: dict[str, int] = defaultdict(int)
    billed: dict[str, int] = defaultdict(int)
    ahead: dict[str, int] = defaultdict(int)
    for a in appointments:
        if a.status in ACTIVE_STATUSES:
            minutes = _overlap(a.start, a.end, start, end)
            for sid in a.staff_ids:
                busy[sid] += minutes
                billed[sid] += minutes if _attended(a) else 0
                ahead[sid] += _overlap(a.start, a.end, max(start, now), end)
    rows, total_available, total_busy, total_billed, total_ahead = [], 0, 0, 0, 0
    for member in staff:
        spans = _open_intervals(session, start, end, member.availability)
        available = sum(_overlap(a, b, start, end) for a, b in spans)
        for away in member.unavailability:
            available -= sum(_overlap(a, b, away.start, away.end) for a, b in spans)
        available = max(available, 0)
        booked = min(busy.get(member.id, 0), available) if available else busy.get(member.id, 0)
        billable = min(billed.get(member.id, 0), booked)
        total_available += available
        total_busy += booked
        total_billed += billable
        total_ahead += min(ahead.get(member.id, 0), booked - billable)
        rows.append(
            {
                "staff": member.id,
                "name": member.name,
                "role": member.role,
                "booked_minutes": booked,
                "available_minutes": available,
                "billable_minutes": billable,
                "utilization": round(booked / available, 3) if available else None,
            }
        )
    rooms = session.scalars(select(Room)).all()
    closures = session.scalars(select(RoomUnavailability)).all()
    room_open = sum(
        _overlap(a, b, start, end) for a, b in _open_intervals(session, start, end, None)
    )
    room_available = room_open * len(rooms) - sum(
        sum(_overlap(a, b, c.start, c.end) for a, b in _open_intervals(session, start, end, None))
        for c in closures
    )
    in_rooms = [a for a in appointments if a.room_id and a.status in ACTIVE_STATUSES]
    room_busy = sum(_overlap(a.start, a.end, start, end) for a in in_rooms)
    room_billed = sum(_overlap(a.start, a.end, start, end) for a in in_rooms if _attended(a))
    # Attendance is each participant's: one member's no-show in a group counts as one.
    past = [
        outcome
        for a in appointments
        if a.start < now
        for outcome in _outcomes(a)
        if outcome in OUTCOME_STATUSES
    ]
    held = sum(
        1 for a in appointments if a.start < now and set(_outcomes(a)) & set(OUTCOME_STATUSES)
    )
    attended = sum(o == "attended" for o in past)
    no_show = sum(o == "no_show" for o in past)
    return Utilization(
        start=start,
        end=end,
        staff_utilization=round(total_busy / total_available, 3) if total_available else 0.0,
        room_utilization=round(room_busy / room_available, 3) if room_available else 0.0,
        booked_minutes=total_busy,
        available_minutes=total_available,
        attendance_rate=round(attended / len(past), 3) if past else None,
        no_show_rate=round(no_show / (attended + no_show), 3) if attended + no_show else None,
        sessions_held=held,
        by_staff=sorted(rows, key=lambda r: -(r["utilization"] or 0)),
        unmet=unmet_requirements(session, start, end) if with_unmet else [],
        billable_minutes=total_billed,
        ahead_minutes=total_ahead,
        room_booked_minutes=room_busy,
        room_available_minutes=max(room_available, 0),
        room_billable_minutes=room_billed,
    )


@dataclass
class NoShows:
    """Missed sessions in a period: each participant's own outcome (one member missing a group
    counts once). The rate is no-shows over attended + no-shows, as in `Utilization`."""

    start: datetime
    end: datetime
    attended: int
    no_shows: int
    late_cancellations: int
    rate: float | None
    previous_rate: float | None  # the period of the same length just before
    by_session_type: list[dict[str, Any]] = field(default_factory=list)
    by_weekday: list[dict[str, Any]] = field(default_factory=list)
    patients_missing_twice: int = 0


def _rate(missed: int, attended: int) -> float | None:
    return round(missed / (missed + attended), 3) if missed + attended else None


def _outcome_rows(
    session: Session, start: datetime, end: datetime
) -> list[tuple[Appointment, str, str]]:
    """(appointment, patient, outcome) for every participant outcome recorded in the period."""
    rows = session.scalars(
        select(Appointment)
        .where(Appointment.start >= start, Appointment.start < end)
        .options(selectinload(Appointment.patient_links))
    ).all()
    return [
        (a, pid, a.outcome_of(pid))
        for a in rows
        for pid in a.patient_ids
        if a.outcome_of(pid) in OUTCOME_STATUSES
    ]


def no_shows(session: Session, start: datetime, end: datetime, now: datetime) -> NoShows:
    tz = _tz(session)
    until = min(end, now)
    rows = _outcome_rows(session, start, until)
    before = _outcome_rows(session, start - (until - start), start) if until > start else []

    def tally(keyed: dict[str, list[str]], label: str) -> list[dict[str, Any]]:
        out = []
        for key, outcomes in keyed.items():
            missed, came = outcomes.count("no_show"), outcomes.count("attended")
            out.append(
                {
                    label: key,
                    "sessions": len(outcomes),
                    "no_shows": missed,
                    "rate": _rate(missed, came),
                }
            )
        return sorted(out, key=lambda r: (-(r["rate"] or 0), -r["sessions"]))

    by_type: dict[str, list[str]] = defaultdict(list)
    by_day: dict[str, list[str]] = defaultdict(list)
    missed_by_patient: dict[str, int] = defaultdict(int)
    for a, pid, outcome in rows:
        by_type[a.session_type_id].append(outcome)
        by_day[a.start.astimezone(tz).strftime("%A")].append(outcome)
        missed_by_patient[pid] += outcome == "no_show"
    outcomes = [o for _, _, o in rows]
    previous = [o for _, _, o in before]
    return NoShows(
        start=start,
        end=end,
        attended=outcomes.count("attended"),
        no_shows=outcomes.count("no_show"),
        late_cancellations=outcomes.count("late_cancelled"),
        rate=_rate(outcomes.count("no_show"), outcomes.count("attended")),
        previous_rate=_rate(previous.count("no_show"), previous.count("attended")),
        by_session_type=tally(by_type, "session_type"),
        by_weekday=tally(by_day, "weekday"),
        patients_missing_twice=sum(1 for n in missed_by_patient.values() if n >= 2),
    )


def _weeks(start: datetime, end: datetime, tz: Any) -> list[tuple[date, datetime, datetime]]:
    first = start.astimezone(tz).date()
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while True:
        week_start, _ = day_bounds(monday, tz)
        week_end, _ = day_bounds(monday + timedelta(days=7), tz)
        if week_start >= end:
            break
        weeks.append((monday, week_start, week_end))
        monday += timedelta(days=7)
    return weeks


def _sessions_by_week(
    session: Session, start: datetime, end: datetime
) -> tuple[dict[tuple[str, str, date], int], dict[tuple[str, str, date], int]]:
    """(patient, session type, Monday) → sessions that keep their time (booked or held), and
    → sessions cancelled (ahead or late) in that week: a requirement left unmet after a
    cancellation is one nobody rebooked."""
    tz = _tz(session)
    kept: dict[tuple[str, str, date], int] = defaultdict(int)
    cancelled: dict[tuple[str, str, date], int] = defaultdict(int)
    rows = session.scalars(
        select(Appointment)
        .where(Appointment.start >= start, Appointment.start < end)
        .options(selectinload(Appointment.patient_links))
    ).all()
    for a in rows:
        day = a.start.astimezone(tz).date()
        monday = day - timedelta(days=day.weekday())
        for pid in a.patient_ids:
            # A cancelled session is cancelled for everyone, whatever its members' rows say.
            cancelled_whole = a.status in ("cancelled", "late_cancelled")
            outcome = a.status if cancelled_whole else a.outcome_of(pid)
            if outcome in ACTIVE_STATUSES:
                kept[(pid, a.session_type_id, monday)] += 1
            elif outcome in ("cancelled", "late_cancelled"):
                cancelled[(pid, a.session_type_id, monday)] += 1
    return kept, cancelled


def _tz(session: Session) -> Any:
    facility = session.scalar(select(Facility).limit(1))
    return zone(facility.timezone) if facility else zone("UTC")


def unmet_requirements(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    tz = _tz(session)
    weeks = _weeks(start, end, tz)
    if not weeks:
        return []
    counts, cancelled = _sessions_by_week(session, weeks[0][1], weeks[-1][2])
    patients = session.scalars(
        select(Patient)
        .where(Patient.phase != "discharged")
        .options(
            selectinload(Patient.requirements),
            selectinload(Patient.court_order).selectinload(CourtOrder.requirements),
        )
    ).all()
    unmet = []
    for patient in patients:
        needed: dict[str, tuple[int, str]] = {}
        for req in patient.requirements:
            needed[req.session_type_id] = (req.per_week, req.source or "treatment_plan")
        for monday, _, _ in weeks:
            order = patient.court_order
            week_needed = dict(needed)
            if order and order.start <= monday + timedelta(days=6) and monday <= order.end:
                for req in order.requirements:
                    have = week_needed.get(req.session_type_id, (0, ""))[0]
                    if req.per_week >= have:
                        week_needed[req.session_type_id] = (req.per_week, "court_order")
            for stype, (per_week, source) in week_needed.items():
                got = counts.get((patient.id, stype, monday), 0)
                if got < per_week:
                    dropped = cancelled.get((patient.id, stype, monday), 0)
                    unmet.append(
                        {
                            "patient": patient.id,
                            "session_type": stype,
                            "week": monday.isoformat(),
                            "required": per_week,
                            "have": got,
                            "missing": per_week - got,
                            "cancelled_not_rebooked": min(dropped, per_week - got),
                            "source": source,
                        }
                    )
    return unmet


@dataclass
class Compliance:
    court: list[dict[str, Any]]
    authorizations: list[dict[str, Any]]

    def patients(self) -> list[str]:
        """Every patient a row names (what reading the report is an access to)."""
        rows = [*self.court, *self.authorizations]
        return list(dict.fromkeys(r["patient"] for r in rows if r.get("patient")))


def authorization_usage(
    session: Session,
    auth: Authorization,
    service: RulesService | None = None,
    *,
    history: tuple[AppointmentFacts, ...] | None = None,
    tz: Any = None,
) -> dict[str, Any]:
    """Units used (documented before Rota, or held), booked but not yet held, and left.
    `history`, `tz`: the patient's appointments and the facility's zone, when already read."""
    packs = (service or default_service()).packs
    units = ledger(
        authorization_facts(auth, packs.data),
        patient_history(session, auth.patient_id) if history is None else history,
        tz or _tz(session),
        packs.tables,
    )
    return {"used": units.used, "booked": units.booked, "remaining": units.left}


def _threshold(service: RulesService, rule_id: str, name: str) -> int | None:
    """A warning rule's parameter; None when the facility turned the rule off."""
    rule = service.packs.rule(rule_id)
    if rule is None or not rule.enabled or name not in rule.params:
        return None
    return int(rule.params[name])


def compliance(
    session: Session, now: datetime, *, service: RulesService | None = None
) -> Compliance:
    """Court-ordered patients on track or behind this week; authorizations running out, at the
    authorization pack's thresholds (AUTH-LOW-UNITS warn_units, AUTH-ENDING warn_business_days)."""
    service = service or default_service()
    units_warning = _threshold(service, "AUTH-LOW-UNITS", "warn_units")
    days_warning = _threshold(service, "AUTH-ENDING", "warn_business_days")
    tz = _tz(session)
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    week_start, _ = day_bounds(monday, tz)
    week_end, _ = day_bounds(monday + timedelta(days=7), tz)
    counts, _ = _sessions_by_week(session, week_start, week_end)
    held: dict[tuple[str, str], int] = defaultdict(int)
    for a in session.scalars(
        select(Appointment)
        .where(
            Appointment.start >= week_start,
            Appointment.start < now,
            Appointment.status.in_(ACTIVE_STATUSES),
        )
        .options(selectinload(Appointment.patient_links))
    ):
        for pid in a.patient_ids:
            if a.outcome_of(pid) == "attended":  # the member's own outcome, not the group's
                held[(pid, a.session_type_id)] += 1
    court = []
    orders = session.scalars(
        select(CourtOrder)
        .where(CourtOrder.start <= today, CourtOrder.end >= today)
        .options(selectinload(CourtOrder.requirements))
    ).all()
    for order in orders:
        for req in order.requirements:
            scheduled = counts.get((order.patient_id, req.session_type_id, monday), 0)
            court.append(
                {
                    "patient": order.patient_id,
                    "case_number": order.case_number,
                    "session_type": req.session_type_id,
                    "required": req.per_week,
                    "scheduled": scheduled,
                    "attended": held.get((order.patient_id, req.session_type_id), 0),
                    "on_track": scheduled >= req.per_week,
                    "liaison": order.liaison_id,
                }
            )
    auths = []
    live = session.scalars(select(Authorization).where(Authorization.end >= today)).all()
    histories = patient_histories(session, [a.patient_id for a in live])  # one query, not N
    for auth in live:
        usage = authorization_usage(
            session, auth, service, history=histories[auth.patient_id], tz=tz
        )
        days_left = business_days_between(today, auth.end)
        flags = []
        if units_warning is not None and usage["remaining"] <= units_warning:
            flags.append(f"{max(usage['remaining'], 0)} unit(s) left")
        if days_warning is not None and days_left <= days_warning:
            flags.append(f"ends in {days_left} business day(s)")
        if flags:
            auths.append(
                {
                    "patient": auth.patient_id,
                    "payer": auth.payer,
                    "authorization": auth.id,
                    "end": auth.end.isoformat(),
                    "units": auth.units,
                    **usage,
                    "business_days_left": days_left,
                    "flags": flags,
                }
            )
    return Compliance(
        court=sorted(court, key=lambda r: (r["on_track"], r["patient"])),
        authorizations=sorted(auths, key=lambda r: (r["remaining"], r["end"])),
    )


def review_week(
    db: Database,
    caller: Caller,
    patient_id: str,
    day: date,
    *,
    now: datetime | None = None,
    service: RulesService | None = None,
) -> Decision:
    """The patient's planned ISO week against their level of care's band (LOC-WEEK-UNDER,
    LOC-WEEK-OVER): the warnings say what is off. Refused, with the rule's words, to a caller
    who may not review this patient's week."""
    service = service or default_service()
    with db.read() as session:
        actor, situation = build_situation(
            session, service.packs, actor=caller.staff_id, patient=patient_id, week_of=day, now=now
        )
    decision = service.evaluate("review_week", actor, situation)
    raise_if_refused(decision)
    return decision
