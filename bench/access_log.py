"""What the access log adds to a read of patient information, on demo 'm'. Prints one JSON
document.

    .venv/bin/python bench/access_log.py [--size m] [--requests 200]

The demo (seed 7, starting Monday 30 Nov 2026) loaded into a fresh SQLite file, the clock at
that Monday 10:00 in the facility's zone, the clinical director's bearer token, then through a
TestClient:
- `patient`: GET /api/patients/{id} (one access row), a different patient each time;
- `day`: GET /api/appointments for the whole Monday (one row per patient shown, one INSERT).
Each request is made twice in a row, once with the access log writing and once with its writer
replaced by a no-op, the order alternating, so both series share the same noise; p50/p95 of
each and of the per-request difference. Also the writer alone (`record_reads`, 1 and 50 rows).
Target: the access log adds at most a few milliseconds at p95.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from litestar.testing import TestClient
from sqlalchemy import func, select

from clinic import access_log
from clinic.db import Database, open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.models import AccessEvent
from clinic.timeutil import use_clock
from clinic.tokens import Caller, create_token
from integrations.http.app import create_app

START = date(2026, 11, 30)
DIRECTOR = "s001"
TARGET_ADDED_P95_MS = 5.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 3),
        "p95_ms": round(_pct(values, 0.95), 3),
    }


@contextmanager
def _logging(enabled: bool) -> Iterator[None]:
    """The access log as it is, or its writer replaced by a no-op (what it costs is the rest)."""
    real = access_log._write
    if not enabled:
        access_log._write = lambda db, rows: None  # type: ignore[assignment]
    try:
        yield
    finally:
        access_log._write = real  # type: ignore[assignment]


def _time(get: Callable[[], Any]) -> float:
    began = time.perf_counter()
    response = get()
    elapsed = (time.perf_counter() - began) * 1000
    assert response.status_code == 200, response.text[:300]
    return elapsed


def _paired(requests: list[Callable[[], Any]]) -> dict[str, Any]:
    on: list[float] = []
    off: list[float] = []
    for i, get in enumerate(requests):
        order = (True, False) if i % 2 == 0 else (False, True)
        for enabled in order:
            with _logging(enabled):
                (on if enabled else off).append(_time(get))
    added = [a - b for a, b in zip(on, off, strict=True)]
    return {
        "requests": len(requests),
        "with_log": _summary(on),
        "without_log": _summary(off),
        "added": _summary(added),
    }


def _writer(db: Database, rows: int, n: int) -> dict[str, float]:
    caller = Caller(DIRECTOR, "bench", "clinical_director", door="cli")
    patients = [f"bench{i:03d}" for i in range(rows)]
    times = []
    for _ in range(n):
        began = time.perf_counter()
        access_log.record_reads(db, caller, access_log.SCHEDULE_VIEW, patients)
        times.append((time.perf_counter() - began) * 1000)
    return _summary(times)


def run(size: str, requests: int) -> dict[str, Any]:
    data = generate_demo(size, seed=7, start=START)
    patient_ids = [p["id"] for p in data["patients"]]
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        load_facility(db, data, actor="bench")
        del data
        now = datetime(2026, 11, 30, 10, 0, tzinfo=db.facility_tz())
        use_clock(lambda: now)
        try:
            with db.session() as session:
                headers = {"Authorization": f"Bearer {create_token(session, DIRECTOR)}"}
            with TestClient(create_app(db)) as client:
                client.get(f"/api/patients/{patient_ids[0]}", headers=headers)  # warm-up
                client.get("/api/appointments", headers=headers)
                patient = _paired(
                    [
                        (lambda pid=pid: client.get(f"/api/patients/{pid}", headers=headers))
                        for pid in (patient_ids * requests)[:requests]
                    ]
                )
                day_requests = max(requests // 4, 10)
                day = _paired(
                    [lambda: client.get("/api/appointments", headers=headers)] * day_requests
                )
            with db.read() as session:
                per_day = session.scalar(
                    select(func.count())
                    .select_from(AccessEvent)
                    .where(AccessEvent.action == access_log.SCHEDULE_VIEW)
                )
            day["rows_per_request"] = round((per_day or 0) / day_requests, 1)
            writer = {"1_row": _writer(db, 1, requests), "50_rows": _writer(db, 50, requests)}
        finally:
            use_clock(None)
            db.dispose()
    return {
        "size": size,
        "database": "sqlite",
        "patient_read": patient,
        "day_schedule": day,
        "writer_alone": writer,
        "target_added_p95_ms": TARGET_ADDED_P95_MS,
        "meets_target": patient["added"]["p95_ms"] <= TARGET_ADDED_P95_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="m")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(run(args.size, args.requests), indent=2))


if __name__ == "__main__":
    main()
