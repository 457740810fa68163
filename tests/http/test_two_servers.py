"""Two real `rota serve` processes on one PostgreSQL database (issue 18's first "done means"):
the same slot raced through both gives one booking, a person holding a stale option is told it
was just taken and offered new ones, a conversation started on one server goes on on the other,
and a slot search on one server right after a booking on the other does not offer the taken
time. Nothing correct lives in one process's memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clinic.db import Database
from clinic.models import Appointment
from clinic.tokens import create_token

# Two server processes each import spaCy, Presidio and OR-Tools: minutes on a loaded machine.
pytestmark = pytest.mark.timeout(900)
ROOT = Path(__file__).resolve().parents[2]
CASE_MANAGER, DIRECTOR = "s006", "s001"
LAURA = "p0008"  # Laura Fox, on the case manager's caseload
ASK = "find a slot for Laura Fox next week"
STARTUP_SECONDS = (
    600  # two CLI processes import spaCy, Presidio, OR-Tools: minutes on a loaded machine
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def servers(pg_demo_db: Database, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two `rota serve` processes on the test's PostgreSQL database: their base URLs."""
    env = {
        **os.environ,
        "ROTA_DATABASE_URL": pg_demo_db.url,
        "ROTA_SCHEDULER": "off",  # jobs are not this test's; nothing else runs in them
        "ROTA_SOLVER_WORKERS": "1",  # one worker and a fixed seed: both servers answer alike
        "PYTHONPATH": str(ROOT),
    }
    processes, bases = [], []
    for name in ("a", "b"):
        port = free_port()
        log = (tmp_path / f"server-{name}.log").open("w")
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "integrations.cli.main", "serve", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        for process, base in zip(processes, bases, strict=True):
            while True:
                assert process.poll() is None, (tmp_path / "server-a.log").read_text()[-2000:]
                try:
                    if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "a server did not become ready"
                time.sleep(0.5)
        yield bases[0], bases[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Person:
    def __init__(self, db: Database, staff: str) -> None:
        with db.session() as session:
            self.headers = {"Authorization": f"Bearer {create_token(session, staff)}"}
        self.conversation: str | None = None

    def says(self, base: str, message: str) -> dict[str, Any]:
        body: dict[str, Any] = {"message": message}
        if self.conversation:
            body["conversation_id"] = self.conversation
        answer = httpx.post(f"{base}/api/chat", json=body, headers=self.headers, timeout=120)
        assert answer.status_code == 200, answer.text
        self.conversation = answer.json()["conversation_id"]
        return answer.json()


def offered(answer: dict[str, Any]) -> set[tuple[str, tuple[str, ...]]]:
    return {(o["start"], tuple(o["staff"])) for o in answer["options"]}


def laura_at(db: Database, start: str) -> int:
    from datetime import datetime

    with db.read() as session:
        rows = session.scalars(
            select(Appointment)
            .where(Appointment.active)
            .where(Appointment.start == datetime.fromisoformat(start))
            .where(Appointment.patient_links.any(patient_id=LAURA))
        )
        return len(list(rows))


def test_two_servers_one_database(servers: tuple[str, str], pg_demo_db: Database) -> None:
    a, b = servers
    db = pg_demo_db
    director = Person(db, DIRECTOR)
    on_b = director.says(b, ASK)  # B's problem cache is warm from here on
    case_manager = Person(db, CASE_MANAGER)
    on_a = case_manager.says(a, ASK)
    assert on_a["options"] and on_b["options"], on_a["reply"]
    first = on_a["options"][0]
    assert (first["start"], tuple(first["staff"])) in offered(on_b)  # the same answer on both

    # The same slot through both servers at once: one booking, the other 409 in words.
    body = {
        "patients": [LAURA],
        "staff": first["staff"],
        "session_type": on_a["frame"].get("session_type") or "individual",  # the chat's default
        "start": first["start"],
        "reason": "the race",
    }
    bearer = director.headers
    barrier = threading.Barrier(2)
    statuses: dict[str, httpx.Response] = {}

    def book(base: str) -> None:
        barrier.wait()
        statuses[base] = httpx.post(
            f"{base}/api/appointments", json=body, headers=bearer, timeout=120
        )

    racers = [threading.Thread(target=book, args=(base,)) for base in (a, b)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    codes = sorted(r.status_code for r in statuses.values())
    assert codes == [201, 409], [r.text for r in statuses.values()]
    lost = next(r for r in statuses.values() if r.status_code == 409)
    assert "taken" in lost.json()["detail"] or "already has" in lost.json()["detail"]
    assert laura_at(db, first["start"]) == 1

    # The case manager still holds that option (offered on A) and goes on on B: told it was
    # just taken, offered new options without it, and books one of those on B.
    stale = case_manager.says(b, "book option 1")
    assert stale["reply"].startswith("That option is no longer free"), stale["reply"]
    assert stale["options"] and (first["start"], tuple(first["staff"])) not in offered(stale)
    booked = case_manager.says(b, "book option 1")
    assert booked["reply"].startswith("Booked:"), booked["reply"]
    second = stale["options"][0]
    assert laura_at(db, second["start"]) == 1

    # A booking on A, then a search on B (its cache built before both bookings): none of the
    # taken times is offered.
    # (another day's: the payers' rule allows one individual session a day)
    days = {first["start"][:10], second["start"][:10]}
    free = [o for o in on_b["options"] if o["start"][:10] not in days]
    if free:
        third = {**body, "staff": free[0]["staff"], "start": free[0]["start"]}
        made = httpx.post(f"{a}/api/appointments", json=third, headers=bearer, timeout=120)
        assert made.status_code == 201, made.text
    again = Person(db, DIRECTOR).says(b, ASK)
    taken = {first["start"], second["start"], *(o["start"] for o in free[:1])}
    assert again["options"] and not taken & {o["start"] for o in again["options"]}
