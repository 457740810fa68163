"""Chat endpoint benchmark: 20 concurrent clients over loopback against the HTTP app on the
demo 'm' facility (deterministic path, no LLM). Prints one JSON document.

    .venv/bin/python bench/chat.py [--clients 20] [--requests 400] [--workers 2] [--port 8765]

The demo is anchored on a fixed Monday and the server's clock is fixed at 10:00 that day, so
"tomorrow" is always the same open Tuesday whatever day the bench runs. The server is the app
`rota serve --workers N` runs (uvicorn, `create_app`, N processes), built with that clock.
Half the clients ask for slots and confirm every second offer ("book option 1"): a booking
invalidates the per-facility caches, as in real use. The other half ask for their schedule or
for help.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from clinic.db import open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.models import Patient, Staff
from clinic.tokens import create_token

START = date(2026, 11, 30)  # a Monday: "tomorrow" is the open Tuesday of the demo's booked week
NOW_ENV = "ROTA_BENCH_NOW"


def serve_app() -> object:
    """uvicorn factory (one per worker process): the HTTP app with the dialogue's clock fixed."""
    from assistant.dialogue import Dialogue
    from integrations.http.app import create_app

    db = open_database()
    now = datetime.fromisoformat(os.environ[NOW_ENV])
    return create_app(db, dialogue=Dialogue(db, clock=lambda: now))


def script_for(index: int, per_client: int, patients: list[str]) -> list[str]:
    """Even clients find slots and confirm every second offer; odd ones look up or ask help."""
    if index % 2:
        return ["what's on my schedule today" if i % 2 else "help" for i in range(per_client)]
    script: list[str] = []
    for i in range(per_client):
        if script and script[-1].startswith("find") and i % 3 == 1:
            script.append("book option 1")
        else:
            script.append(f"find a slot for {patients[(index * 7 + i) % len(patients)]} tomorrow")
    return script


def kind_of(message: str) -> str:
    return {"find": "find", "book": "book", "what's": "schedule"}.get(message.split()[0], "help")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="in total, across clients")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
    db = open_database(url)
    data = generate_demo("m", seed=7, start=START)
    load_facility(db, data, actor="bench")
    now = datetime.combine(START, clock_time(10, 0), tzinfo=ZoneInfo(data["facility"]["timezone"]))
    with db.session() as session:
        staff = session.execute(select(Staff.id, Staff.role).order_by(Staff.position)).all()
        patients = [p for (p,) in session.execute(select(Patient.name).order_by(Patient.position))]
        case_managers = [s for s, r in staff if r in {"case_manager", "clinical_director"}]
        therapists = [s for s, r in staff if r in {"therapist", "counselor"}]
        tokens = {s: create_token(session, s, label="bench") for s in case_managers + therapists}
    db.dispose()
    env = {**os.environ, "ROTA_DATABASE_URL": url, NOW_ENV: now.isoformat()}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.chat:serve_app",  # run from the repository root: bench/ is a namespace package
            "--factory",
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit(
                f"server did not start: {server.stderr.read().decode()[-500:] if server.stderr else ''}"
            )

        per_client = max(1, args.requests // args.clients)
        latencies: list[float] = []
        errors: list[str] = []
        booked: list[str] = []
        by_kind: dict[str, list[float]] = {}
        lock = threading.Lock()
        warmed = threading.Barrier(args.clients + 1)

        def client(index: int) -> None:
            staff_id = (
                therapists[index % len(therapists)]
                if index % 2
                else case_managers[index % len(case_managers)]
            )
            script = script_for(index, per_client, patients)
            headers = {"Authorization": f"Bearer {tokens[staff_id]}"}
            conversation = None
            with httpx.Client(base_url=base, timeout=30) as http:
                # Warm-up, not measured: a running server has its caches built.
                http.post("/api/chat", json={"message": script[0]}, headers=headers)
                warmed.wait()
                for message in script:
                    body = {
                        "message": message,
                        **({"conversation_id": conversation} if conversation else {}),
                    }
                    t0 = time.perf_counter()
                    response = http.post("/api/chat", json=body, headers=headers)
                    elapsed = (time.perf_counter() - t0) * 1000
                    kind = kind_of(message)
                    with lock:
                        latencies.append(elapsed)
                        by_kind.setdefault(kind, []).append(elapsed)
                        if response.status_code != 200:
                            errors.append(f"{response.status_code}: {response.text[:100]}")
                        elif kind == "book" and response.json()["reply"].startswith("Booked"):
                            booked.append(message)
                    conversation = (
                        response.json().get("conversation_id")
                        if response.status_code == 200
                        else None
                    )

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        warmed.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    report = {
        "benchmark": "chat",
        "facility": "m",
        "now": now.isoformat(),
        "clients": args.clients,
        "server_workers": args.workers,
        "requests": len(latencies),
        "errors": len(errors),
        "booked": len(booked),
        "throughput_rps": round(len(latencies) / wall, 1),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "p99": round(percentile(latencies, 0.99), 1),
        },
        "by_message": {
            k: {
                "n": len(v),
                "p50": round(statistics.median(v), 1),
                "p95": round(percentile(v, 0.95), 1),
            }
            for k, v in by_kind.items()
        },
        "first_errors": errors[:3],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
