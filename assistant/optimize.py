"""The solver's use cases, the same for every door: offer slots, plan a period, repair a
disruption, write a plan file, and book a plan through the booking service.

Applying a plan or a repair is one use case each: one authorization step (may the actor run a
plan?), one transaction through the booking service (all or nothing), one audit event per change
under the actor's name. Doors default to SYSTEM_ACTOR, the optimizer declared in the permissions
pack."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from assistant import no_show
from assistant.access import authorize, patient_fields
from assistant.problem_builder import BuiltProblem, build_problem, narrow_to_needs
from assistant.problem_cache import cached_problem
from assistant.usecases import capacity
from assistant.wiring import booking_service
from clinic import access_log, metrics, queries
from clinic.booking import BookingRequest, MoveRequest
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.timeutil import local_iso, now_utc
from clinic.tokens import Caller
from solver.deadline import Step
from solver.feasibility import Feasibility
from solver.model import Disruption, Placement, PlanResult, RepairResult, SlotAnswer, SlotRequest
from solver.plan import ProgressFn, plan
from solver.repair import repair
from solver.settings import SolverSettings
from solver.slots import NEAREST_DAYS, SlotFinder

INTERACTIVE_SECONDS = 5.0


def interactive_settings() -> SolverSettings:
    """The solver's settings for someone waiting on an answer (at most a few seconds)."""
    settings = SolverSettings.from_env()
    return replace(settings, time_limit=min(settings.time_limit, INTERACTIVE_SECONDS))


SYSTEM_ACTOR = "optimizer"
"""Who applies plans and repairs unless a person is named (role `system` in the permissions
pack: it may run plans, book and move, nothing else)."""


@dataclass
class SlotsQuery:
    patient: str
    session_type: str
    start: datetime
    end: datetime
    staff: str | None = None
    needs: tuple[str, ...] = ()
    k: int = 3
    emergency: bool = False
    """An emergency admission: it may take the slots held for emergencies (OPS-EMERGENCY-HOLD)
    that every other request is not offered until they are released."""


def offer_slots_to(
    db: Database, caller: Caller, query: SlotsQuery, now: datetime | None = None
) -> tuple[SlotAnswer, BuiltProblem]:
    """`offer_slots` for someone: they must be allowed to book for the patient (a clinician,
    their own caseload), and the search is a read of the patient's information (access log)."""
    authorize(db, caller, "find_slot", patient_id=query.patient)
    access_log.record_reads(db, caller, access_log.SLOTS_SEARCH, [query.patient])
    return offer_slots(db, query, now)


def offer_slots(
    db: Database, query: SlotsQuery, now: datetime | None = None
) -> tuple[SlotAnswer, BuiltProblem]:
    if query.end <= query.start:
        raise InvalidInput("the window is empty: --to must be after --from")
    if query.k < 1:
        raise InvalidInput("-k must be at least 1")
    margin = timedelta(days=NEAREST_DAYS)
    built = cached_problem(db, query.start - margin, query.end + margin)
    problem = built.problem
    if query.patient not in problem.patients_by_id():
        raise NotFound(f"no active patient with id {query.patient!r}")
    if query.needs:
        problem = narrow_to_needs(problem, query.patient, query.session_type, list(query.needs))
    clock = built.clock
    request = SlotRequest(
        patients=(query.patient,),
        session_type=query.session_type,
        window=(clock.minutes(query.start), clock.minutes(query.end)),
        staff=query.staff,
    )
    moment = now or now_utc()
    # A fresh finder per request (it keeps per-search state); the index is shared when the
    # problem is the cached one.
    index = built.index() if problem is built.problem else None
    if not query.emergency:
        holds = capacity.standing_holds(db, built, moment, query.end)
        if holds:
            index = (index or Feasibility(problem)).holding(holds)
    with metrics.solver_time("slots"):
        answer = SlotFinder(problem, index).find(request, query.k, now=clock.minutes(moment))
    return answer, built


def option_risks(
    db: Database,
    caller: Caller,
    patient: str,
    session_type: str,
    options: list[tuple[datetime, list[str]]],
    now: datetime | None = None,
) -> list[float] | None:
    """The patient's no-show probability at each option (start, staff), booked now; None when
    the pack does not let the caller see the patient's no-show risk (the front desk)."""
    if "no_show_risk" not in patient_fields(db, caller, patient):
        return None
    queries = [
        no_show.RiskQuery(patient, start, session_type, None, tuple(staff))
        for start, staff in options
    ]
    with db.read() as session:
        return no_show.no_show_probabilities(session, queries, now=now)


def slots_json(
    answer: SlotAnswer, built: BuiltProblem, risks: list[float] | None = None
) -> dict[str, Any]:
    """The options as JSON; `risks` (one per option, `option_risks`) adds `no_show_risk`."""

    def option(o: Any) -> dict[str, Any]:
        return {
            "start": local_iso(built.clock.moment(o.start), built.clock.tz),
            "end": local_iso(built.clock.moment(o.end), built.clock.tz),
            "staff": o.staff[0] if len(o.staff) == 1 else list(o.staff),
            "room": o.room,
            "score": o.score,
            "why": o.why,
        }

    out: dict[str, Any] = {"options": [option(o) for o in answer.options], "reason": answer.reason}
    for item, risk in zip(out["options"], risks or [], strict=False):
        item["no_show_risk"] = round(risk, 2)
        item["high_no_show_risk"] = no_show.is_high(risk)
    if answer.nearest:
        out["nearest"] = [option(o) for o in answer.nearest]
    return out


# --- plan ------------------------------------------------------------------------------------


def optimize_period(
    db: Database,
    start: datetime,
    end: datetime,
    settings: SolverSettings,
    on_progress: ProgressFn | None = None,
    *,
    holds_at: datetime | None = None,
) -> tuple[PlanResult, BuiltProblem]:
    """The period's plan; with `holds_at`, the slots held for emergency admissions at that
    moment (OPS-EMERGENCY-HOLD) are left out of it, as the slot finder leaves them. Reading the
    facility counts against the time limit too."""
    began = time.perf_counter()
    with db.read() as session:
        built = build_problem(session, start, end)
    if not built.problem.days:
        raise InvalidInput("the facility is not open in that period")
    if holds_at is not None:
        holds = capacity.standing_holds(db, built, holds_at, end)
        built = replace(built, problem=replace(built.problem, holds=holds), _index=None)
    if on_progress is not None:
        seconds = round(time.perf_counter() - began, 3)
        on_progress(Step("read the facility", seconds, len(built.problem.patients), "patients"))
    with metrics.solver_time("plan"):
        result = plan(built.problem, settings, on_progress=on_progress, began=began)
    return result, built


def _appointment_record(
    a: Placement, built: BuiltProblem, status: str = "booked"
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": a.id,
        "session_type": a.session_type,
        "start": local_iso(built.clock.moment(a.start), built.clock.tz),
        "minutes": a.minutes,
        "staff": list(a.staff),
        "patients": list(a.patients),
        "status": status,
        "pinned": a.pinned,
    }
    if a.room:
        record["room"] = a.room
    if a.group:
        record["group"] = a.group
    return record


def plan_file(result: PlanResult, built: BuiltProblem, moved: int | None = None) -> dict[str, Any]:
    """The plan in ../shared/contracts/plan.schema.json shape (the whole period's schedule)."""
    new_ids = {a.id for a in result.new}
    lo, hi = built.clock.minutes(built.start), built.clock.minutes(built.end)
    stats = result.stats
    metrics: dict[str, Any] = {
        "required_sessions": result.required,
        "placed_sessions": result.placed,
        "staff_utilization": result.staff_utilization,
        "room_utilization": result.room_utilization,
    }
    if moved is not None:
        metrics["moved"] = moved
    unmet = []
    for u in result.unmet:
        item: dict[str, Any] = {
            "session_type": u.session_type,
            "missing": u.missing,
            "reason": u.reason,
        }
        if u.patient:
            item["patient"] = u.patient
        if u.group:
            item["group"] = u.group
        unmet.append(item)
    return {
        "version": 1,
        "period": {
            "start": local_iso(built.start, built.clock.tz),
            "end": local_iso(built.end, built.clock.tz),
        },
        "appointments": [
            _appointment_record(a, built, "proposed" if a.id in new_ids else "booked")
            for a in result.appointments
            if a.end > lo and a.start < hi
        ],
        "unmet": unmet,
        "metrics": metrics,
        "solver": {
            "status": stats.status,
            "objective": stats.placement_objective,
            "bound": stats.placement_bound,
            "seconds": stats.seconds,
            "workers": stats.workers,
        },
    }


def _may_run_plans(db: Database, actor: str) -> None:
    """The use case's one authorization step (PERM-ROLE for `run_plan`)."""
    authorize(db, Caller(staff_id=actor, name=actor, role=""), "run_plan")


def apply_plan(db: Database, actor: str, result: PlanResult, built: BuiltProblem) -> int:
    """Book every new appointment in one transaction, all or nothing (the booking service
    re-checks each against the same rules the plan respected)."""
    _may_run_plans(db, actor)
    requests = [
        BookingRequest(
            session_type=a.session_type,
            start=built.clock.moment(a.start),
            staff=list(a.staff),
            patients=list(a.patients),
            room=a.room,
            minutes=a.minutes,
            group=a.group,
        )
        for a in result.new
    ]
    if requests:
        booking_service(db).book_many(actor, requests, reason="rota optimize")
    return len(requests)


# --- repair ----------------------------------------------------------------------------------


def repair_staff_out(
    db: Database,
    staff: str,
    start: datetime,
    end: datetime,
    settings: SolverSettings,
    now: datetime | None = None,
    reason: str = "clinician out",
) -> tuple[RepairResult, BuiltProblem]:
    return repair_out(db, start, end, settings, staff=staff, now=now, reason=reason)


def repair_out(
    db: Database,
    start: datetime,
    end: datetime,
    settings: SolverSettings,
    *,
    staff: str | None = None,
    room: str | None = None,
    now: datetime | None = None,
    reason: str = "clinician out",
) -> tuple[RepairResult, BuiltProblem]:
    """Re-place what a clinician out or a room closed over [start, end) touches."""
    if end <= start:
        raise InvalidInput("the period is empty: --to must be after --from")
    with db.read() as session:
        # Nothing is booked after the last session: a leave or closure of years would build a
        # problem of years (minutes, not seconds). A week past it is room enough to re-place.
        last = queries.last_booked_end(session, start)
        end = min(end, max(last or start, start) + timedelta(days=7))
        # Room to re-place: the rest of the week after the disruption (at least 7 days).
        horizon_end = max(end, start + timedelta(days=7))
        built = build_problem(session, start, horizon_end)
    if staff is not None and staff not in built.problem.staff_by_id():
        raise NotFound(f"no staff member with id {staff!r}")
    if room is not None and room not in {r.id for r in built.problem.rooms}:
        raise NotFound(f"no room with id {room!r}")
    clock = built.clock
    disruption = Disruption(
        (clock.minutes(start), clock.minutes(end)), staff=staff, room=room, reason=reason
    )
    moment = max(now or now_utc(), start)
    with metrics.solver_time("repair"):
        result = repair(built.problem, disruption, settings, now=clock.minutes(moment))
    return result, built


def repair_json(result: RepairResult, built: BuiltProblem) -> dict[str, Any]:
    def appt(a: Placement) -> dict[str, Any]:
        return _appointment_record(a, built)

    return {
        "moves": [
            {
                "before": appt(m.before),
                "after": appt(m.after),
                "changes": list(m.changes),
                "cost": m.cost,
                "reason": m.reason,
            }
            for m in result.moves
        ],
        "unplaced": [
            {"appointment": appt(u.appointment), "reason": u.reason} for u in result.unplaced
        ],
        "kept": result.kept,
        "solver": {
            "status": result.stats.status,
            "seconds": result.stats.seconds,
            "objective": result.stats.objective,
        },
    }


def repair_plan_file(result: RepairResult, built: BuiltProblem) -> dict[str, Any]:
    """The repaired schedule as a plan file (metrics.moved counts the moves)."""
    moved = {m.before.id: m.after for m in result.moves}
    dropped = {u.appointment.id for u in result.unplaced}
    lo, hi = built.clock.minutes(built.start), built.clock.minutes(built.end)
    # The problem also holds the rest of the ISO weeks (weekly limits count them): not the plan's.
    period = [a for a in built.problem.booked if a.end > lo and a.start < hi]
    schedule = [moved.get(a.id, a) for a in period if a.id not in dropped]
    as_plan = PlanResult(
        appointments=schedule,
        new=[],
        unmet=[],
        required=len(period),
        placed=len(schedule),
        stats=replace(result.stats),
    )
    data = plan_file(as_plan, built, moved=len(result.moves))
    data["solver"]["objective"] = result.stats.objective
    data["solver"]["bound"] = result.stats.bound
    data["unmet"] = [
        {
            "session_type": u.appointment.session_type,
            "missing": 1,
            "reason": u.reason,
            **(
                {"group": u.appointment.group}
                if u.appointment.group
                else {"patient": u.appointment.patients[0]}
            ),
        }
        for u in result.unplaced
    ]
    return data


def apply_repair(
    db: Database, actor: str, result: RepairResult, built: BuiltProblem, reason: str
) -> int:
    """Every move in one transaction (the booking service re-checks each, in passes, since one
    move may free what another takes): all are applied, or none."""
    _may_run_plans(db, actor)
    moves = [
        MoveRequest(
            appointment_id=move.before.id,
            start=built.clock.moment(move.after.start),
            staff=list(move.after.staff),
            room=move.after.room,
        )
        for move in result.moves
    ]
    if moves:
        booking_service(db).move_many(actor, moves, reason=reason)
    return len(moves)
