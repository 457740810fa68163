"""FHIR facade benchmark: the Slot search's latency over HTTP (uvicorn on 127.0.0.1, one client,
requests one after another) on a demo facility, at fixed dates (the clock is set to the demo's
first morning, 2026-11-30 07:00 facility time). Prints one JSON document: p50/p95/max per kind
of search and over all, the first (cold) request apart, and the slots each answer held; then
the time to fetch each SMART Scheduling Links bulk file once (14 days of free slots).

Kinds, cycled: one clinician and one session type over 7 days (`clinician_week`), every
clinician for one session type over one day (`type_day`), the default search (every clinician
and type, the next 7 days, first 100 of them: `default_week`).

    .venv/bin/python bench/fhir_facade.py [--size m] [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clinic.db import open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.timeutil import use_clock
from clinic.tokens import create_token
from integrations.http.app import create_app

START = date(2026, 11, 30)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="m")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    data = generate_demo(args.size, seed=7, start=START)
    tz = ZoneInfo(data["facility"]["timezone"])
    use_clock(lambda: datetime(2026, 11, 30, 7, 0, tzinfo=tz))
    director = next(s["id"] for s in data["staff"] if s["role"] == "clinical_director")
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{tmp}/demo.sqlite3")
        load_facility(db, data, actor="bench")
        with db.session() as session:
            token = create_token(session, director)
        server = uvicorn.Server(
            uvicorn.Config(create_app(db), host="127.0.0.1", port=0, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}/fhir/r4"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            schedules = client.get("/Schedule").json()["entry"]
            offered = [
                (e["resource"]["actor"][0]["reference"], c["coding"][0]["code"])
                for e in schedules
                for c in e["resource"]["serviceType"]
            ]
            types = sorted({code for _, code in offered})
            days = [f"2026-12-0{d}" for d in (1, 2, 3, 4, 7, 8)]

            def query(i: int) -> tuple[str, dict[str, str]]:
                kind = ("clinician_week", "type_day", "default_week")[i % 3]
                if kind == "clinician_week":
                    actor, code = offered[i % len(offered)]
                    return kind, {
                        "schedule.actor": actor,
                        "service-type": code,
                        "start": "ge2026-12-01",
                    }
                if kind == "type_day":
                    day = days[i % len(days)]
                    return kind, {"service-type": types[i % len(types)], "start": day}
                return kind, {}

            timings: dict[str, list[float]] = {}
            sizes: dict[str, list[int]] = {}
            cold = None
            for i in range(args.requests + 1):
                kind, params = query(i)
                t0 = time.perf_counter()
                response = client.get("/Slot", params=params)
                elapsed = (time.perf_counter() - t0) * 1000
                assert response.status_code == 200, response.text
                if cold is None:
                    cold = round(elapsed, 1)  # builds the cached problem: reported apart
                    continue
                timings.setdefault(kind, []).append(elapsed)
                sizes.setdefault(kind, []).append(response.json()["total"])
            # The SMART Scheduling Links files (14 days of free slots), each fetched once.
            bulk: dict[str, dict[str, float]] = {}
            manifest = client.get("/$bulk-publish").json()
            for output in manifest["output"]:
                t0 = time.perf_counter()
                body = httpx.get(output["url"], timeout=300).text
                bulk[output["type"]] = {
                    "ms": round((time.perf_counter() - t0) * 1000, 1),
                    "lines": len(body.splitlines()),
                }
        server.should_exit = True
        thread.join(timeout=10)
        db.dispose()
    every = [ms for values in timings.values() for ms in values]
    print(
        json.dumps(
            {
                "size": args.size,
                "staff": len(data["staff"]),
                "rooms": len(data["rooms"]),
                "appointments": len(data["appointments"]),
                "clock": "2026-11-30T07:00 facility time",
                "cold_first_request_ms": cold,
                "slot_search": summary(every),
                "bulk_publish_files": bulk,
                "by_kind": {
                    kind: {**summary(ms), "median_total_slots": statistics.median(sizes[kind])}
                    for kind, ms in timings.items()
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
