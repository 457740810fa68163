"""Storage benchmark: facility-file load time per demo size, and bookings per second through
the booking service, on SQLite (embedded) and PostgreSQL. Prints one JSON document.

    .venv/bin/python bench/storage.py [--repeat 3] [--bookings 400] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, make_url, text

from clinic.booking import BookingRequest, BookingService
from clinic.db import Database, open_database
from clinic.demo import SIZES, generate_demo
from clinic.facility_file import load_facility
from rules.policy import RulesPolicy

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NY = ZoneInfo("America/New_York")


@contextmanager
def fresh_database(kind: str) -> Iterator[Database]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            db = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
            try:
                yield db
            finally:
                db.dispose()
        return
    name = f"rota_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE template0"))
    db = open_database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def bench_loads(kind: str, repeat: int) -> dict[str, dict[str, float | int]]:
    results: dict[str, dict[str, float | int]] = {}
    for size in SIZES:
        data = generate_demo(size, seed=7, start=date(2026, 11, 30))
        runs = []
        for _ in range(repeat if size != "xl" else max(1, repeat // 2)):
            with fresh_database(kind) as db:
                runs.append(timed(lambda db=db, data=data: load_facility(db, data, actor="bench")))
        results[size] = {
            "appointments": len(data["appointments"]),
            "patients": len(data["patients"]),
            "median_s": round(statistics.median(runs), 3),
            "min_s": round(min(runs), 3),
            "runs": len(runs),
        }
    return results


def throughput_facility(staff: int, patients: int) -> dict:
    return {
        "version": 1,
        "facility": {"name": "Throughput", "timezone": "America/New_York"},
        "rooms": [
            {"id": f"r{i}", "name": f"Office {i}", "kind": "individual", "capacity": 2}
            for i in range(staff)
        ],
        "staff": [
            {"id": f"t{i}", "name": f"Therapist {i}", "role": "therapist", "credentials": ["LCSW"]}
            for i in range(staff)
        ],
        "patients": [{"id": f"p{i}", "name": f"Patient {i}"} for i in range(patients)],
    }


def bench_bookings(kind: str, count: int, with_rules: bool) -> dict[str, float | int]:
    """Sequential bookings; with_rules adds the rule packs (RulesPolicy), as every door has."""
    staff, patients = 20, 400
    with fresh_database(kind) as db:
        load_facility(db, throughput_facility(staff, patients), actor="bench")
        service = BookingService(db, RulesPolicy() if with_rules else None)
        requests = []
        day = date(2027, 1, 4)
        slot = 0
        while len(requests) < count:
            if day.weekday() < 5:
                for hour in range(8, 17):
                    for k in range(staff):
                        start = datetime(day.year, day.month, day.day, hour, tzinfo=NY)
                        patient = (k + slot * staff) % patients
                        requests.append(
                            BookingRequest(
                                session_type="individual",
                                start=start,
                                staff=[f"t{k}"],
                                patients=[f"p{patient}"],
                                room=f"r{k}",
                            )
                        )
                    slot += 1
            day += timedelta(days=1)
        requests = requests[:count]
        latencies = []
        started = time.perf_counter()
        for request in requests:
            t0 = time.perf_counter()
            service.book("operator", request)
            latencies.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "bookings": count,
        "per_second": round(count / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bookings", type=int, default=400)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    kinds = ["sqlite"] if args.no_postgres else ["sqlite", "postgresql"]
    report: dict[str, object] = {
        "benchmark": "storage",
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
    }
    for kind in kinds:
        report[kind] = {
            "load": bench_loads(kind, args.repeat),
            "booking": bench_bookings(kind, args.bookings, with_rules=False),
            "booking_with_rules": bench_bookings(kind, args.bookings, with_rules=True),
        }
    if "postgresql" in report:
        report["ratio_postgresql_to_sqlite_bookings_per_second"] = round(
            report["postgresql"]["booking"]["per_second"]  # type: ignore[index]
            / report["sqlite"]["booking"]["per_second"],
            2,
        )  # type: ignore[index]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
