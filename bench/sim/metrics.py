"""What a month under one policy achieved, read back from the database (and the ledger of
arrivals and requirements): the figures the seed's claims are about.

- billable utilization: minutes of attended sessions (a group counts when any member attended)
  over available minutes — clinicians' weekly hours ∩ facility hours minus absences (the
  director's utilization report's denominator, assistant.reports.utilization), rooms' open
  hours; `booked_utilization` is the report's own figure (booked, attended or no-show);
- required sessions: for each patient in care at the start and each full week they stayed,
  each weekly minimum (by source: level of care, court order; `all` = the largest source per
  session type) against the sessions they had that week: `booked_share` counts sessions that
  kept their place (attended, no-show or still booked), `attended_share` only attended ones;
  each capped at the minimum, summed, divided by the minimums;
- patients affected by a change per week: distinct (patient, week) pairs where the facility
  moved a patient's session to another time or clinician, or cancelled it (a patient's own
  late cancellation and a discharge are not changes the facility made), over the weeks;
- referral to first session: days from a referral's arrival to the start of their first
  session that was not cancelled (median, p90, and how many had none by the month's end);
- emergencies seen within 30 minutes: the walk-in's assessment starts at most 30 minutes
  after arrival (and was not cancelled);
- conflicts: pairs of active appointments overlapping in time for one clinician, one room
  (beyond a group room's single meeting) or one patient, counted in the database;
- waitlist refilled: places freed by late cancellations that a waitlist filled, counted in the
  database (accepted offers whose booked session holds the patient), next to what the hook
  reported (`waitlist_refilled_by_hook`; the two must agree).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased, selectinload

from assistant.reports import _open_intervals, utilization
from clinic.booking import AppointmentView, view_of
from clinic.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentPatient,
    AppointmentStaff,
    AuditEvent,
    Room,
)
from clinic.timeutil import day_bounds
from clinic.waitlist_models import WaitlistOffer

if TYPE_CHECKING:
    from bench.sim.world import World

KEPT = ("booked", "checked_in", "attended", "no_show")
"""A participant's outcomes that kept the session's place (it happened or could have)."""
EMERGENCY_TARGET = timedelta(minutes=30)


def refilled_in_database(world: World) -> int:
    """Accepted waitlist offers whose session exists and holds the offered patient."""
    with world.db.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(WaitlistOffer)
                .join(
                    AppointmentPatient,
                    and_(
                        AppointmentPatient.appointment_id == WaitlistOffer.appointment_id,
                        AppointmentPatient.patient_id == WaitlistOffer.patient_id,
                    ),
                )
                .where(
                    WaitlistOffer.status == "accepted",
                    AppointmentPatient.status.in_((*KEPT, "late_cancelled")),
                )
            )
            or 0
        )


def measure(world: World) -> dict[str, Any]:
    draws, tz = world.draws, world.tz
    start = day_bounds(draws.days[0], tz)[0]
    end = day_bounds(draws.days[-1], tz)[1]
    weeks = max(1, len(draws.days) // 5)
    with world.db.read() as session:
        rows = [
            view_of(a)
            for a in session.scalars(
                select(Appointment)
                .where(Appointment.start >= start, Appointment.start < end)
                .options(
                    selectinload(Appointment.staff_links), selectinload(Appointment.patient_links)
                )
            )
        ]
        report = utilization(session, start, end, world.now)
        rooms = session.scalar(select(func.count()).select_from(Room)) or 0
        room_available = rooms * sum(
            int((b - a).total_seconds() // 60)
            for a, b in _open_intervals(session, start, end, None)
        )
        changed = affected(
            session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.at >= start,
                    AuditEvent.action.in_(("appointment.move", "appointment.cancel")),
                )
                .order_by(AuditEvent.seq)
            ),
            tz,
        )
        conflicts = count_conflicts(session, start, end)
        first_session = {
            pid: min(
                (a.start for a in rows if pid in a.patients and a.outcome_of(pid) in KEPT),
                default=None,
            )
            for pid in world.ledger.arrivals
        }
        assessments = {
            pid: [
                a.start
                for a in rows
                if pid in a.patients
                and a.session_type == "intake_assessment"
                and a.outcome_of(pid) in KEPT
            ]
            for pid, arrival in world.ledger.arrivals.items()
            if arrival.emergency
        }
    outcomes = [a.outcome_of(p) for a in rows for p in a.patients]
    return {
        "draws": {"digest": draws.digest(), **dict(sorted(world.ledger.handled.items()))},
        "utilization": billable(rows, report, room_available),
        "required_sessions": required(world, rows),
        "patients_affected_per_week": round(changed / weeks, 2),
        "referral_to_first_session_days": waits(world, first_session),
        "emergencies": emergencies(world, assessments),
        "conflicts": conflicts,
        "waitlist_refilled": refilled_in_database(world),
        "waitlist_refilled_by_hook": world.ledger.refilled,
        "sessions": {
            "attended": outcomes.count("attended"),
            "no_show": outcomes.count("no_show"),
            "late_cancelled": outcomes.count("late_cancelled"),
            "cancelled_by_facility": sum(a.status == "cancelled" for a in rows),
            "group_meetings_refused": world.ledger.group_refused,
        },
        "policy": dict(sorted(world.policy.tally.items())),
        "seconds": {
            **{k: round(v, 2) for k, v in sorted(world.ledger.seconds.items())},
            **{f"policy_{k}": round(v, 2) for k, v in sorted(world.policy.seconds.items())},
        },
    }


def billable(rows: list[AppointmentView], report: Any, room_available: int) -> dict[str, Any]:
    available = {r["staff"]: r["available_minutes"] for r in report.by_staff}
    attended_staff = 0
    for staff, minutes in _attended_minutes(rows, by="staff").items():
        if staff in available:
            attended_staff += min(minutes, available[staff])
    room_minutes = sum(_attended_minutes(rows, by="room").values())
    staff_available = sum(available.values())
    return {
        "clinicians": _share(attended_staff, staff_available),
        "rooms": _share(room_minutes, room_available),
        "booked_clinicians": report.staff_utilization,
        "booked_rooms": report.room_utilization,
        "attended_minutes": attended_staff,
        "available_minutes": staff_available,
    }


def _attended_minutes(rows: list[AppointmentView], by: str) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for a in rows:
        if not any(a.outcome_of(p) == "attended" for p in a.patients):
            continue
        keys = a.staff if by == "staff" else ([a.room] if a.room else [])
        for key in keys:
            out[key] += a.minutes
    return out


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def required(world: World, rows: list[AppointmentView]) -> dict[str, Any]:
    """Weekly minimums against sessions kept and attended, per source (see the module)."""
    tz, days = world.tz, world.draws.days
    week_of = {}
    for a in rows:
        local = a.start.astimezone(tz).date()
        week_of[a.id] = (local - days[0]).days // 7
    kept: dict[tuple[str, str, int], int] = defaultdict(int)
    attended: dict[tuple[str, str, int], int] = defaultdict(int)
    for a in rows:
        for p in a.patients:
            outcome = a.outcome_of(p)
            if outcome in KEPT:
                kept[(p, a.session_type, week_of[a.id])] += 1
            if outcome == "attended":
                attended[(p, a.session_type, week_of[a.id])] += 1
    weeks = len(days) // 5
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for patient, needs in world.ledger.requirements.items():
        gone = world.ledger.discharged_on.get(patient)
        for week in range(weeks):
            if gone is not None and gone <= 5 * week + 4:
                continue  # not in care for the whole week
            for session_type, sources in needs.items():
                key = (patient, session_type, week)
                for source, minimum in [*sources.items(), ("all", max(sources.values()))]:
                    t = totals[source]
                    t[0] += minimum
                    t[1] += min(kept[key], minimum)
                    t[2] += min(attended[key], minimum)
    return {
        source: {
            "required": t[0],
            "booked_share": _share(t[1], t[0]),
            "attended_share": _share(t[2], t[0]),
        }
        for source, t in sorted(totals.items())
        if source in ("all", "level_of_care", "court_order")
    }


def affected(events: Any, tz: Any) -> int:
    """Distinct (patient, ISO week) pairs whose session the facility moved or cancelled."""
    pairs: set[tuple[str, tuple[int, int]]] = set()
    for e in events:
        before, after = e.before or {}, e.after or {}
        if "discharged" in (e.reason or "") or after.get("status") == "late_cancelled":
            continue
        if e.action == "appointment.move" and (
            before.get("start") == after.get("start") and before.get("staff") == after.get("staff")
        ):
            continue  # only the room changed: nothing a patient notices
        week = tuple(e.at.astimezone(tz).isocalendar()[:2])
        for p in before.get("patients") or []:
            pairs.add((p, week))
    return len(pairs)


def waits(world: World, first: dict[str, datetime | None]) -> dict[str, Any]:
    days = []
    unseen = 0
    for pid, arrival in world.ledger.arrivals.items():
        if arrival.emergency:
            continue
        start = first.get(pid)
        if start is None:
            unseen += 1
            continue
        days.append((start - world.ledger.arrived_at[pid]).total_seconds() / 86400)
    return {
        "referrals": len(days) + unseen,
        "median": round(statistics.median(days), 2) if days else None,
        "p90": round(_quantile(days, 0.9), 2) if days else None,
        "none_by_month_end": unseen,
    }


def emergencies(world: World, assessments: dict[str, list[datetime]]) -> dict[str, Any]:
    within, minutes = 0, []
    for pid, starts in assessments.items():
        if not starts:
            continue
        waited = (min(starts) - world.ledger.arrived_at[pid]).total_seconds() / 60
        minutes.append(waited)
        within += waited <= EMERGENCY_TARGET.total_seconds() / 60
    n = len(assessments)
    return {
        "admissions": n,
        "seen_within_30_min": within,
        "share_within_30_min": _share(within, n),
        "median_wait_minutes": round(statistics.median(minutes), 1) if minutes else None,
        "not_assessed": n - len(minutes),
    }


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def count_conflicts(session: Any, start: datetime, end: datetime) -> dict[str, int]:
    """Overlapping active appointments per clinician, patient and room, from the database."""
    out = {}
    for name, table, key, active in (
        ("staff", AppointmentStaff, AppointmentStaff.staff_id, AppointmentStaff.active),
        ("patients", AppointmentPatient, AppointmentPatient.patient_id, AppointmentPatient.active),
    ):
        a, b = aliased(table), aliased(table)
        ka, kb = getattr(a, key.key), getattr(b, key.key)
        out[name] = session.scalar(
            select(func.count())
            .select_from(a)
            .join(
                b,
                and_(
                    ka == kb,
                    a.appointment_id < b.appointment_id,
                    a.start < b.end,
                    b.start < a.end,
                ),
            )
            .where(
                getattr(a, active.key),
                getattr(b, active.key),
                a.start < end,
                a.end > start,
            )
        )
    x, y = aliased(Appointment), aliased(Appointment)
    out["rooms"] = session.scalar(
        select(func.count())
        .select_from(x)
        .join(
            y,
            and_(
                x.room_id == y.room_id,
                x.id < y.id,
                x.start < y.end,
                y.start < x.end,
            ),
        )
        .where(
            x.room_id.is_not(None),
            x.status.in_(ACTIVE_STATUSES),
            y.status.in_(ACTIVE_STATUSES),
            x.start < end,
            x.end > start,
        )
    )
    out["total"] = sum(out.values())
    return out
