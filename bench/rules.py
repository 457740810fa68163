"""Rules benchmark: decisions per second for `evaluate`, and `constraints_for` time per demo size.

    python bench/rules.py [--sizes s,m,l,xl] [--decisions 3000]

Prints one JSON object. For each demo size the facility is loaded into a fresh SQLite file; the
facts of every booked appointment of the demo week are read once (`build_situation`), then
`evaluate("book", ...)` runs over them in a loop on one thread (durable_rules + derivation,
no database). `constraints_for` is timed on the whole facility's plain facts; reading those
facts from the database (`load_world`) is reported separately. One core; no asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from clinic.db import open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.models import Appointment
from rules.facts import appointment_facts, build_situation, load_world
from rules.service import RulesService

START = date(2026, 11, 30)
WEEK = (START, date(2026, 12, 6))


def bench_size(size: str, service: RulesService, decisions: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        load_facility(db, generate_demo(size, seed=7, start=START), actor="bench")
        load_s = time.perf_counter() - t0
        with db.session() as session:
            rows = session.scalars(
                select(Appointment)
                .where(Appointment.status == "booked")
                .options(
                    selectinload(Appointment.staff_links), selectinload(Appointment.patient_links)
                )
                .order_by(Appointment.id)
                .limit(400)
            ).all()
            t0 = time.perf_counter()
            cases = []
            for row in rows:
                appt = appointment_facts(row)
                staff_id = appt.staff[0]
                cases.append(
                    build_situation(session, service.packs, actor=staff_id, appointment=appt)
                )
            facts_ms = (time.perf_counter() - t0) / max(1, len(cases)) * 1000
            t0 = time.perf_counter()
            world = load_world(session, service.packs, WEEK)
            world_s = time.perf_counter() - t0
        db.dispose()
    # evaluate: warm up, then a timed loop over the demo's own situations
    for actor, situation in cases[:20]:
        service.evaluate("book", actor, situation)
    allowed = fired = 0
    t0 = time.perf_counter()
    for i in range(decisions):
        actor, situation = cases[i % len(cases)]
        decision = service.evaluate("book", actor, situation)
        allowed += decision.allowed
        fired += len(decision.fired)
    eval_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    elig = service.constraints_for(
        world.patients,
        world.staff,
        WEEK,
        session_types=world.session_types,
        appointments=world.appointments,
        groups=world.groups,
        tz=world.tz,
    )
    constraints_s = time.perf_counter() - t0
    return {
        "patients": len(world.patients),
        "staff": len(world.staff),
        "appointments": len(world.appointments),
        "load_demo_s": round(load_s, 2),
        "evaluate_decisions": decisions,
        "evaluate_per_s": round(decisions / eval_s),
        "evaluate_us_per_decision": round(eval_s / decisions * 1e6, 1),
        "allowed_share": round(allowed / decisions, 3),
        "rules_fired_per_decision": round(fired / decisions, 2),
        "facts_from_db_ms_per_decision": round(facts_ms, 2),
        "load_world_s": round(world_s, 3),
        "constraints_for_s": round(constraints_s, 3),
        "staff_for_pairs": len(elig.staff_for),
        "unit_budgets": len(elig.unit_budgets),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="s,m,l,xl")
    parser.add_argument("--decisions", type=int, default=3000)
    args = parser.parse_args()
    os.environ.pop("ROTA_RULES_DIR", None)
    service = RulesService(use_env=False)
    result: dict[str, object] = {
        "bench": "rules",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rules": len(service.packs.active),
        "sizes": {},
    }
    for size in args.sizes.split(","):
        result["sizes"][size] = bench_size(size, service, args.decisions)  # type: ignore[index]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
