"""Emergency capacity (OPS-EMERGENCY-HOLD): the assessment slots held back for emergency and
same-day admissions, read from the facility's own history (the method: assistant.
emergency_capacity).

- `week`: the held slots of one ISO week, day by day, with the arrivals they were estimated from
  (`rota capacity`, GET /api/capacity).
- `standing_holds`: the holds still standing at a moment, as the solver's `Hold`s — the slot
  finder leaves them to the emergency flow (assistant.optimize.offer_slots).

Settings per facility: `data: emergency_hold: {service_level, release_hours, weeks, minimum,
block_hours}` in the facility's rules directory (ROTA_RULES_DIR); defaults 0.9, 4 h, 8 weeks, 0,
2 h.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import emergency_capacity as ec
from assistant.access import authorize
from assistant.problem_builder import BuiltProblem
from assistant.problem_cache import cached_problem
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import Appointment
from clinic.timeutil import at_local, day_bounds, local_iso
from clinic.tokens import Caller
from rules.service import default_service
from solver.model import Hold

ARRIVAL = (
    "an intake assessment booked on the local day it takes place and not cancelled "
    "(walk-ins and emergencies booked through the chat, approved emergency proposals, any "
    "same-day admission)"
)
"""What counts as an emergency or same-day admission in the history. Nothing else marks one:
the emergency flow books an ordinary intake assessment, within hours of the request."""


def hold_settings() -> ec.HoldSettings:
    """The facility's settings (its rules directory's `data: emergency_hold`), checked."""
    raw = dict(default_service().packs.data.emergency_hold)
    whole = {"weeks", "minimum", "block_hours"}
    settings = ec.HoldSettings(
        **{k: int(v) if k in whole else float(v) for k, v in raw.items()}  # type: ignore[arg-type]
    )
    problems = settings.problems()
    if problems:
        raise InvalidInput("emergency_hold settings: " + "; ".join(problems))
    return settings


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def same_day_assessments(
    session: Session, tz: ZoneInfo, lo: datetime, hi: datetime
) -> list[datetime]:
    """The local start of each emergency or same-day admission (ARRIVAL) starting in [lo, hi)."""
    rows = session.execute(
        select(Appointment.start, Appointment.created_at).where(
            Appointment.session_type_id == ec.SESSION_TYPE,
            Appointment.status != "cancelled",
            Appointment.start >= lo,
            Appointment.start < hi,
        )
    )
    out = []
    for start, created in rows:
        local = start.astimezone(tz)
        if created.astimezone(tz).date() == local.date():
            out.append(local)
    return out


@dataclass(frozen=True)
class History:
    arrivals: ec.Arrivals
    first: date
    last: date
    """The days read: [first, last)."""


def history(session: Session, tz: ZoneInfo, now: datetime, settings: ec.HoldSettings) -> History:
    """The `settings.weeks` whole weeks before the week of `now`, by weekday and block."""
    last = monday_of(now.astimezone(tz).date())
    first = last - timedelta(weeks=settings.weeks)
    counts: Counter[tuple[int, int]] = Counter()
    for local in same_day_assessments(
        session, tz, day_bounds(first, tz)[0], day_bounds(last, tz)[0]
    ):
        counts[(local.weekday(), ec.block_of(local.hour, settings.block_hours))] += 1
    return History(ec.Arrivals(settings.weeks, dict(counts)), first, last)


@dataclass
class _Held:
    """What held_slots found for the problem's days (the ones asked for)."""

    plans: dict[int, ec.DayPlan]
    slots: list[ec.HeldSlot]
    used: dict[date, int]
    """Emergencies already booked that day (each uses up a slot of its block)."""
    missing: dict[date, int]
    """Slots that could not be placed (no qualified clinician free in the block)."""


def held_slots(
    session: Session,
    built: BuiltProblem,
    now: datetime,
    days: tuple[date, date],
    settings: ec.HoldSettings,
) -> _Held:
    """The held slots on the problem's open days in [days[0], days[1])."""
    tz = built.clock.tz
    problem, feas, clock = built.problem, built.index(), built.clock
    chosen = [d for d in problem.days if days[0] <= d.date < days[1]]
    blocks_of: dict[int, list[int]] = {}
    for d in chosen:
        midnight = clock.minutes(day_bounds(d.date, tz)[0])
        opening = [(d.open[0] - midnight, d.open[1] - midnight)]
        blocks_of.setdefault(d.date.weekday(), ec.open_blocks(opening, settings.block_hours))
    plans = ec.estimate(history(session, tz, now, settings).arrivals, settings, blocks_of)
    booked: Counter[tuple[date, int]] = Counter()
    if chosen:
        lo, hi = day_bounds(chosen[0].date, tz)[0], day_bounds(chosen[-1].date, tz)[1]
        for local in same_day_assessments(session, tz, lo, hi):
            booked[(local.date(), ec.block_of(local.hour, settings.block_hours))] += 1
    release = round(settings.release_hours * 60)
    out = _Held(plans, [], {}, {})
    for d in chosen:
        plan = plans.get(d.date.weekday())
        if plan is None:
            continue
        wanted = []
        for block, n in plan.blocks:
            used = min(n, booked[(d.date, block)])
            out.used[d.date] = out.used.get(d.date, 0) + used
            lo = clock.minutes(at_local(d.date, block * 60, tz))
            hi = clock.minutes(at_local(d.date, (block + settings.block_hours) * 60, tz))
            if n - used:
                wanted.append((block, lo, hi, n - used))
        slots, missing = ec.place(problem, feas, d.index, wanted, release)
        out.slots += slots
        out.missing[d.date] = missing
    return out


def standing_holds(
    db: Database, built: BuiltProblem, now: datetime, until: datetime
) -> tuple[Hold, ...]:
    """The holds standing at `now` on the days from now's to `until`'s, for the slot finder."""
    settings = hold_settings()
    tz = built.clock.tz
    today = now.astimezone(tz).date()
    last = until.astimezone(tz).date() + timedelta(days=1)
    with db.read() as session:
        held = held_slots(session, built, now, (today, last), settings)
    minute = built.clock.minutes(now)
    standing = ec.standing(held.slots, minute)
    local_now = now.astimezone(tz)
    words = {
        s.release: ec.release_words(built.clock.moment(s.release).astimezone(tz), local_now)
        for s in standing
    }
    return ec.as_holds(standing, words)


def parse_week(text: str | None, today: date) -> date:
    """A week as a door is sent it: an ISO week ("2026-W49"), any date in it ("2026-11-30"), or
    nothing (this week)."""
    if not text:
        return today
    try:
        if "W" in text.upper():
            year, week_no = text.upper().split("-W")
            return date.fromisocalendar(int(year), int(week_no), 1)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"week: {text!r} is not a week; use 2026-W49 or a date such as 2026-11-30",
            problems=["week"],
        ) from exc


@dataclass(frozen=True)
class Week:
    day: date
    """Any day of the ISO week to show."""
    now: datetime
    """Which weeks of history are read (the ones before now's week), and what is released."""


def week(db: Database, caller: Caller, cmd: Week) -> dict[str, Any]:
    """The held slots of one ISO week, day by day, and the arrivals they were estimated from."""
    authorize(db, caller, "view_schedule")
    settings = hold_settings()
    tz = db.facility_tz()
    monday = monday_of(cmd.day)
    sunday_end = monday + timedelta(days=7)
    built = cached_problem(db, day_bounds(monday, tz)[0], day_bounds(sunday_end, tz)[0])
    with db.read() as session:
        past = history(session, tz, cmd.now, settings)
        held = held_slots(session, built, cmd.now, (monday, sunday_end), settings)
    clock, minute = built.clock, built.clock.minutes(cmd.now)

    def at(m: int) -> str:
        return local_iso(clock.moment(m), tz)

    def hhmm(hour: int) -> str:
        return f"{hour:02d}:00"

    days = []
    for d in built.problem.days:
        if not monday <= d.date < sunday_end:
            continue
        plan = held.plans.get(d.date.weekday())
        if plan is None:
            continue
        slots = [s for s in held.slots if s.day == d.date]
        days.append(
            {
                "date": d.date.isoformat(),
                "weekday": ec.weekday_name(d.date.weekday()),
                "arrivals": plan.arrivals,
                "mean_per_day": plan.mean,
                "arrivals_by_block": {hhmm(b): n for b, n in plan.arrivals_by_block},
                "hold": plan.hold,
                "covers": round(ec.poisson_cdf(plan.hold, plan.mean), 3),
                "blocks": {hhmm(b): n for b, n in plan.blocks},
                "emergencies_booked": held.used.get(d.date, 0),
                "not_placed": held.missing.get(d.date, 0),
                "held": [
                    {
                        "start": at(s.start),
                        "end": at(s.start + s.minutes),
                        "staff": s.staff,
                        "released": at(s.release),
                        "status": "held" if minute < s.release else "released",
                    }
                    for s in slots
                ],
            }
        )
    return {
        "week": monday.isoformat(),
        "rule": ec.RULE,
        "settings": {
            "service_level": settings.service_level,
            "release_hours": settings.release_hours,
            "weeks": settings.weeks,
            "minimum": settings.minimum,
            "block_hours": settings.block_hours,
        },
        "history": {
            "from": past.first.isoformat(),
            "to": past.last.isoformat(),
            "weeks": settings.weeks,
            "arrivals": sum(past.arrivals.counts.values()),
            "counts": ARRIVAL,
        },
        "method": (
            "per weekday, the smallest k with P(N <= k) >= service_level for N ~ Poisson(mean "
            "arrivals per such day); spread over the hour blocks where arrivals happened"
        ),
        "days": days,
    }


def text(data: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """The week for a person: one line per day, then its held slots."""
    names = names or {}
    s = data["settings"]
    h = data["history"]
    lines = [
        f"Emergency capacity, week of {data['week']} ({data['rule']}): {h['arrivals']} emergency "
        f"or same-day admissions in the {h['weeks']} weeks {h['from']} to {h['to']}; "
        f"holding enough for {round(s['service_level'] * 100)}% of days, "
        f"released {s['release_hours']:g} h before they start."
    ]
    for day in data["days"]:
        by_block = ", ".join(f"{b} {n}" for b, n in day["arrivals_by_block"].items()) or "none"
        lines.append(
            f"{day['weekday'].title()} {day['date']}: hold {day['hold']} "
            f"(arrivals {day['arrivals']}, {day['mean_per_day']:g} a day; by block {by_block})"
            + (f"; {day['emergencies_booked']} already used" if day["emergencies_booked"] else "")
            + (f"; {day['not_placed']} could not be placed" if day["not_placed"] else "")
        )
        for slot in day["held"]:
            who = names.get(slot["staff"], slot["staff"])
            lines.append(
                f"  {slot['start'][11:16]}-{slot['end'][11:16]} {who}: {slot['status']}"
                f" (released {slot['released'][:16].replace('T', ' ')})"
            )
    return "\n".join(lines)
