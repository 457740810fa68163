"""Solver benchmark: prints one JSON object per demo size (s, m, l, xl) and a summary.

With --instances (tight-s,tight-m,tight-l,groups or groups-NN; bench/hard_instances.py) it runs
the hard instances instead: each facility file loaded into a fresh SQLite database, the open week
planned the way `rota optimize --out` does (the same use case and plan file), the plan checked by
bench/validate_plan.py (independent of the solver), and first fit's plan beside it. With --peer,
the open-source peer (Timefold Solver, bench/peer_timefold.py, in its own venv: --peer-python or
ROTA_PEER_PYTHON) plans the same problem (bench/peer_export.py) with the same time limit and is
judged by the same validator; --peer-plans DIR judges peer plan files made before instead
(`<instance>-seed<N>.timefold.json`); --skip-rota leaves Rota out (the peer's columns only).

For each size: time to the first feasible plan and to the limit, required sessions placed, the
placement objective against CP-SAT's bound (gap %), utilization and quality, the same for greedy
first fit; find_slots latency p50/p95 over 200 random requests; repair of a clinician out for a
whole day. Usage: python bench/solver.py [--sizes s,m,l,xl] [--time-limit 60] [--workers 2]
       python bench/solver.py --instances tight-s,tight-m,tight-l,groups [--instance-seed 1]
                              [--keep DIR] [--peer | --peer-plans DIR] [--skip-rota]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.optimize import optimize_period, plan_file
from assistant.problem_builder import build_problem
from clinic.db import open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.timeutil import local_midnight
from solver.baseline import greedy_plan
from solver.metrics import quality
from solver.model import Disruption, SlotRequest
from solver.plan import plan
from solver.repair import repair
from solver.settings import SolverSettings
from solver.slots import NEAREST_DAYS, SlotFinder

sys.path.append(str(Path(__file__).resolve().parent))
from hard_instances import expand, instance_path
from peer_export import export_instance
from validate_plan import validate_plan

PEER_SCRIPT = Path(__file__).resolve().parent / "peer_timefold.py"
PEER_PYTHON = Path(os.environ.get("ROTA_PEER_PYTHON", "/work/peer-venv/bin/python"))

START = date(2026, 11, 30)  # the demo books this week; we plan the next one
NEXT_WEEK = START + timedelta(days=7)


def pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 100.0


def bench_size(size: str, settings: SolverSettings, workdir: Path) -> dict[str, object]:
    db = open_database(f"sqlite:///{workdir / f'{size}.sqlite3'}")
    load_facility(db, generate_demo(size, seed=7, start=START), actor="bench")
    tz = db.facility_tz()
    out: dict[str, object] = {"size": size}

    # -- plan the open week ------------------------------------------------------------------
    start, end = local_midnight(NEXT_WEEK, tz), local_midnight(NEXT_WEEK + timedelta(days=7), tz)
    began = time.perf_counter()
    with db.session() as session:
        built = build_problem(session, start, end)
    problem = built.problem
    out["build_seconds"] = round(time.perf_counter() - began, 3)
    out["problem"] = {
        "staff": len(problem.staff),
        "rooms": len(problem.rooms),
        "patients": len(problem.patients),
        "groups": len(problem.groups),
    }
    greedy = greedy_plan(problem)
    cpu = time.process_time()
    result = plan(problem, settings)
    cpu = time.process_time() - cpu
    st = result.stats
    out["plan"] = {
        "seconds_to_first_feasible": round(st.first_solution_seconds or -1, 3),
        "seconds_total": st.seconds,
        "cpu_seconds": round(cpu, 2),
        "status": st.status,
        "candidates": st.candidates,
        "required_sessions": result.required,
        "placed_sessions": result.placed,
        "placed_pct": pct(result.placed, result.required),
        "placement_objective": st.placement_objective,
        "placement_bound": st.placement_bound,
        "placement_gap_pct": st.placement_gap,
        "quality_cost": st.objective,
        "quality_bound": st.bound,
        "quality_gap_pct": st.gap,
        "staff_utilization": result.staff_utilization,
        "room_utilization": result.room_utilization,
        "quality": quality(problem, result.new),
    }
    out["greedy"] = {
        "seconds_total": greedy.stats.seconds,
        "required_sessions": greedy.required,
        "placed_sessions": greedy.placed,
        "placed_pct": pct(greedy.placed, greedy.required),
        "staff_utilization": greedy.staff_utilization,
        "room_utilization": greedy.room_utilization,
        "quality": quality(problem, greedy.new),
    }

    # -- find_slots latency over 200 random requests (two-day windows) ------------------------
    margin = timedelta(days=NEAREST_DAYS)
    with db.session() as session:
        slots_built = build_problem(session, start - margin, end + margin)
    finder = SlotFinder(slots_built.problem)
    rng = random.Random(11)
    kinds = ["individual"] * 6 + ["case_management", "medication_management", "family"]
    patients = [p.id for p in slots_built.problem.patients]
    lat: list[float] = []
    empty = 0
    for _ in range(200):
        day = rng.randrange(0, 4)
        lo = slots_built.clock.minutes(start + timedelta(days=day))
        request = SlotRequest((rng.choice(patients),), rng.choice(kinds), (lo, lo + 2 * 24 * 60))
        t0 = time.perf_counter()
        answer = finder.find(request, 3)
        lat.append((time.perf_counter() - t0) * 1000)
        empty += not answer.options
    lat.sort()
    out["find_slots"] = {
        "requests": len(lat),
        "p50_ms": round(lat[len(lat) // 2], 2),
        "p95_ms": round(lat[int(len(lat) * 0.95) - 1], 2),
        "max_ms": round(lat[-1], 2),
        "no_option_answers": empty,
    }

    # -- repair: the busiest clinician (therapist or counselor) out for a whole booked day -----
    day0 = local_midnight(START + timedelta(days=1), tz)
    with db.session() as session:
        rbuilt = build_problem(session, day0, day0 + timedelta(days=7))
    rp = rbuilt.problem
    lo = rbuilt.clock.minutes(day0)
    hi = lo + 24 * 60
    clinicians = {s.id for s in rp.staff if s.role in ("therapist", "counselor")}
    load: dict[str, int] = {}
    for a in rp.booked:
        if lo <= a.start < hi and not a.group:
            for s in a.staff:
                if s in clinicians:
                    load[s] = load.get(s, 0) + 1
    busiest = max(load, key=lambda s: (load[s], s))
    t0 = time.perf_counter()
    fixed = repair(
        rp,
        Disruption((lo, hi), staff=busiest),
        SolverSettings(10.0, settings.workers, settings.seed),
        now=lo,
    )
    out["repair"] = {
        "staff": busiest,
        "affected": len(fixed.moves) + len(fixed.unplaced),
        "moved": len(fixed.moves),
        "same_time_covers": sum(1 for m in fixed.moves if "time" not in m.changes),
        "not_replaced": len(fixed.unplaced),
        "kept": fixed.kept,
        "seconds": round(time.perf_counter() - t0, 3),
        "status": fixed.stats.status,
    }
    db.dispose()
    return out


def plan_figures(facility: dict[str, Any], plan_data: dict[str, Any]) -> dict[str, object]:
    """What a plan file is worth, judged from the files alone: placed and hard violations (the
    independent validator), continuity (share of new one-patient sessions with the patient's
    primary clinician) and same-day pairs (pairs of a patient's new sessions on one day)."""
    report = validate_plan(facility, plan_data)
    primary = {p["id"]: p.get("primary_clinician") for p in facility.get("patients", [])}
    known = {a["id"] for a in facility.get("appointments", [])}
    new = [a for a in plan_data["appointments"] if a["id"] not in known]
    own = total = 0
    per_day: dict[tuple[str, str], int] = defaultdict(int)
    for a in new:
        for p in a["patients"]:
            per_day[(p, a["start"][:10])] += 1
        if not a.get("group") and len(a["patients"]) == 1:
            total += 1
            own += primary.get(a["patients"][0]) in a["staff"]
    return {
        "required": report.required,
        "placed": report.placed,
        "placed_pct": pct(report.placed, report.required),
        "group_sessions_required": report.group_required,
        "group_sessions_placed": report.group_placed,
        "hard_violations": report.total,
        "violations": {k: n for k, n in report.violations.items() if n},
        "continuity_pct": pct(own, total) if total else None,
        "same_day_pairs": sum(n * (n - 1) // 2 for n in per_day.values()),
    }


def peer_plan_name(name: str, seed: int) -> str:
    return f"{name}-seed{seed}.timefold.json"


def run_peer(
    name: str, seed: int, time_limit: float, peer_python: Path, workdir: Path
) -> tuple[dict[str, Any] | None, dict[str, object]]:
    """Export the instance's plan problem and let the peer plan it (a subprocess in its own
    venv); its plan file and timings, or None and why."""
    data = export_instance(name, seed, workdir)
    # The peer's clock starts where Rota's does (reading the facility, then candidates and
    # constraints); loading the file into the database comes before both.
    exported = float(data["export_seconds"])
    began = time.perf_counter() - exported
    problem = workdir / f"{name}-seed{seed}.peer.json"
    problem.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    out = workdir / peer_plan_name(name, seed)
    t0 = time.perf_counter()
    try:
        done = subprocess.run(
            [str(peer_python), str(PEER_SCRIPT), str(problem), "--out", str(out),
             "--time-limit", str(max(1.0, time_limit - exported))],
            capture_output=True, text=True, timeout=10 * time_limit + 600, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None, {"error": "the peer did not finish in ten times the limit"}
    timing: dict[str, object] = {
        "export_seconds": round(exported, 2),
        "peer_process_seconds": round(time.perf_counter() - t0, 2),
        "wall_seconds": round(time.perf_counter() - began, 2),
        "candidates": len(data["candidates"]),
    }
    if done.returncode != 0 or not out.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, {**timing, "error": f"the peer failed: {tail[0]}"}
    with contextlib.suppress(ValueError, IndexError, KeyError):  # the score is a nicety
        timing["score"] = json.loads(done.stdout.strip().splitlines()[-1])["score"]
    return json.loads(out.read_text(encoding="utf-8")), timing


def peer_figures(facility: dict[str, Any], plan_data: dict[str, Any]) -> dict[str, object]:
    return {
        **plan_figures(facility, plan_data),
        "solver_seconds": plan_data.get("solver", {}).get("seconds"),
    }


def bench_instance(
    name: str,
    seed: int,
    settings: SolverSettings,
    workdir: Path,
    keep: Path | None = None,
    *,
    rota: bool = True,
    peer_python: Path | None = None,
    peer_plans: Path | None = None,
) -> dict[str, object]:
    """One hard instance planned as `rota optimize --out` plans it, then validated; with `keep`,
    the facility file, the plan and first fit's plan are written there. With `peer_python`,
    the peer plans it too; with `peer_plans`, the peer's plan file from there is judged."""
    facility = json.loads(instance_path(name, seed).read_text(encoding="utf-8"))
    out: dict[str, object] = {"instance": name, "instance_seed": seed}
    if rota:
        out.update(_bench_rota(name, seed, facility, settings, workdir, keep))
    if peer_python is not None:
        plan_data, timing = run_peer(name, seed, settings.time_limit, peer_python, workdir)
        if plan_data is not None and keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / peer_plan_name(name, seed)).write_text(json.dumps(plan_data, indent=1))
        figures = peer_figures(facility, plan_data) if plan_data is not None else {}
        out["peer"] = {"solver": "timefold", **timing, **figures}
    elif peer_plans is not None:
        path = peer_plans / peer_plan_name(name, seed)
        if path.exists():
            plan_data = json.loads(path.read_text(encoding="utf-8"))
            out["peer"] = {"solver": "timefold", "file": str(path),
                           **peer_figures(facility, plan_data)}  # fmt: skip
        else:
            out["peer"] = {"error": f"no peer plan {path}"}
    return out


def _bench_rota(
    name: str,
    seed: int,
    facility: dict[str, Any],
    settings: SolverSettings,
    workdir: Path,
    keep: Path | None,
) -> dict[str, object]:
    db = open_database(f"sqlite:///{workdir / f'{name}.sqlite3'}")
    load_facility(db, facility, actor="bench")
    tz = db.facility_tz()
    start, end = local_midnight(NEXT_WEEK, tz), local_midnight(NEXT_WEEK + timedelta(days=7), tz)
    began, cpu = time.perf_counter(), time.process_time()
    result, built = optimize_period(db, start, end, settings)
    wall = time.perf_counter() - began
    # CPU seconds the process got (all CP-SAT threads): on a shared machine far below
    # workers x wall, and what the plan's figures depend on.
    cpu = time.process_time() - cpu
    t0 = time.perf_counter()
    greedy = greedy_plan(built.problem)
    greedy_seconds = time.perf_counter() - t0
    plan_data, greedy_data = plan_file(result, built), plan_file(greedy, built)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        for suffix, data in (("", facility), (".plan", plan_data), (".first-fit", greedy_data)):
            (keep / f"{name}-seed{seed}{suffix}.json").write_text(json.dumps(data, indent=1))
    st = result.stats
    out: dict[str, object] = {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "solver_seconds": st.seconds,
        "status": st.status,
        "solver_required": result.required,
        "solver_placed": result.placed,
        "placement_gap_pct": st.placement_gap,
        **plan_figures(facility, plan_data),
        "first_fit": {
            "seconds": round(greedy_seconds, 2),
            **plan_figures(facility, greedy_data),
        },
    }
    db.dispose()
    return out


def bench_instances(
    names: list[str],
    seed: int,
    settings: SolverSettings,
    keep: Path | None = None,
    *,
    rota: bool = True,
    peer_python: Path | None = None,
    peer_plans: Path | None = None,
) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            row = bench_instance(
                name, seed, settings, Path(tmp), keep,
                rota=rota, peer_python=peer_python, peer_plans=peer_plans,
            )  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps({"summary": summarize(rows), "time_limit": settings.time_limit,
                      "workers": settings.workers, "instance_seed": seed}))  # fmt: skip


def summarize(rows: list[dict[str, Any]]) -> dict[str, object]:
    """Per tight instance, and over the groups-NN family, Rota's figures and the peer's (where
    each ran): the README rows."""
    keys = ("required", "placed", "hard_violations", "wall_seconds", "cpu_seconds",
            "continuity_pct", "same_day_pairs")  # fmt: skip
    summary: dict[str, object] = {}
    groups = [r for r in rows if str(r["instance"]).startswith("groups-")]
    for r in rows:
        if r in groups:
            continue
        item: dict[str, object] = {k: r[k] for k in keys if k in r}
        if "first_fit" in r:
            item["first_fit_placed"] = r["first_fit"]["placed"]
            item["first_fit_same_day_pairs"] = r["first_fit"]["same_day_pairs"]
        if "peer" in r:
            item["peer"] = {k: r["peer"][k] for k in (*keys, "error") if k in r["peer"]}
        summary[r["instance"]] = item
    if groups:
        summary["groups"] = _family(groups)
        peers = [r["peer"] for r in groups if "peer" in r]
        if peers:
            summary["groups"]["peer"] = _family(peers)  # type: ignore[index]
    return summary


def _family(rows: list[dict[str, Any]]) -> dict[str, object]:
    done = [r for r in rows if "placed" in r]
    out: dict[str, object] = {"instances": len(rows), "judged": len(done)}
    if not done:
        return out
    out.update(
        complete=sum(r["placed"] == r["required"] for r in done),
        group_sessions_placed=sum(r["group_sessions_placed"] for r in done),
        group_sessions_required=sum(r["group_sessions_required"] for r in done),
        hard_violations=sum(r["hard_violations"] for r in done),
    )
    walls = [r["wall_seconds"] for r in done if "wall_seconds" in r]
    if walls:
        out["max_wall_seconds"] = max(walls)
    if all("first_fit" in r for r in done):
        out["first_fit_complete"] = sum(
            r["first_fit"]["placed"] == r["first_fit"]["required"] for r in done
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="s,m,l,xl")
    parser.add_argument("--instances", help="Hard instances instead of the demo sizes.")
    parser.add_argument("--instance-seed", type=int, default=1)
    parser.add_argument(
        "--keep", type=Path, help="Write each instance's facility file, plan and first fit here."
    )
    parser.add_argument(
        "--peer", action="store_true", help="Let the peer (Timefold) plan each instance too."
    )
    parser.add_argument("--peer-python", type=Path, default=PEER_PYTHON)
    parser.add_argument("--peer-plans", type=Path, help="Judge the peer's plan files from here.")
    parser.add_argument("--skip-rota", action="store_true", help="Only the peer's columns.")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = SolverSettings(args.time_limit, args.workers, args.seed)
    if args.instances:
        try:
            names = expand(args.instances)
        except ValueError as exc:
            parser.error(str(exc))
        peer_python = args.peer_python if args.peer else None
        if peer_python is not None and not peer_python.exists():
            print(f"peer: {peer_python} not found (see bench/README-solver.md); "
                  "carrying on without the peer's columns", file=sys.stderr)  # fmt: skip
            peer_python = None
        bench_instances(
            names, args.instance_seed, settings, args.keep,
            rota=not args.skip_rota, peer_python=peer_python, peer_plans=args.peer_plans,
        )  # fmt: skip
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            row = bench_size(size, settings, Path(tmp))
            results.append(row)
            print(json.dumps(row), flush=True)
    summary = {
        "summary": {
            r["size"]: {
                "placed_pct": r["plan"]["placed_pct"],  # type: ignore[index]
                "greedy_placed_pct": r["greedy"]["placed_pct"],  # type: ignore[index]
                "placement_gap_pct": r["plan"]["placement_gap_pct"],  # type: ignore[index]
                "find_slots_p95_ms": r["find_slots"]["p95_ms"],  # type: ignore[index]
                "repair_seconds": r["repair"]["seconds"],  # type: ignore[index]
            }
            for r in results
        },
        "time_limit": args.time_limit,
        "workers": args.workers,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
