"""Emergency admission benchmark over HTTP on the demo 'm' facility (deterministic path, no LLM).
Prints one JSON document.

    .venv/bin/python bench/emergency.py [--runs 20] [--port 8766]

The server is the app `rota serve` runs (uvicorn, `create_app`, bench.chat's factory) with its
clock fixed at 10:00 on the demo's Monday, so every run sees the same day.

(a) admit + first booking: POST /api/patients (the name only), then in one chat conversation
    "emergency intake for NAME asap" and "book option 1"; the latency of each step and of the
    three together, median and p95 over --runs new patients.
(b) the emergency admission conversation, from its first message to a booked assessment:
    - free slot: the intake coordinator says "emergency walk-in, new patient Maria Lopez, needs
      an assessment now", then "book option 1";
    - bump path: another walk-in who must be seen before 11:00 by a clinician booked solid until
      then ("... before 11 with NAME"): the answer is a bump proposal, and the clinical director says
      "approve" in their own conversation (machine time only: a person's reading time is not in
      it). Turns are counted across both people.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench.chat import NOW_ENV, percentile
from clinic.db import Database, open_database
from clinic.demo import generate_demo
from clinic.facility_file import load_facility
from clinic.models import Appointment, AppointmentStaff, Patient, SessionType, Staff
from clinic.tokens import create_token

START = date(2026, 11, 30)  # the demo's Monday (see bench/chat.py)
BUMP_BEFORE = 11  # the bump path's walk-in must be seen before 11:00 (the clock says 10:00)
FIRST = ["Aurelia", "Benedikt", "Calliope", "Dorian", "Evangeline", "Florian", "Guinevere"]
LAST = ["Zabriskie", "Quenneville", "Vanterpool", "Oyelaran", "Pemberton-Hale", "Kowalczyk"]


def walk_in_names(n: int) -> list[str]:
    """Names no demo person has (so the roster's fuzzy matching finds only the new patient)."""
    return [f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}" for i in range(n)]


def booked_solid(db: Database, now: datetime, until: datetime) -> str | None:
    """A clinician who may give intake assessments, has no free hour starting before `until`,
    and whose sessions then are with lower-priority patients (acuity below 5, not pinned), so
    only bumps can make room with them; the one with the most such sessions."""
    hour = timedelta(hours=1)
    with db.read() as session:
        kind = session.get(SessionType, "intake_assessment")
        roles, creds = set(kind.staff_roles or []), set(kind.credentials_any or [])
        best: tuple[int, str] | None = None
        for staff in session.scalars(select(Staff).order_by(Staff.position)):
            if staff.role not in roles or (creds and not creds & set(staff.credentials or [])):
                continue
            rows = session.scalars(
                select(Appointment)
                .join(AppointmentStaff, AppointmentStaff.appointment_id == Appointment.id)
                .where(AppointmentStaff.staff_id == staff.id, Appointment.active)
                .where(Appointment.start < until + hour, Appointment.end > now)
                .order_by(Appointment.start)
            ).all()
            cursor, free = now, False
            for row in rows:
                free = free or (row.start - cursor >= hour and cursor < until)
                cursor = max(cursor, row.end)
            free = free or cursor < until
            ids = {p for row in rows for p in row.patient_ids}
            acuity = dict(
                session.execute(select(Patient.id, Patient.acuity).where(Patient.id.in_(ids))).all()
            )
            movable = all(
                not row.pinned and all((acuity.get(p) or 3) < 5 for p in row.patient_ids)
                for row in rows
            )
            if not free and movable and rows and (best is None or len(rows) > best[0]):
                best = (len(rows), staff.name)
        return best[1] if best else None


class Talker:
    """One person's conversation with Rota over HTTP."""

    def __init__(self, http: httpx.Client, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}
        self.conversation: str | None = None

    def says(self, message: str) -> dict[str, Any]:
        body = {"message": message}
        if self.conversation:
            body["conversation_id"] = self.conversation
        response = self.http.post("/api/chat", json=body, headers=self.headers)
        response.raise_for_status()
        answer = response.json()
        self.conversation = answer["conversation_id"]
        return answer


def admit_and_book(http: httpx.Client, token: str, name: str) -> dict[str, float]:
    """(a): admit over REST, then find and book the assessment in chat; milliseconds each."""
    headers = {"Authorization": f"Bearer {token}"}
    t0 = time.perf_counter()
    admitted = http.post("/api/patients", json={"name": name}, headers=headers)
    if admitted.status_code != 201:
        raise SystemExit(f"admit failed: {admitted.status_code} {admitted.text[:200]}")
    t1 = time.perf_counter()
    talker = Talker(http, token)
    offered = talker.says(f"emergency intake for {name} asap")
    t2 = time.perf_counter()
    if not offered["options"]:
        raise SystemExit(f"no option for {name}: {offered['reply'][:300]}")
    booked = talker.says("book option 1")
    t3 = time.perf_counter()
    if not booked["reply"].startswith("Booked"):
        raise SystemExit(f"not booked for {name}: {booked['reply'][:300]}")
    return {
        "admit": (t1 - t0) * 1000,
        "offer": (t2 - t1) * 1000,
        "book": (t3 - t2) * 1000,
        "total": (t3 - t0) * 1000,
    }


def free_slot_conversation(http: httpx.Client, intake: str) -> dict[str, Any]:
    coordinator = Talker(http, intake)
    t0 = time.perf_counter()
    first = coordinator.says("emergency walk-in, new patient Maria Lopez, needs an assessment now")
    t1 = time.perf_counter()
    if not first["options"]:
        return {"booked": False, "turns": 1, "reply": first["reply"][:300]}
    booked = coordinator.says("book option 1")
    t2 = time.perf_counter()
    return {
        "booked": booked["reply"].startswith("Booked"),
        "turns": 2,
        "wall_ms": round((t2 - t0) * 1000, 1),
        "turn_ms": [round((t1 - t0) * 1000, 1), round((t2 - t1) * 1000, 1)],
        "first_reply": first["reply"].splitlines()[0],
    }


def bump_conversation(http: httpx.Client, intake: str, director: str, clinician: str) -> Any:
    coordinator, approver = Talker(http, intake), Talker(http, director)
    t0 = time.perf_counter()
    first = coordinator.says(
        "emergency walk-in, new patient Rosa Delgado, needs an assessment before "
        f"{BUMP_BEFORE} with {clinician}"
    )
    t1 = time.perf_counter()
    asked = [n for n in first["notify"] if n.get("kind") == "approval_needed"]
    if not asked:
        return {"booked": False, "turns": 1, "reply": first["reply"][-400:]}
    applied = approver.says(f"approve {asked[0]['proposal']}")
    t2 = time.perf_counter()
    return {
        "booked": applied["reply"].startswith("Applied proposal"),
        "turns": 2,
        "wall_ms": round((t2 - t0) * 1000, 1),
        "turn_ms": [round((t1 - t0) * 1000, 1), round((t2 - t1) * 1000, 1)],
        "proposal": first["reply"].split("To make room sooner", 1)[-1].strip()[:400],
        "applied": applied["reply"].splitlines()[0],
    }


def stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 1),
        "p95": round(percentile(values, 0.95), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="admissions measured in (a)")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
    db = open_database(url)
    data = generate_demo("m", seed=7, start=START)
    load_facility(db, data, actor="bench")
    now = datetime.combine(START, clock_time(10, 0), tzinfo=ZoneInfo(data["facility"]["timezone"]))
    with db.session() as session:
        staff = session.execute(select(Staff.id, Staff.role).order_by(Staff.position)).all()
        intake_id = next(s for s, r in staff if r == "intake_coordinator")
        director_id = next(s for s, r in staff if r == "clinical_director")
        intake = create_token(session, intake_id, label="bench")
        director = create_token(session, director_id, label="bench")
    clinician = booked_solid(db, now, now.replace(hour=BUMP_BEFORE))
    db.dispose()
    env = {**os.environ, "ROTA_DATABASE_URL": url, NOW_ENV: now.isoformat()}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.chat:serve_app",
            "--factory",
            "--port",
            str(args.port),
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
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("server did not start")
        with httpx.Client(base_url=base, timeout=60) as http:
            Talker(http, intake).says("help")  # warm-up, not measured
            # (b) first, on the demo as loaded; then (a), which fills the morning.
            free = free_slot_conversation(http, intake)
            bump = (
                bump_conversation(http, intake, director, clinician)
                if clinician
                else {"booked": False, "reason": "no clinician is booked solid"}
            )
            steps: dict[str, list[float]] = {}
            for name in walk_in_names(args.runs):
                for key, value in admit_and_book(http, intake, name).items():
                    steps.setdefault(key, []).append(value)
    finally:
        server.terminate()
        server.wait(timeout=10)
    report = {
        "benchmark": "emergency",
        "facility": "m",
        "now": now.isoformat(),
        "admit_and_first_booking_ms": {
            "runs": args.runs,
            "requests": "POST /api/patients; /api/chat 'emergency intake for NAME asap'; "
            "'book option 1'",
            **{step: stats(values) for step, values in steps.items()},
        },
        "emergency_conversation": {
            "free_slot": free,
            "bump_path": {"clinician": clinician, **bump},
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
