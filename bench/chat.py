"""Chat endpoint benchmark: 20 concurrent clients over loopback against `rota serve` on the
demo 'm' facility (deterministic path, no LLM). Prints one JSON document.

    .venv/bin/python bench/chat.py [--clients 20] [--requests 400] [--port 8765]
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
from datetime import date
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from clinic.db import open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.models import Patient, Staff
from clinic.tokens import create_token


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
    load_facility(db, generate_demo("m", seed=7, start=date.today()), actor="bench")
    with db.session() as session:
        staff = session.execute(select(Staff.id, Staff.role).order_by(Staff.position)).all()
        patients = [p for (p,) in session.execute(select(Patient.name).order_by(Patient.position))]
        case_managers = [s for s, r in staff if r in {"case_manager", "clinical_director"}]
        therapists = [s for s, r in staff if r in {"therapist", "counselor"}]
        tokens = {s: create_token(session, s, label="bench") for s in case_managers + therapists}
    db.dispose()
    env = {**os.environ, "ROTA_DATABASE_URL": url}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "integrations.cli.main",
            "serve",
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
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
        by_kind: dict[str, list[float]] = {}
        lock = threading.Lock()
        warmed = threading.Barrier(args.clients + 1)

        def client(index: int) -> None:
            if index % 2 == 0:
                staff_id = case_managers[index % len(case_managers)]
                script = [
                    f"find a slot for {patients[(index * 7 + i) % len(patients)]} tomorrow"
                    for i in range(per_client)
                ]
            else:
                staff_id = therapists[index % len(therapists)]
                script = [
                    "what's on my schedule today" if i % 2 else "help" for i in range(per_client)
                ]
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
                    kind = message.split()[0]
                    with lock:
                        latencies.append(elapsed)
                        by_kind.setdefault(kind, []).append(elapsed)
                        if response.status_code != 200:
                            errors.append(f"{response.status_code}: {response.text[:100]}")
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
        "clients": args.clients,
        "server_workers": args.workers,
        "requests": len(latencies),
        "errors": len(errors),
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
