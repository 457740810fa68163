"""FHIR write-back benchmark: the demo facility (fixed seed and start) written to a local FHIR
server (tests/fhir_server.py: real HTTP on loopback, in memory) through the outbox, as
`rota fhir push --from --to` does (conditional creates), then a number of appointments moved in
Rota and written by one run of the `fhir_push` job (updates If-Match). Prints one JSON document:
appointments, seconds and appointments per second for each step.

    .venv/bin/python bench/fhir_writeback.py [--size s] [--moves 50]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from assistant import callers, fhir_writeback
from assistant.jobs import fhir_push
from assistant.usecases import appointments
from assistant.wiring import load_facility_file
from clinic.db import open_database
from clinic.demo import generate_demo
from clinic.errors import RotaError
from clinic.models import Appointment
from clinic.timeutil import use_clock
from integrations.fhir.client import FhirClient
from integrations.fhir.writeback import AppointmentPusher
from tests.fhir_server import FhirTestServer

START = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # 08:00 in the demo's zone, on its anchor day


def measure(size: str, moves: int) -> dict[str, Any]:
    use_clock(lambda: NOW)
    out: dict[str, Any] = {"size": size, "seed": 7, "start": START.isoformat()}
    with tempfile.TemporaryDirectory() as tmp, FhirTestServer() as server:
        db = open_database(f"sqlite:///{tmp}/rota.sqlite3")
        load_facility_file(db, generate_demo(size, 7, START), as_of=START)
        operator = callers.for_actor(db, "operator")
        client = FhirClient(server.base_url)
        sender = AppointmentPusher(client)

        t0 = time.perf_counter()
        backlog = fhir_writeback.push_now(
            db, operator, sender, NOW, start=START, end=START + timedelta(days=13)
        )
        seconds = time.perf_counter() - t0
        out["backlog"] = {
            "appointments": backlog["sent"],
            "on_server": len(server.all("Appointment")),
            "seconds": round(seconds, 2),
            "per_s": round(backlog["sent"] / seconds, 1),
        }

        with db.read() as session:
            later = session.scalars(
                select(Appointment.id)
                .where(Appointment.status == "booked", Appointment.start > NOW + timedelta(days=1))
                .order_by(Appointment.start)
            ).all()
        moved = 0
        for aid in later:
            if moved == moves:
                break
            start = appointments.current(db, aid).start
            try:
                appointments.move(
                    db, operator, appointments.Move(aid, "bench", start=start + timedelta(days=7))
                )
                moved += 1
            except RotaError:
                continue  # that time is taken a week on: the next one
        fhir_writeback.use_pusher(sender)
        t0 = time.perf_counter()
        run = fhir_push.run(db, NOW + timedelta(minutes=1))
        seconds = time.perf_counter() - t0
        out["moves"] = {
            "moved": moved,
            "sent": run["sent"],
            "updates_with_if_match": sum(
                1 for s in server.requests("PUT", "Appointment") if s.headers.get("if-match")
            ),
            "seconds": round(seconds, 2),
            "per_s": round(run["sent"] / seconds, 1) if run["sent"] else None,
        }
        fhir_writeback.use_pusher(None)
        client.close()
        db.dispose()
    use_clock(None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="s")
    parser.add_argument("--moves", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(measure(args.size, args.moves), indent=2))


if __name__ == "__main__":
    main()
