"""Storage benchmark: facility-file load time per demo size, and bookings per second through
the booking service, on SQLite (embedded) and PostgreSQL. Prints one JSON document.

    .venv/bin/python bench/storage.py [--repeat 3] [--bookings 400] [--no-postgres]
        [--encrypted] [--sizes s,m,l,xl] [--record-checks 20]

"record_check" times checking one changed patient against the rest of the largest facility
loaded (what every admit, update and CSV row pays), beside exporting every patient's details
as the check did before (the baseline, same run).

--encrypted adds "sqlcipher": the same runs on a SQLite file encrypted with SQLCipher (a
throwaway ROTA_DB_KEY), beside plain SQLite, plus bookings into the loaded demo 'm' facility on
both, and the ratios encrypted/plain.
"""

from __future__ import annotations

import argparse
import json
import os
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
from clinic.encryption import DB_KEY_ENV
from clinic.errors import RotaError
from clinic.facility_file import load_facility, record_problems
from clinic.facility_file.export import facility_data
from rules.policy import RulesPolicy

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NY = ZoneInfo("America/New_York")
BENCH_KEY = "storage bench: a throwaway key"


@contextmanager
def keyed(key: str | None) -> Iterator[None]:
    """ROTA_DB_KEY as given (None: unset) for the block, then as it was."""
    before = os.environ.pop(DB_KEY_ENV, None)
    if key is not None:
        os.environ[DB_KEY_ENV] = key
    try:
        yield
    finally:
        os.environ.pop(DB_KEY_ENV, None)
        if before is not None:
            os.environ[DB_KEY_ENV] = before


@contextmanager
def fresh_database(kind: str) -> Iterator[Database]:
    if kind in ("sqlite", "sqlcipher"):
        key = BENCH_KEY if kind == "sqlcipher" else None
        with tempfile.TemporaryDirectory() as tmp, keyed(key):
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


def bench_loads(kind: str, repeat: int, sizes: list[str]) -> dict[str, dict[str, float | int]]:
    results: dict[str, dict[str, float | int]] = {}
    for size in sizes:
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
        return timed_bookings(service, requests[:count])


def timed_bookings(service: BookingService, requests: list[BookingRequest]) -> dict:
    """Each request booked in turn; a refusal (a clash, a rule) is counted, not timed."""
    latencies = []
    refused = 0
    started = time.perf_counter()
    for request in requests:
        t0 = time.perf_counter()
        try:
            service.book("operator", request)
        except RotaError:
            refused += 1
            continue
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "bookings": len(latencies),
        "refused": refused,
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
    }


def demo_requests(data: dict, count: int) -> list[BookingRequest]:
    """Individual sessions past the demo's weeks, inside each clinician's availability, one
    office per clinician, patients in turn (never two at once)."""
    clinicians = [s for s in data["staff"] if s["role"] in ("therapist", "counselor")]
    offices = [r["id"] for r in data["rooms"] if r["kind"] == "individual"]
    patients = [p["id"] for p in data["patients"]]
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    requests: list[BookingRequest] = []
    day, turn = date(2027, 1, 4), 0
    while len(requests) < count:
        for hour in range(8, 18):
            for k, person in enumerate(clinicians[: len(offices)]):
                windows = person.get("availability", {}).get(days[day.weekday()], [])
                if not any(_within(w, hour) for w in windows):
                    continue
                start = datetime(day.year, day.month, day.day, hour, tzinfo=NY)
                requests.append(
                    BookingRequest(
                        session_type="individual",
                        start=start,
                        staff=[person["id"]],
                        patients=[patients[turn % len(patients)]],
                        room=offices[k],
                    )
                )
                turn += 1
        day += timedelta(days=1)
    return requests[:count]


def _within(window: str, hour: int) -> bool:
    opens, closes = (int(a) * 60 + int(b) for a, b in (t.split(":") for t in window.split("-")))
    return opens <= hour * 60 and hour * 60 + 45 <= closes


def bench_demo_bookings(kind: str, size: str, count: int) -> dict:
    """Bookings through the rule packs into a loaded demo facility: the clash checks read a
    real database of thousands of appointments, as they do in use."""
    data = generate_demo(size, seed=7, start=date(2026, 11, 30))
    with fresh_database(kind) as db:
        load_facility(db, data, actor="bench")
        return timed_bookings(BookingService(db, RulesPolicy()), demo_requests(data, count))


def bench_record_check(kind: str, size: str, count: int) -> dict[str, float | int]:
    """Milliseconds to check one updated patient record against the facility, and to export
    every patient's details (what the check read before it needed only their ids)."""
    data = generate_demo(size, seed=7, start=date(2026, 11, 30))
    with fresh_database(kind) as db:
        load_facility(db, data, actor="bench")
        checks, exports = [], []
        with db.session() as session:
            for patient in data["patients"][:count]:
                checks.append(
                    timed(
                        lambda p=patient: record_problems(session, "patients", p, replaces=p["id"])
                    )
                )
                exports.append(timed(lambda: facility_data(session, appointments=False)))
    p50, p50_export = statistics.median(checks), statistics.median(exports)
    return {
        "patients": len(data["patients"]),
        "checks": len(checks),
        "p50_ms": round(p50 * 1000, 1),
        "p95_ms": round(statistics.quantiles(checks, n=20)[-1] * 1000, 1),
        "full_export_p50_ms": round(p50_export * 1000, 1),
        "ratio_full_export_to_check": round(p50_export / p50, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bookings", type=int, default=400)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--encrypted", action="store_true", help="Also SQLCipher, beside plain.")
    parser.add_argument("--sizes", default=",".join(SIZES), help="Demo sizes to load.")
    parser.add_argument("--record-checks", type=int, default=20)
    args = parser.parse_args()
    sizes = [s for s in args.sizes.split(",") if s]
    kinds = ["sqlite"] + (["sqlcipher"] if args.encrypted else [])
    kinds += [] if args.no_postgres else ["postgresql"]
    report: dict[str, object] = {
        "benchmark": "storage",
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
    }
    for kind in kinds:
        report[kind] = {
            "load": bench_loads(kind, args.repeat, sizes),
            "booking": bench_bookings(kind, args.bookings, with_rules=False),
            "booking_with_rules": bench_bookings(kind, args.bookings, with_rules=True),
            "record_check": bench_record_check(kind, sizes[-1], args.record_checks),
        }
    if args.encrypted:
        for kind in ("sqlite", "sqlcipher"):
            report[kind]["booking_demo_m"] = bench_demo_bookings(kind, "m", args.bookings)  # type: ignore[index]
        report["ratio_sqlcipher_to_sqlite"] = {
            run: {
                stat: round(report["sqlcipher"][run][stat] / report["sqlite"][run][stat], 2)  # type: ignore[index]
                for stat in ("p50_ms", "p95_ms", "per_second")
            }
            for run in ("booking", "booking_with_rules", "booking_demo_m")
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
