"""A month of clinic life: the demo facility lives `--weeks` weeks twice on the same random draws
(no-shows, late cancellations, sick calls, emergency walk-ins, referrals, discharges), once run
by hand (*manual*: first fit, no repair beyond the same clinician, no waitlist) and once by Rota
(slot finder, morning plan, repair with cover, emergency bumps, and the hooks for the waitlist,
risk-based reminders and buffers). Prints one JSON document.

    .venv/bin/python bench/simulate.py --size s --weeks 4 --seed 1 [--morning-seconds 5]

Distributions and rates: bench/sim/events.py; each policy: bench/sim/policies.py; the day:
bench/sim/world.py; each figure: bench/sim/metrics.py. The facility is `clinic.demo`'s (seed 7)
anchored on Monday 30 Nov 2026, loaded into a fresh SQLite database per policy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sim.events import draw
from bench.sim.policies import Manual, Rota
from bench.sim.world import simulate, smaller
from clinic.demo import generate_demo

START = date(2026, 11, 30)
DEMO_SEED = 7


def run(
    size: str,
    weeks: int,
    seed: int,
    morning_seconds: float = 5.0,
    patients: int | None = None,
) -> dict[str, Any]:
    """Both policies' month on the same draws. `patients`: keep only the demo's first N
    patients (a tiny facility, for tests). The solver runs on one worker (reproducible: same
    seed, same JSON, unless a plan hits its time limit)."""
    began = time.perf_counter()
    os.environ["ROTA_SOLVER_WORKERS"] = "1"
    demo = generate_demo(size, seed=DEMO_SEED, start=START)
    if patients is not None:
        demo = smaller(demo, patients)
    draws = draw(demo, START, weeks, seed)
    policies = {}
    for policy in (Manual(), Rota(morning_seconds=morning_seconds)):
        t0, cpu = time.perf_counter(), time.process_time()
        policies[policy.name] = simulate(demo, draws, policy, START)
        policies[policy.name]["wall_seconds"] = round(time.perf_counter() - t0, 1)
        policies[policy.name]["cpu_seconds"] = round(time.process_time() - cpu, 1)
    return {
        "size": size,
        "weeks": weeks,
        "seed": seed,
        "start": START.isoformat(),
        "patients": len(demo["patients"]),
        "clinicians": sum(
            s["role"] in {"therapist", "counselor", "intern", "psychiatrist"} for s in demo["staff"]
        ),
        "draws": {"digest": draws.digest(), **draws.counts(), "rates": vars(draws.rates)},
        "morning_seconds": morning_seconds,
        "policies": policies,
        "ratios": ratios(policies["manual"], policies["rota"]),
        "wall_seconds": round(time.perf_counter() - began, 1),
    }


def ratios(manual: dict[str, Any], rota: dict[str, Any]) -> dict[str, float | None]:
    """Rota's figure over manual's (changes: the cut, 1 - rota/manual, as the seed states it)."""

    def over(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    m_aff, r_aff = manual["patients_affected_per_week"], rota["patients_affected_per_week"]
    return {
        "clinician_utilization": over(
            rota["utilization"]["clinicians"], manual["utilization"]["clinicians"]
        ),
        "room_utilization": over(rota["utilization"]["rooms"], manual["utilization"]["rooms"]),
        "required_attended": over(
            rota["required_sessions"]["all"]["attended_share"],
            manual["required_sessions"]["all"]["attended_share"],
        ),
        "patients_affected_cut": round(1 - r_aff / m_aff, 3) if m_aff else None,
        "referral_median_days": over(
            rota["referral_to_first_session_days"]["median"],
            manual["referral_to_first_session_days"]["median"],
        ),
        "emergencies_within_30_min": over(
            rota["emergencies"]["share_within_30_min"],
            manual["emergencies"]["share_within_30_min"],
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="s", choices=["s", "m", "l", "xl"])
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--morning-seconds", type=float, default=5.0, help="the morning plan's solver cap"
    )
    parser.add_argument(
        "--patients", type=int, default=None, help="keep only the demo's first N patients"
    )
    args = parser.parse_args()
    out = run(args.size, args.weeks, args.seed, args.morning_seconds, args.patients)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
