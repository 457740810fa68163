"""A network of facilities on one PostgreSQL database, measured beside one facility in the same
run: chat latency and throughput, bookings per second, and the morning cycle of every facility
on `rota worker` processes. Prints one JSON document.

    .venv/bin/python bench/network.py [--facilities 20] [--size m] [--clients 40] [--seconds 60]
        [--morning-seconds 20] [--port 8790]

Set up (not measured): a database of its own (`rota_network_bench_<random>`, on ROTA_BENCH_PG,
default the test server postgresql+psycopg://postgres@127.0.0.1:5432/test; dropped at the end)
holding a network of N + 1 facilities of `--size`: `f00` (the single-facility figures) and
`f01`..`fNN` (the network figures). f00 is the demo (seed 7, from Monday 30 Nov 2026) loaded
through the facility file; the others are copies of its schema (pg_dump of `facility_f00` into
`facility_fNN`), so N facilities cost seconds, not N loads. Shared clinicians: in each pair of
facilities (f01 and f02, f03 and f04, …) the first three therapists are linked as one person
working at both sites, 30 minutes apart.

1. Chat: two server processes (the app `rota serve` runs, one process each, on two loopback
   ports, ROTA_JOBS=procrastinate so they schedule nothing; the clock fixed at the demo's Monday
   10:00 so "tomorrow" is the same open Tuesday whatever the day) and C clients for S seconds,
   each facility's clients alternating between the servers. Half the clients find slots and book every second offer, half ask for
   their schedule or help (bench/chat.py's scripts). First all C clients work at f00, then
   client i works at facility f(1 + i mod N) (the X-Rota-Facility header). Latency p50/p95/p99,
   requests per second, bookings per second.
2. Morning: the servers stop; two `rota worker --concurrency 1` processes start (ticking every
   5 s, the morning due at once, ROTA_MORNING_SECONDS per facility). f00 is registered in the
   network: its morning cycle's wall time, from registration to its run's end (a tick's wait
   included). Then f01..fNN are registered at once: the wall time until the last one's morning
   is done, and the jobs per minute (the other jobs due, e.g. the weekly risk retraining and
   retention, run beside them, as they would: counted apart).
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
import uuid
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, delete, func, make_url, select, text

from bench.chat import kind_of, percentile, script_for
from clinic import network
from clinic.db import open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.job_models import JobRun
from clinic.models import Patient, Staff
from clinic.timeutil import use_clock
from clinic.tokens import create_token

START = date(2026, 11, 30)  # a Monday: "tomorrow" is the open Tuesday of the demo's booked week
NOW_ENV = "ROTA_BENCH_NOW"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LINKED_PER_PAIR = 3
TRAVEL_MINUTES = 30


def serve_app() -> object:
    """uvicorn factory: the app `rota serve` runs, with the clock fixed (ROTA_BENCH_NOW)."""
    from integrations.http.app import create_app

    now = datetime.fromisoformat(os.environ[NOW_ENV])
    use_clock(lambda: now)
    return create_app(open_database(), settle=True)


def fid(i: int) -> str:
    return f"f{i:02d}"


# --- set-up --------------------------------------------------------------------------------------


def build_network(url: str, n: int, size: str) -> dict[str, Any]:
    """f00 loaded from the demo, f01..fNN copied from its schema; tokens; shared clinicians."""
    began = time.perf_counter()
    open_database(url).dispose()  # public migrated once, before processes start together
    first = open_database(url, facility=fid(0), create=True)
    data = generate_demo(size, seed=7, start=START)
    load_facility(first, data, actor="bench")
    loaded = time.perf_counter() - began
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--no-privileges", "-n", network.schema_for(fid(0)), libpq(url)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for i in range(1, n + 1):
        sql = dump.replace(network.schema_for(fid(0)), network.schema_for(fid(i)))
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", libpq(url)],
            input=sql,
            check=True,
            capture_output=True,
            text=True,
        )
    with first.session() as session:
        for i in range(1, n + 1):
            network.register(session, fid(i), f"{data['facility']['name']} {i}")
    with first.read() as session:
        staff = session.execute(select(Staff.id, Staff.role).order_by(Staff.position)).all()
        patients = [p for (p,) in session.execute(select(Patient.name).order_by(Patient.position))]
        per_facility = session.scalar(select(func.count()).select_from(Patient)) or 0
    first.dispose()
    case_managers = [s for s, r in staff if r in {"case_manager", "clinical_director"}]
    therapists = [s for s, r in staff if r in {"therapist", "counselor"}]
    tokens: dict[str, dict[str, str]] = {}
    for i in range(n + 1):
        db = open_database(url, facility=fid(i), migrate=False)
        with db.session() as session:
            tokens[fid(i)] = {
                s: create_token(session, s, label="bench") for s in case_managers + therapists
            }
            if i % 2 == 1 and i + 1 <= n:  # a pair of sites sharing clinicians
                for s in therapists[:LINKED_PER_PAIR]:
                    network.link_person(session, f"{fid(i)}-{s}", {fid(i): s, fid(i + 1): s})
                network.set_travel(session, fid(i), fid(i + 1), TRAVEL_MINUTES)
        db.dispose()
    return {
        "tz": data["facility"]["timezone"],
        "patients": patients,
        "patients_per_facility": per_facility,
        "case_managers": case_managers,
        "therapists": therapists,
        "tokens": tokens,
        "setup_s": {
            "load_f00": round(loaded, 1),
            "total": round(time.perf_counter() - began, 1),
        },
    }


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


# --- processes -----------------------------------------------------------------------------------


def start_servers(
    env: dict[str, str], ports: list[int], logs: Path
) -> list[subprocess.Popen[bytes]]:
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.network:serve_app",
                "--factory",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=(logs / f"server-{port}.log").open("wb"),  # a 500's cause, for a person
        )
        for port in ports
    ]
    for port, server in zip(ports, servers, strict=True):
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                break
            time.sleep(0.2)
        else:
            stop(servers)
            raise SystemExit(f"server on port {port} did not start")
        if server.poll() is not None:
            stop(servers)
            raise SystemExit(f"server on port {port} exited: see {logs}/server-{port}.log")
    return servers


def start_workers(env: dict[str, str], n: int = 2) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [sys.executable, "-m", "integrations.cli.main", "worker", "--concurrency", "1"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(n)
    ]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# --- chat ----------------------------------------------------------------------------------------


def chat_phase(
    setup: dict[str, Any], ports: list[int], facilities: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    """C clients for `seconds`, client i at facility i mod len(facilities), the clients of one
    facility alternating between the servers."""
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors: list[str] = []
    booked = [0]
    lock = threading.Lock()
    warmed = threading.Barrier(clients + 1)
    window: dict[str, float] = {}

    def client(index: int) -> None:
        facility = facilities[index % len(facilities)]
        cms, ths = setup["case_managers"], setup["therapists"]
        staff_id = ths[index % len(ths)] if index % 2 else cms[index % len(cms)]
        headers = {
            "Authorization": f"Bearer {setup['tokens'][facility][staff_id]}",
            "X-Rota-Facility": facility,
        }
        script = script_for(index, 12, setup["patients"])
        conversation = None
        # Each facility's clients alternate between the servers (client i mod 2 alone would
        # send all of an even-sized network's facility to one server).
        server = (index % len(facilities) + index // len(facilities)) % len(ports)
        base = f"http://127.0.0.1:{ports[server]}"
        with httpx.Client(base_url=base, timeout=120) as http:
            # Warm-up, not measured: a running server has its facility's caches built.
            try:
                http.post("/api/chat", json={"message": script[0]}, headers=headers)
            finally:
                warmed.wait()
            i = 0
            while time.perf_counter() < window["end"]:
                message = script[i % len(script)]
                i += 1
                body = {
                    "message": message,
                    **({"conversation_id": conversation} if conversation else {}),
                }
                t0 = time.perf_counter()
                try:
                    response = http.post("/api/chat", json=body, headers=headers)
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(exc.__class__.__name__)
                    conversation = None
                    continue
                elapsed = (time.perf_counter() - t0) * 1000
                kind = kind_of(message)
                ok = response.status_code == 200
                with lock:
                    latencies.append(elapsed)
                    by_kind.setdefault(kind, []).append(elapsed)
                    if not ok:
                        errors.append(f"{response.status_code}: {response.text[:100]}")
                    elif kind == "book" and response.json()["reply"].startswith("Booked"):
                        booked[0] += 1
                conversation = response.json().get("conversation_id") if ok else None

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    window["end"] = float("inf")
    for t in threads:
        t.start()
    warmed.wait()
    started = time.perf_counter()
    window["end"] = started + seconds
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if not latencies:
        return {"requests": 0, "errors": len(errors), "first_errors": errors[:3]}
    return {
        "facilities": len(facilities),
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "throughput_rps": round(len(latencies) / wall, 1),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "p99": round(percentile(latencies, 0.99), 1),
        },
        "by_message_p50_ms": {k: round(statistics.median(v), 1) for k, v in by_kind.items()},
        "bookings": booked[0],
        "bookings_per_second": round(booked[0] / wall, 2),
        "first_errors": errors[:3],
    }


# --- morning -------------------------------------------------------------------------------------


def morning_phase(url: str, n: int, env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Workers up first with no facility registered; then f00 alone; then f01..fNN at once."""
    plain = open_database(url, migrate=False)
    names = {}
    with plain.session() as session:
        for row in network.facilities(session):
            names[row.id] = row.name
        session.execute(delete(network.NetworkFacility))
    workers = start_workers(env)
    try:
        wait_for(lambda: registered_workers(plain) >= 2, 300, workers, "workers to start")
        t0 = register(plain, {fid(0): names[fid(0)]})
        f00 = open_database(url, facility=fid(0), migrate=False)
        wait_for(lambda: morning_done(f00), timeout, workers, "f00's morning")
        single = time.perf_counter() - t0
        single_run = runs(f00)
        f00.dispose()
        others = {fid(i): names[fid(i)] for i in range(1, n + 1)}
        t1 = register(plain, others)
        dbs = [open_database(url, facility=f, migrate=False) for f in others]
        wait_for(lambda: all(morning_done(db) for db in dbs), timeout, workers, "the mornings")
        wall = time.perf_counter() - t1
        per = [runs(db) for db in dbs]
        for db in dbs:
            db.dispose()
    finally:
        stop(workers)
        plain.dispose()
    morning_s = [r["morning_s"] for r in per]
    other_jobs = sum(r["other_runs"] for r in per)
    return {
        "single": {
            "facilities": 1,
            "wall_s": round(single, 1),
            "run_s": single_run["morning_s"],
            "other_runs": single_run["other_runs"],
        },
        "network": {
            "facilities": n,
            "wall_s": round(wall, 1),
            "morning_jobs_per_minute": round(n / wall * 60, 1),
            "all_jobs_per_minute": round((n + other_jobs) / wall * 60, 1),
            "run_s": {
                "p50": round(statistics.median(morning_s), 1),
                "max": round(max(morning_s), 1),
            },
            "other_runs": other_jobs,
        },
    }


def register(db: Any, facilities: dict[str, str]) -> float:
    with db.session() as session:
        for facility, name in facilities.items():
            network.register(session, facility, name)
    return time.perf_counter()


def registered_workers(db: Any) -> int:
    with db.read() as session:
        found = session.execute(text("SELECT to_regclass('public.procrastinate_workers')"))
        if found.scalar() is None:
            return 0
        return int(session.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar())


def morning_done(db: Any) -> bool:
    with db.read() as session:
        status = session.scalar(select(JobRun.status).where(JobRun.job == "morning"))
    if status == "failed":
        raise SystemExit(f"the morning cycle failed at {db.facility}: see `rota jobs history`")
    return status == "done"


def runs(db: Any) -> dict[str, Any]:
    with db.read() as session:
        rows = session.execute(select(JobRun.job, JobRun.started_at, JobRun.finished_at)).all()
    morning = [r for r in rows if r.job == "morning" and r.finished_at is not None]
    return {
        "morning_s": round((morning[0].finished_at - morning[0].started_at).total_seconds(), 1),
        "other_runs": len([r for r in rows if r.job != "morning" and r.finished_at is not None]),
    }


def wait_for(check: Any, seconds: float, workers: list[Any], what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(w.poll() is not None for w in workers):
            err = [w.stderr.read().decode()[-800:] for w in workers if w.poll() is not None]
            raise SystemExit(f"a worker exited while waiting for {what}: {err}")
        if check():
            return
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facilities", type=int, default=20)
    parser.add_argument("--size", default="m")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--morning-seconds", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args()
    if args.facilities < 1 or args.clients < 1 or args.seconds <= 0:
        raise SystemExit("--facilities and --clients must be at least 1, --seconds positive")
    server = os.environ.get("ROTA_BENCH_PG", PG_DEFAULT)
    name = f"rota_network_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE template0"))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        report = run(url, args)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    print(json.dumps(report, indent=2))


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    n = args.facilities
    setup = build_network(url, n, args.size)
    now = datetime.combine(START, clock_time(10, 0), tzinfo=ZoneInfo(setup["tz"]))
    env = {k: v for k, v in os.environ.items() if k != "ROTA_FACILITY"}
    env |= {
        "ROTA_DATABASE_URL": url,
        "ROTA_JOBS": "procrastinate",
        NOW_ENV: now.isoformat(),
        "PYTHONPATH": str(ROOT),
    }
    ports = [args.port, args.port + 1]
    logs = Path(tempfile.mkdtemp(prefix="rota-network-bench-"))
    print(f"server logs: {logs}", file=sys.stderr)
    servers = start_servers(env, ports, logs)
    try:
        single = chat_phase(setup, ports, [fid(0)], args.clients, args.seconds)
        spread = chat_phase(
            setup, ports, [fid(i) for i in range(1, n + 1)], args.clients, args.seconds
        )
    finally:
        stop(servers)
    # Shown as soon as known: the morning phase is the long one.
    print(json.dumps({"chat": {"single": single, "network": spread}}), file=sys.stderr)
    worker_env = env | {
        "ROTA_MORNING_AT": "00:00",  # due at once
        "ROTA_MORNING_SECONDS": str(args.morning_seconds),
        "ROTA_JOBS_TICK_SECONDS": "5",
    }
    morning = morning_phase(url, n, worker_env, timeout=max(600.0, 120.0 * n))
    return {
        "benchmark": "network",
        "size": args.size,
        "facilities": n,
        "patients_per_facility": setup["patients_per_facility"],
        "patients_network": setup["patients_per_facility"] * n,
        "servers": 2,
        "workers": 2,
        "setup_s": setup["setup_s"],
        "chat": {"single": single, "network": spread},
        "morning": morning,
        "note": "2-CPU machine shared with other jobs: figures are upper bounds",
    }


if __name__ == "__main__":
    main()
