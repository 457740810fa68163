"""The morning cycle's time on demo 'm' and 'l': the exception report alone, and the whole cycle
(plan of today + 2 business days as a proposal, report, messages owed). Prints one JSON document.

    .venv/bin/python bench/morning.py [--sizes m,l] [--seconds 20]

SQLite always; PostgreSQL too when ROTA_BENCH_PG is set (a server URL such as
postgresql+psycopg://postgres@127.0.0.1:5432/test: a scratch database is created and dropped).
The clock is fixed at Tuesday 1 Dec 2026 06:00 in the facility's timezone (the demo starts on
Monday 30 Nov), so Monday's sessions are still unmarked, as on a real morning.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, make_url, text

from assistant import morning_report
from assistant.jobs import morning
from clinic.db import Database, open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.timeutil import use_clock

TARGET_REPORT_SECONDS_M = 10.0


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
    server = os.environ["ROTA_BENCH_PG"]
    name = f"rota_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE template0"))
    db = open_database(make_url(server).set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def one(kind: str, size: str, seconds: float) -> dict[str, object]:
    data = generate_demo(size, seed=7, start=date(2026, 11, 30))
    with fresh_database(kind) as db:
        load_facility(db, data, actor="bench")
        now = datetime(2026, 12, 1, 6, 0, tzinfo=db.facility_tz())
        use_clock(lambda: now)
        began = time.perf_counter()
        report = morning_report.build(db, now)
        report_s = time.perf_counter() - began
        began = time.perf_counter()
        done = morning.run(db, now, morning.Settings(seconds=seconds))
        cycle_s = time.perf_counter() - began
        use_clock(None)
    return {
        "appointments": len(data["appointments"]),
        "patients": len(data["patients"]),
        "report_s": round(report_s, 3),
        "cycle_s": round(cycle_s, 3),
        "cycle_parts_s": done["seconds"],
        "planned_sessions": done["planned"],
        "messages": done["messages"],
        "counts": {k: v["count"] for k, v in report["sections"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="m,l")
    parser.add_argument("--seconds", type=float, default=20.0, help="solver time (cycle)")
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get("ROTA_BENCH_PG") else [])
    out: dict[str, object] = {"solver_seconds": args.seconds}
    for kind in kinds:
        out[kind] = {size: one(kind, size, args.seconds) for size in args.sizes.split(",")}
    m = out["sqlite"].get("m") if isinstance(out["sqlite"], dict) else None
    if m:
        out["report_under_10s_on_m"] = m["report_s"] < TARGET_REPORT_SECONDS_M
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
