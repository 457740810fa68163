"""CPU per chat request, in-process (no HTTP, no other clients): what one request costs the
server, independent of how loaded the machine is. Demo 'm', the dialogue's clock fixed at 10:00
on a Monday (so "tomorrow" is an open Tuesday). Prints one JSON document.

    .venv/bin/python bench/chat_cpu.py [--rounds 40] [--profile find]

Kinds: `find` (a slot for a patient tomorrow, warm caches), `book` (confirm option 1 of the
previous find: a booking, which invalidates the per-facility caches), `find_after_book` (the
first find after a booking), `schedule` (a therapist's day) and `help`.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from assistant.dialogue import Dialogue, Reply
from clinic.db import open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.models import Patient, Staff
from clinic.tokens import Caller

START = date(2026, 11, 30)  # a Monday


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--profile", default=None, help="print a cProfile of this kind")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    db = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
    data = generate_demo("m", seed=7, start=START)
    load_facility(db, data, actor="bench")
    now = datetime.combine(START, clock_time(10, 0), tzinfo=ZoneInfo(data["facility"]["timezone"]))
    dialogue = Dialogue(db, clock=lambda: now)
    with db.read() as session:
        staff = [Caller(*row) for row in session.execute(select(Staff.id, Staff.name, Staff.role))]
        patients = list(session.scalars(select(Patient.name).order_by(Patient.position)))
    as_manager = next(c for c in staff if c.role == "case_manager")
    as_therapist = next(c for c in staff if c.role in {"therapist", "counselor"})

    cpu: dict[str, list[float]] = defaultdict(list)
    profiles: dict[str, cProfile.Profile] = defaultdict(cProfile.Profile)
    booked = 0

    def timed(kind: str, caller: Caller, message: str, conversation: str | None) -> Reply:
        profile = profiles[kind] if kind == args.profile else None
        t0 = time.process_time()
        if profile:
            profile.enable()
        reply = dialogue.handle(caller, message, conversation)
        if profile:
            profile.disable()
        cpu[kind].append((time.process_time() - t0) * 1000)
        return reply

    # Warm-up, not measured: the server's caches are built once.
    dialogue.handle(as_manager, f"find a slot for {patients[0]} tomorrow", None)
    dialogue.handle(as_therapist, "what's on my schedule today", None)
    for i in range(args.rounds):
        name = patients[(i * 7 + 1) % len(patients)]
        reply = timed("find", as_manager, f"find a slot for {name} tomorrow", None)
        conversation = reply.conversation_id
        if i % 2 == 0:
            reply = timed("book", as_manager, "book option 1", conversation)
            booked += reply.reply.startswith("Booked")
            other = patients[(i * 7 + 2) % len(patients)]
            timed("find_after_book", as_manager, f"find a slot for {other} tomorrow", None)
        timed("schedule", as_therapist, "what's on my schedule today", None)
        timed("help", as_therapist, "help", None)
    report = {
        "benchmark": "chat_cpu",
        "facility": "m",
        "now": now.isoformat(),
        "rounds": args.rounds,
        "booked": booked,
        "cpu_ms": {
            kind: {
                "n": len(values),
                "median": round(statistics.median(values), 1),
                "mean": round(statistics.fmean(values), 1),
                "max": round(max(values), 1),
            }
            for kind, values in cpu.items()
        },
    }
    print(json.dumps(report, indent=2))
    if args.profile:
        pstats.Stats(profiles[args.profile], stream=sys.stderr).sort_stats(
            "cumulative"
        ).print_stats(40)


if __name__ == "__main__":
    main()
