"""Write the problem Rota's plan model solves as plain JSON, for an open-source peer solver.

    python bench/peer_export.py --instances tight-s,tight-m,tight-l,groups --out DIR
                                [--instance-seed 1] [--starts-per-day 4] [--max-staff 3]

Each hard instance (bench/hard_instances.py) is loaded into a fresh SQLite database and the open
week is built through the same use case as `rota optimize` (assistant.problem_builder). The
demands, their candidates and the constraints between candidates then come from the solver's
own code, not re-derived here:

- demands: solver.demand.expand_demands (count still to place, priority, patients, group);
- candidates: solver.candidates.CandidateBuilder (each already legal on its own: hours,
  windows, credentials, needs, keep-apart, bookings, rule windows, a room of a fitting kind);
- caps: the linear limits the plan model adds over candidates, read back from a CP-SAT model
  built by the plan's own functions (solver.plan.add_staff_weekly_hours and add_room_pools,
  solver.limits.add_rule_limits: one of a type a day, daily and weekly rule limits, payer units);
  each is "sum of coef over chosen candidates <= max";
- conflicts: candidate pairs the rules forbid together (OPS-EVAL-EM-SAME-DAY), and candidates
  a rule forbids outright are left out.

What the peer must add itself, as Rota's model does: one candidate per session (each demand
needs `count`), no overlap of a clinician, patient or named room (staff, demand patients, room),
`min_days_apart` between a group's meetings, and actual rooms for pooled candidates (`kind`,
`size`: Rota assigns them after solving too; the pool caps keep enough free). Soft terms: each
candidate's `cost` (continuity, preferences, room kind rank: solver/scoring.py) and
`same_day_as_other` per extra session of a patient on one day.

`peer_problem(built, limits)` is the whole mapping; bench/peer_timefold.py reads its output.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ortools.sat.python import cp_model

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.optimize import _appointment_record
from assistant.problem_builder import BuiltProblem, build_problem
from clinic.db import open_database
from clinic.facility_file import load_facility
from clinic.timeutil import local_iso, local_midnight
from solver.candidates import CandidateBuilder, CandidateLimits
from solver.demand import expand_demands
from solver.feasibility import Feasibility
from solver.limits import add_rule_limits, uses_of
from solver.plan import add_room_pools, add_staff_weekly_hours
from solver.timegrid import subtract

sys.path.append(str(Path(__file__).resolve().parent))
from hard_instances import MONDAY, expand, instance_path

FORMAT = "rota-peer-problem"
VERSION = 1


def _linear_caps(proto: Any, n: int) -> tuple[list[dict[str, Any]], set[int], list[list[int]]]:
    """The model's constraints as caps over candidate indexes (variables 0..n-1 are the
    candidates), candidates forced off, and pairs that may not both be chosen."""
    caps: list[dict[str, Any]] = []
    off: set[int] = set()
    pairs: list[list[int]] = []
    for ct in proto.constraints:
        if len(ct.enforcement_literal):
            raise ValueError(f"unexpected enforced constraint in the plan model: {ct}")
        if ct.has_linear():
            terms = list(zip(list(ct.linear.vars), list(ct.linear.coeffs), strict=True))
            domain = list(ct.linear.domain)  # (the proto's lists take no negative index)
            lo, hi = domain[0], domain[-1]
            if any(v >= n or v < 0 or c < 0 for v, c in terms) or lo > 0:
                raise ValueError(f"unexpected constraint shape in the plan model: {ct}")
            if hi <= 0:
                off.update(v for v, _ in terms)
            else:
                caps.append({"max": int(hi), "terms": [[int(v), int(c)] for v, c in terms]})
        elif ct.has_bool_or() and len(ct.bool_or.literals) == 2:
            a, b = list(ct.bool_or.literals)
            if a >= 0 or b >= 0:
                raise ValueError(f"unexpected clause in the plan model: {ct}")
            pairs.append([-a - 1, -b - 1])  # not a or not b
        else:
            raise ValueError(f"unexpected constraint kind in the plan model: {ct}")
    return caps, off, pairs


def peer_problem(built: BuiltProblem, limits: CandidateLimits | None = None) -> dict[str, Any]:
    """The plan model's problem for `built` as plain JSON data (the module docstring)."""
    problem, clock = built.problem, built.clock
    demands = expand_demands(problem)
    feas = Feasibility(problem)
    builder = CandidateBuilder(problem, feas, limits or CandidateLimits())
    cands = builder.build(demands)

    # The plan's own constraint functions on a model of one Boolean per candidate; only the
    # families that are linear caps over candidates (no double booking, weekly counts and group
    # meeting days are the peer's own, as documented above).
    model = cp_model.CpModel()
    x = [model.NewBoolVar(f"x{c.index}") for c in cands]
    by_demand: dict[int, list[int]] = defaultdict(list)
    for c in cands:
        by_demand[c.demand].append(c.index)
    pm = SimpleNamespace(
        problem=problem, feas=feas, demands=demands, cands=cands, model=model, x=x,
        by_demand=by_demand,
    )  # fmt: skip
    add_staff_weekly_hours(pm)  # type: ignore[arg-type]
    add_room_pools(pm)  # type: ignore[arg-type]
    uses = uses_of(x, cands, demands)
    add_rule_limits(model, feas, uses)
    caps, off, pairs = _linear_caps(model.Proto(), len(cands))

    times = sorted({c.start for c in cands} | {c.end for c in cands})
    out_demands = []
    for d in demands:
        if d.blocked or d.count <= 0:
            continue
        group = d.group
        out_demands.append(
            {
                "index": d.index,
                "key": d.key,
                "session_type": d.session_type,
                "patients": list(d.patients),
                "group": group.id if group else None,
                "count": d.count,
                "priority": d.priority,
                "min_days_apart": group.min_days_apart if group else 0,
                "candidates": [i for i in by_demand.get(d.index, ()) if i not in off],
            }
        )
    rooms = [
        {
            "id": r.id,
            "kind": r.kind,
            "capacity": r.capacity,
            # Open windows less closures (the index's) and what is booked in the room.
            "available": [
                list(w)
                for w in subtract(
                    feas.room_windows[r.id],
                    [(a.start, a.end) for a in problem.booked if a.room == r.id],
                )
            ],
        }
        for r in problem.rooms
    ]
    lo, hi = clock.minutes(built.start), clock.minutes(built.end)
    booked = [
        _appointment_record(a, built, "booked")
        for a in problem.booked
        if a.end > lo and a.start < hi
    ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "period": {
            "start": local_iso(built.start, clock.tz),
            "end": local_iso(built.end, clock.tz),
        },
        "slot_minutes": problem.slot_minutes,
        "weights": {
            "same_day_as_other": problem.weights.same_day_as_other,
            "no_continuity": problem.weights.no_continuity,
        },
        "times": {str(t): local_iso(clock.moment(t), clock.tz) for t in times},
        "days": [{"index": d.index, "date": d.date.isoformat()} for d in problem.days],
        "patients": [{"id": p.id, "primary": p.primary_staff} for p in problem.patients],
        "staff": [
            {"id": s.id, "max_minutes_per_week": s.max_minutes_per_week} for s in problem.staff
        ],
        "rooms": rooms,
        "demands": out_demands,
        "candidates": [
            {
                "index": c.index,
                "demand": c.demand,
                "start": c.start,
                "minutes": c.minutes,
                "day": c.day,
                "staff": list(c.staff),
                "room": c.room,
                "kind": c.kind,
                "size": c.size,
                "cost": c.cost,
            }
            for c in cands
        ],
        "caps": caps,
        "conflicts": pairs,
        "booked": booked,
        "required": sum(d.count for d in demands if not d.blocked),
        "unplaceable": [
            {"key": d.key, "count": d.count, "reason": d.blocked} for d in demands if d.blocked
        ],
    }


def export_instance(
    name: str, seed: int, workdir: Path, limits: CandidateLimits | None = None
) -> dict[str, Any]:
    """Load one hard instance into a fresh database and return its peer problem."""
    facility = json.loads(instance_path(name, seed).read_text(encoding="utf-8"))
    db = open_database(f"sqlite:///{workdir / f'{name}-peer.sqlite3'}")  # beside Rota's
    try:
        load_facility(db, facility, actor="bench")
        tz = db.facility_tz()
        start = local_midnight(MONDAY, tz)
        end = local_midnight(MONDAY + timedelta(days=7), tz)
        began = time.perf_counter()  # from reading the facility, as `rota optimize` counts
        with db.read() as session:
            built = build_problem(session, start, end)
        data = peer_problem(built, limits)
        data["export_seconds"] = round(time.perf_counter() - began, 3)
    finally:
        db.dispose()
    data["instance"] = name
    data["instance_seed"] = seed
    data["facility_file"] = str(instance_path(name, seed))
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", required=True, help="tight-s,tight-m,tight-l,groups")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--instance-seed", type=int, default=1)
    defaults = CandidateLimits()
    parser.add_argument("--starts-per-day", type=int, default=defaults.starts_per_day)
    parser.add_argument("--max-staff", type=int, default=defaults.max_staff)
    parser.add_argument("--group-starts-per-day", type=int, default=defaults.group_starts_per_day)
    args = parser.parse_args()
    try:
        names = expand(args.instances)
    except ValueError as exc:
        parser.error(str(exc))
    limits = CandidateLimits(
        max_staff=args.max_staff,
        starts_per_day=args.starts_per_day,
        group_starts_per_day=args.group_starts_per_day,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            began = time.perf_counter()
            data = export_instance(name, args.instance_seed, Path(tmp), limits)
            path = args.out / f"{name}-seed{args.instance_seed}.peer.json"
            path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            print(
                json.dumps(
                    {
                        "instance": name,
                        "file": str(path),
                        "demands": len(data["demands"]),
                        "required": data["required"],
                        "candidates": len(data["candidates"]),
                        "caps": len(data["caps"]),
                        "conflicts": len(data["conflicts"]),
                        "seconds": round(time.perf_counter() - began, 2),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
