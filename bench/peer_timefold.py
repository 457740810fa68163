"""Rota's plan problem on Timefold Solver, the open-source peer (issue 17).

    /work/peer-venv/bin/python bench/peer_timefold.py PROBLEM.peer.json --out PLAN.json
                                                      [--time-limit 60] [--seed 0]

Reads the JSON bench/peer_export.py writes (the same demands, candidates and caps Rota's CP-SAT
plan model solves) and writes a plan file (../shared/contracts/plan.schema.json), so
bench/validate_plan.py judges the peer exactly as it judges Rota. Imports nothing from the
project: it runs in a throwaway venv holding only `timefold` (PyPI 1.24.0b0), whose wheel
bundles Timefold Solver 1.24's jars, on a JDK 17 (`java` and `javac` on the PATH).

The model itself is bench/RotaPeer.java (compiled here against the wheel's jars, cached by its
hash): Timefold's Python API ran the same constraint streams at about 800 moves a second on
this machine (its translation of Python to Java classes, plus tens of seconds of start-up and
result conversion) and left 19 of tight-s's 135 sessions unplaced in 60 s; in Java the same
model runs at the engine's own speed. What the model is (one entity per session, a candidate
from its demand's list or unassigned; hard / medium / soft) is documented there.

Timefold's community edition solves on one thread, so the peer uses one of the two cores.
`--time-limit` is Timefold's spent limit (its phases); the JVM start and reading come on top
(a few seconds) and the plan's `seconds` is the whole process's wall time. Pooled sessions get
actual rooms after solving, as Rota's do: by start, the smallest free room of the candidate's
kind and size (the pool caps keep enough free); a session with no room left is dropped and
reported.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

FORMAT = "rota-peer-problem"
JAVA_SOURCE = Path(__file__).resolve().parent / "RotaPeer.java"
JAVA_OPTIONS = [o for o in os.environ.get("ROTA_PEER_JAVA_OPTIONS", "").split() if o]
"""Extra JVM options (-Drota.temperature=... tunes the local search; see RotaPeer.java)."""
SLOTS = 4096
"""Occupancy keys: resource x SLOTS + slot (a week of 15-minute slots is 672)."""


@dataclass
class Session:
    id: str
    demand: int
    priority: int
    min_days_apart: int
    candidates: list[int] = field(default_factory=list)
    candidate: int | None = None


@dataclass(frozen=True)
class Keys:
    """What one candidate takes: occupancy keys (resource x SLOTS + slot, for every clinician,
    patient and named room and every slot it covers; two chosen candidates sharing a key
    overlap, as in Rota's slot-indexed model), cap terms (cap number, coef) and patient-day
    keys (patient x 64 + day index)."""

    slots: list[int]
    terms: list[tuple[int, int]]
    patient_days: list[int]


def candidate_keys(data: dict[str, Any]) -> list[Keys]:
    """Keys of every candidate, by index."""
    if data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file (bench/peer_export.py writes one)")
    demand_of = {d["index"]: d for d in data["demands"]}
    terms: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for n, cap in enumerate(data["caps"]):
        for index, coef in cap["terms"]:
            terms[index].append((n, coef))
    resource: dict[str, int] = {}
    patient_no = {p["id"]: n for n, p in enumerate(data["patients"])}
    slot = data["slot_minutes"]
    out: list[Keys] = []
    for i, c in enumerate(data["candidates"]):
        if c["index"] != i:
            raise ValueError("candidates are not numbered 0..n-1 in order")
        patients = demand_of[c["demand"]]["patients"] if c["demand"] in demand_of else []
        people = [*c["staff"], *patients, *(["room:" + c["room"]] if c["room"] else [])]
        first, last = c["start"] // slot, (c["start"] + c["minutes"] - 1) // slot
        slots = [
            resource.setdefault(who, len(resource)) * SLOTS + t
            for who in people
            for t in range(first, last + 1)
        ]
        days = [patient_no[p] * 64 + c["day"] for p in patients]
        out.append(Keys(slots, terms.get(i, []), days))
    return out


def sessions_of(data: dict[str, Any]) -> list[Session]:
    """One per session still to place, most constrained first (first fit goes in this order:
    groups, with their higher priority, then fewest candidates)."""
    sessions = [
        Session(f"{d['key']}#{k}", d["index"], d["priority"], d["min_days_apart"], d["candidates"])
        for d in data["demands"]
        for k in range(d["count"])
    ]
    sessions.sort(key=lambda s: (-s.priority, len(s.candidates), s.id))
    return sessions


def load(data: dict[str, Any]) -> tuple[list[Session], str]:
    """The sessions to place and the model's input for RotaPeer.java as whitespace-separated
    integers (RotaPeer.read takes them in this order)."""
    keys = candidate_keys(data)
    day_ord = {d["index"]: date.fromisoformat(d["date"]).toordinal() for d in data["days"]}
    out: list[str] = [str(data["weights"]["same_day_as_other"]), str(len(data["caps"]))]
    out += [str(cap["max"]) for cap in data["caps"]]
    out.append(str(len(data["candidates"])))
    for c, k in zip(data["candidates"], keys, strict=True):
        terms = [v for term in k.terms for v in term]
        fields = (
            c["index"], c["start"], c["start"] + c["minutes"], day_ord[c["day"]], c["cost"],
            len(k.slots), *k.slots, len(k.terms), *terms, len(k.patient_days), *k.patient_days,
        )  # fmt: skip
        out.append(" ".join(map(str, fields)))
    out.append(str(len(data["conflicts"])))
    out += [f"{a} {b}" for a, b in data["conflicts"]]
    sessions = sessions_of(data)
    out.append(str(len(sessions)))
    for s in sessions:
        fields = (s.demand, s.priority, s.min_days_apart, len(s.candidates), *s.candidates)
        out.append(" ".join(map(str, fields)))
    return sessions, "\n".join(out) + "\n"


def jars() -> Path:
    spec = importlib.util.find_spec("timefold")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the `timefold` package is not installed in this Python")
    return Path(next(iter(spec.submodule_search_locations))) / "solver" / "jars"


def compiled(cache: Path) -> Path:
    """RotaPeer.java compiled against the wheel's jars, once per version of the source."""
    digest = hashlib.sha256(JAVA_SOURCE.read_bytes()).hexdigest()[:16]
    classes = cache / f"rota-peer-{digest}"
    if not (classes / "RotaPeer.class").exists():
        classes.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["javac", "-cp", f"{jars()}/*", "-d", str(classes), str(JAVA_SOURCE)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    return classes


def run_java(model: str, time_limit: float, seed: int) -> tuple[str, list[int], list[float]]:
    """Score, chosen candidate per session (-1: unassigned), and setup seconds, solve seconds,
    moves evaluated and moves evaluated a second."""
    cache = Path(tempfile.gettempdir()) / "rota-peer-cache"
    classes = compiled(cache)
    with tempfile.TemporaryDirectory() as tmp:
        given, result = Path(tmp) / "model.txt", Path(tmp) / "result.txt"
        given.write_text(model, encoding="utf-8")
        subprocess.run(
            [
                "java",
                "-Xmx2g",
                "-cp",
                f"{jars()}/*:{classes}",
                "RotaPeer",
                str(given),
                str(result),
                str(time_limit),
                str(seed),
            ],
            check=True,
            stdout=sys.stderr,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip (Timefold's log lines, move speed included, go to stderr)
        lines = result.read_text(encoding="utf-8").split("\n")
    return lines[0], [int(v) for v in lines[2:] if v.strip()], [float(v) for v in lines[1].split()]


def assign_rooms(
    data: dict[str, Any], chosen: list[tuple[Session, dict[str, Any]]]
) -> dict[str, str | None]:
    """Actual rooms for pooled candidates, by session id: named rooms first, then by start the
    smallest free room of the kind and size (None: none left)."""
    taken: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for _, c in chosen:
        if c["room"]:
            taken[c["room"]].append((c["start"], c["start"] + c["minutes"]))
    rooms = sorted(data["rooms"], key=lambda r: (r["capacity"], r["id"]))
    out: dict[str, str | None] = {}
    for s, c in sorted(chosen, key=lambda sc: (sc[1]["start"], sc[0].id)):
        if c["room"] or c["kind"] is None:
            out[s.id] = c["room"]
            continue
        lo, hi = c["start"], c["start"] + c["minutes"]
        out[s.id] = None
        for r in rooms:
            if r["kind"] != c["kind"] or r["capacity"] < c["size"]:
                continue
            if not any(a <= lo and hi <= b for a, b in r["available"]):
                continue
            if any(a < hi and lo < b for a, b in taken[r["id"]]):
                continue
            taken[r["id"]].append((lo, hi))
            out[s.id] = r["id"]
            break
    return out


def plan_file(
    data: dict[str, Any], sessions: list[Session], score: str, seconds: float
) -> dict[str, Any]:
    raw = data["candidates"]
    demand_of = {d["index"]: d for d in data["demands"]}
    chosen = [(s, raw[s.candidate]) for s in sessions if s.candidate is not None]
    rooms = assign_rooms(data, chosen)
    appointments = list(data["booked"])
    placed: dict[int, int] = defaultdict(int)
    no_room: dict[int, int] = defaultdict(int)
    chosen.sort(key=lambda sc: (sc[1]["start"], sc[1]["staff"], sc[0].id))
    for n, (s, c) in enumerate(chosen):
        d = demand_of[s.demand]
        room = rooms.get(s.id)
        if c["kind"] is not None and room is None:
            no_room[s.demand] += 1
            continue
        placed[s.demand] += 1
        record: dict[str, Any] = {
            "id": f"peer-{n + 1}",
            "session_type": d["session_type"],
            "start": data["times"][str(c["start"])],
            "minutes": c["minutes"],
            "staff": list(c["staff"]),
            "patients": list(d["patients"]),
            "status": "proposed",
            "pinned": False,
        }
        if room:
            record["room"] = room
        if d["group"]:
            record["group"] = d["group"]
        appointments.append(record)
    unmet = []
    for d in data["demands"]:
        missing = d["count"] - placed[d["index"]]
        if missing > 0:
            item: dict[str, Any] = {
                "session_type": d["session_type"],
                "missing": missing,
                "reason": "no room left at the chosen time"
                if no_room[d["index"]]
                else "the peer left it unassigned",
            }
            if d["group"]:
                item["group"] = d["group"]
            else:
                item["patient"] = d["patients"][0]
            unmet.append(item)
    return {
        "version": 1,
        "period": data["period"],
        "appointments": appointments,
        "unmet": unmet,
        "metrics": {
            "required_sessions": data["required"],
            "placed_sessions": sum(placed.values()),
            "staff_utilization": 0.0,  # not computed by the peer (the validator judges)
            "room_utilization": 0.0,
        },
        "solver": {
            "status": "FEASIBLE" if score.startswith("0hard") else "UNKNOWN",
            "objective": float(sum(demand_of[s.demand]["priority"] for s, _ in chosen)),
            "bound": None,
            "seconds": round(seconds, 3),
            "workers": 1,
            "name": "timefold 1.24",
            "score": score,
        },
    }


def solve(
    data: dict[str, Any], time_limit: float, seed: int
) -> tuple[dict[str, Any], dict[str, object]]:
    began = time.perf_counter()
    sessions, model = load(data)
    score, picks, (setup, solving, moves, speed) = run_java(model, time_limit, seed)
    if len(picks) != len(sessions):
        raise ValueError(f"the model answered {len(picks)} sessions of {len(sessions)}")
    for s, pick in zip(sessions, picks, strict=True):
        s.candidate = pick if pick >= 0 else None
    plan = plan_file(data, sessions, score, time.perf_counter() - began)
    timing: dict[str, object] = {
        "score": score,
        "java_setup_seconds": setup,
        "solve_seconds": solving,
        "moves_evaluated": int(moves),
        "moves_per_second": int(speed),
        "sessions": len(sessions),
        "candidates": len(data["candidates"]),
        "wall_seconds": plan["solver"]["seconds"],
    }
    plan["solver"].update(timing)
    return plan, timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("problem", type=Path, help="a file bench/peer_export.py wrote")
    parser.add_argument("--out", type=Path, required=True, help="the plan file to write")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        data = json.loads(args.problem.read_text(encoding="utf-8"))
        plan, timing = solve(data, args.time_limit, args.seed)
    except (OSError, ValueError, KeyError) as exc:
        print(f"peer_timefold: cannot read {args.problem}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        last = detail.strip().splitlines()[-1:] or [str(exc)]
        print(f"peer_timefold: the Timefold model failed: {last[0]}", file=sys.stderr)
        raise SystemExit(1) from None
    args.out.write_text(json.dumps(plan, indent=1) + "\n", encoding="utf-8")
    print(
        json.dumps(
            {
                "problem": str(args.problem),
                "plan": str(args.out),
                "placed": plan["metrics"]["placed_sessions"],
                "required": plan["metrics"]["required_sessions"],
                **timing,
            }
        )
    )


if __name__ == "__main__":
    main()
