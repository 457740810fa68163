"""An emergency admission with no free slot in time, through POST /api/chat: the bumps that
make room become a stored proposal, the clinical director approves it in one step, and it is
applied all or nothing, exactly once (a small clinic: one therapist booked all morning)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from assistant import callers
from assistant.dialogue import Dialogue
from assistant.usecases import absences
from clinic.booking import BookingRequest, BookingService
from clinic.db import Database
from clinic.errors import BookingConflict, InvalidInput
from clinic.facility_file import load_facility
from clinic.models import Appointment, AuditEvent, Patient, Proposal, Staff
from integrations.http.app import create_app
from tests.http.test_chat import NOW, NY, Person

WEEK = {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
INTAKE, DIRECTOR, DEPUTY, THERAPIST = "ic1", "cd1", "cd2", "t1"


def small_clinic() -> dict[str, Any]:
    """Tara Quinn is the only clinician who can assess; she is booked 09:00-12:45 with
    low-acuity patients, so nothing fits an emergency assessment before 12:30 unless one moves."""
    return {
        "version": 1,
        "facility": {"name": "Small Clinic", "timezone": "America/New_York"},
        "rooms": [
            {"id": "ind-1", "name": "Office 1", "kind": "individual", "capacity": 2},
            {"id": "ind-2", "name": "Office 2", "kind": "individual", "capacity": 2},
        ],
        "staff": [
            {
                "id": THERAPIST,
                "name": "Tara Quinn",
                "role": "therapist",
                "credentials": ["LCSW"],
                "availability": WEEK,
            },
            {"id": INTAKE, "name": "Ines Cole", "role": "intake_coordinator"},
            {"id": DIRECTOR, "name": "Dana Reyes", "role": "clinical_director"},
            {"id": DEPUTY, "name": "Omar Diaz", "role": "clinical_director"},
        ],
        "patients": [
            {"id": "p1", "name": "Ada Stone", "acuity": 5},
            *({"id": f"p{i}", "name": f"Patient Number{i}", "acuity": 1} for i in range(2, 6)),
        ],
        "appointments": [
            {
                "id": f"a{i}",
                "session_type": "individual",
                "start": f"2026-11-30T{7 + i:02d}:00:00-05:00",
                "minutes": 45,
                "staff": [THERAPIST],
                "patients": [f"p{i}"],
                "room": "ind-1",
                "status": "booked",
            }
            for i in range(2, 6)
        ],
    }


@pytest.fixture()
def clinic(db: Database) -> Database:
    load_facility(db, small_clinic())
    return db


@pytest.fixture()
def client(clinic: Database) -> Iterator[TestClient]:
    app = create_app(clinic, dialogue=Dialogue(clinic, clock=lambda: NOW))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(params=["sqlite", "postgresql"])
def any_clinic(request: pytest.FixtureRequest) -> Database:
    """The small clinic on both databases (the claim and the rollback are the database's)."""
    db: Database = request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")
    load_facility(db, small_clinic())
    return db


@pytest.fixture()
def any_client(any_clinic: Database) -> Iterator[TestClient]:
    app = create_app(any_clinic, dialogue=Dialogue(any_clinic, clock=lambda: NOW))
    with TestClient(app) as test_client:
        yield test_client


def schedule(db: Database) -> dict[str, tuple[datetime, tuple[str, ...], str | None, bool]]:
    with db.read() as session:
        return {
            a.id: (a.start, tuple(a.staff_ids), a.room_id, a.active)
            for a in session.scalars(select(Appointment))
        }


def assessments(db: Database, patient: str) -> list[tuple[datetime, list[str]]]:
    with db.read() as session:
        rows = session.scalars(
            select(Appointment)
            .where(Appointment.active, Appointment.session_type_id == "intake_assessment")
            .where(Appointment.patient_links.any(patient_id=patient))
        )
        return [(a.start, a.staff_ids) for a in rows]


def count(db: Database, action: str) -> int:
    with db.read() as session:
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        return int(session.scalar(query) or 0)


def ask_for_room(client: TestClient, db: Database) -> tuple[dict[str, Any], str]:
    """The intake coordinator asks; the answer proposes bumps and names the proposal."""
    answer = Person(client, db, INTAKE).says("emergency intake for Ada Stone asap")
    [proposal] = [n["proposal"] for n in answer["notify"] if n["kind"] == "approval_needed"][:1]
    return answer, proposal


def test_no_free_slot_ends_in_an_approved_bump_proposal(
    client: TestClient, clinic: Database
) -> None:
    before = schedule(clinic)
    answer, pid = ask_for_room(client, clinic)
    with clinic.read() as session:
        proposal = session.get(Proposal, pid)
        assert proposal.status == "pending" and proposal.kind == "emergency"
        moves, slot = proposal.payload["moves"], proposal.payload["slot"]
    start = datetime.fromisoformat(slot["start"]).astimezone(NY)
    assert NOW <= start < NOW.replace(hour=12, minute=30), "sooner than any free slot"
    reply = answer["reply"]
    for move in moves:
        was = datetime.fromisoformat(move["before"]["start"]).astimezone(NY)
        to = datetime.fromisoformat(move["after"]["start"]).astimezone(NY)
        assert f"- move Tara Quinn's appointment at {was:%H:%M} to {to:%a %H:%M}" in reply, reply
    assert (
        f"then book Ada Stone's alcohol and drug assessment (intake) at {start:%a %H:%M} with "
        "Tara Quinn in Office 1." in reply
    ), reply
    assert "Patient Number" not in reply and "for approval" in reply
    # Both clinical directors are asked; nothing has moved yet.
    assert {n["staff"] for n in answer["notify"]} == {DIRECTOR, DEPUTY}
    assert schedule(clinic) == before and not assessments(clinic, "p1")
    refused = Person(client, clinic, INTAKE).says(f"approve {pid}")
    assert "can't" in refused["reply"] and schedule(clinic) == before

    applied = Person(client, clinic, DIRECTOR).says("approve")
    assert applied["reply"].startswith(
        f"Applied proposal {pid}: {len(moves)} session(s) moved; booked Ada Stone's"
    ), applied
    assert assessments(clinic, "p1") == [(start, [THERAPIST])]
    with clinic.read() as session:
        proposal = session.get(Proposal, pid)
        assert proposal.status == "applied" and proposal.decided_by == DIRECTOR
    after = schedule(clinic)
    for move in moves:
        assert after[move["appointment"]][0] == datetime.fromisoformat(move["after"]["start"])
    changed = {i for i in before if after[i] != before[i]}
    assert changed == {m["appointment"] for m in moves}, "only the bumped sessions changed"
    told = {n.get("staff") or n.get("patient") for n in applied["notify"]}
    assert {THERAPIST, *(p for m in moves for p in m["before"]["patients"])} <= told


def test_approving_twice_applies_once(client: TestClient, clinic: Database) -> None:
    _, pid = ask_for_room(client, clinic)
    director = Person(client, clinic, DIRECTOR)
    assert director.says(f"apply proposal {pid}")["reply"].startswith("Applied proposal")
    again = director.says(f"approve {pid}")
    assert again["reply"] == f"Proposal {pid} was already applied."
    assert len(assessments(clinic, "p1")) == 1
    with clinic.read() as session:
        moves = session.get(Proposal, pid).payload["moves"]
    assert count(clinic, "proposal.apply") == 1
    assert count(clinic, "appointment.move") == len(moves)


def test_two_directors_at_once_apply_it_exactly_once(
    any_client: TestClient, any_clinic: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, clinic = any_client, any_clinic
    _, pid = ask_for_room(client, clinic)
    # Both are let into the moves together if the code allows it.
    arrived = threading.Barrier(2, timeout=1.0)
    move_many = BookingService.move_many

    def meet_then_move(self: BookingService, *args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait()
        return move_many(self, *args, **kwargs)

    monkeypatch.setattr(BookingService, "move_many", meet_then_move)
    start = threading.Barrier(2)
    results: dict[str, Any] = {}

    def approve(staff_id: str) -> None:
        approver = callers.for_staff(clinic, staff_id)
        start.wait()
        try:
            results[staff_id] = absences.apply_proposal(
                clinic, approver, absences.ApplyProposal(pid)
            )
        except (InvalidInput, BookingConflict) as exc:
            results[staff_id] = exc

    threads = [threading.Thread(target=approve, args=(s,)) for s in (DIRECTOR, DEPUTY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [r for r in results.values() if isinstance(r, Exception)]
    assert len(refused) == 1 and "already applied" in str(refused[0]), results
    assert len(assessments(clinic, "p1")) == 1 and count(clinic, "proposal.apply") == 1


def test_a_conflict_at_apply_rolls_back_everything(
    any_client: TestClient, any_clinic: Database
) -> None:
    client, clinic = any_client, any_clinic
    _, pid = ask_for_room(client, clinic)
    with clinic.read() as session:
        slot = session.get(Proposal, pid).payload["slot"]
    # Meanwhile Ada is booked with the director at the assessment's time (outside the rules:
    # the point is only that her time is taken): the moves would succeed, the booking cannot.
    BookingService(clinic).book(
        "test",
        BookingRequest(
            session_type="individual",
            start=datetime.fromisoformat(slot["start"]),
            staff=[DIRECTOR],
            patients=["p1"],
            room="ind-2",
        ),
    )
    before = schedule(clinic)
    moves_before = count(clinic, "appointment.move")
    director = Person(client, clinic, DIRECTOR)
    rest = client.post(f"/api/proposals/{pid}/apply", headers=director.headers)
    assert rest.status_code == 409 and "nothing was changed" in rest.json()["detail"]
    failed = director.says("approve")
    assert f"Proposal {pid} no longer fits the schedule" in failed["reply"], failed
    assert "nothing was changed" in failed["reply"]
    assert schedule(clinic) == before and not assessments(clinic, "p1")
    assert count(clinic, "appointment.move") == moves_before
    with clinic.read() as session:
        assert session.get(Proposal, pid).status == "pending"
    # Set aside, it is decided: nothing changes and it cannot be applied any more.
    rejected = Person(client, clinic, DIRECTOR).says(f"reject {pid}")
    assert "set aside" in rejected["reply"]
    assert "already rejected" in Person(client, clinic, DEPUTY).says(f"apply {pid}")["reply"]


def test_a_bumped_session_moved_since_is_a_conflict(client: TestClient, clinic: Database) -> None:
    _, pid = ask_for_room(client, clinic)
    with clinic.read() as session:
        moved = session.get(Proposal, pid).payload["moves"][0]
    BookingService(clinic).cancel("test", moved["appointment"], reason="patient called off")
    before = schedule(clinic)
    failed = Person(client, clinic, DIRECTOR).says(f"apply {pid}")
    assert "has changed since" in failed["reply"] and schedule(clinic) == before


def test_the_director_sees_it_waiting_and_cannot_adjust_it(
    client: TestClient, clinic: Database
) -> None:
    _, pid = ask_for_room(client, clinic)
    director = Person(client, clinic, DIRECTOR)
    waiting = director.says("pending")
    assert "Emergency admission of Ada Stone" in waiting["reply"]
    assert {"label": f"Apply {pid}", "message": f"apply {pid}"} in waiting["actions"]
    assert "apply or reject it" in director.says(f"withdraw {pid}")["reply"]


def test_the_clinical_director_asking_gets_the_approve_button(
    client: TestClient, clinic: Database
) -> None:
    director = Person(client, clinic, DIRECTOR)
    answer = director.says("emergency intake for Ada Stone asap")
    approve = next(a for a in answer["actions"] if a["label"] == "Approve")
    done = director.says(approve["message"])
    assert done["reply"].startswith("Applied proposal"), done
    assert len(assessments(clinic, "p1")) == 1


def test_the_rest_door_applies_it_once_through_the_same_use_case(
    client: TestClient, clinic: Database
) -> None:
    _, pid = ask_for_room(client, clinic)
    intake, director = Person(client, clinic, INTAKE), Person(client, clinic, DIRECTOR)
    listed = client.get("/api/proposals", headers=director.headers).json()["proposals"]
    assert [(p["id"], p["kind"], p["patient"]) for p in listed] == [(pid, "emergency", "p1")]
    url = f"/api/proposals/{pid}/apply"
    assert client.post(url, headers=intake.headers).status_code == 403
    applied = client.post(url, headers=director.headers)
    assert applied.status_code == 200, applied.text
    outcome = applied.json()
    assert outcome["booked"]["patient"] == "p1" and outcome["kind"] == "emergency"
    again = client.post(url, headers=director.headers)
    assert again.status_code == 422 and "already applied" in again.json()["detail"]
    assert len(assessments(clinic, "p1")) == 1 and count(clinic, "proposal.apply") == 1


def patient_named(db: Database, name: str) -> tuple[str, str | None, int | None] | None:
    """(id, phase, acuity) of the patient called `name`."""
    with db.read() as session:
        row = session.scalars(select(Patient).where(Patient.name == name)).first()
        return (row.id, row.phase, row.acuity) if row else None


def test_a_new_walk_in_with_no_free_slot_ends_in_an_approved_bump_proposal(
    client: TestClient, clinic: Database
) -> None:
    """The issue's case, in one conversation: admit, no free slot, bumps, one-step approval."""
    coordinator, director = Person(client, clinic, INTAKE), Person(client, clinic, DIRECTOR)
    first = coordinator.says("emergency walk-in, new patient Maria Lopez, needs an assessment now")
    reply = first["reply"]
    assert reply.startswith("Admitted Maria Lopez as a new patient (phase intake)."), reply
    found = patient_named(clinic, "Maria Lopez")
    assert found is not None and found[1:] == ("intake", 5)
    maria = found[0]
    assert first["frame"]["patient"] == {"text": "Maria Lopez", "id": maria}
    assert "then book Maria Lopez's alcohol and drug assessment (intake) at Mon " in reply
    [pid] = {n["proposal"] for n in first["notify"] if n["kind"] == "approval_needed"}
    applied = director.says("approve")
    assert applied["reply"].startswith(f"Applied proposal {pid}: "), applied
    assert "booked Maria Lopez's alcohol and drug assessment (intake)" in applied["reply"]
    [(start, staff)] = assessments(clinic, maria)
    assert NOW <= start < NOW.replace(hour=12, minute=30) and staff == [THERAPIST]
    with clinic.read() as session:
        admitted = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "patient.admit")
        ).one()
        assert admitted.actor == INTAKE and admitted.entity_id == maria


def test_a_new_walk_in_with_a_free_slot_is_booked_in_two_turns(demo_db: Database) -> None:
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    with TestClient(app) as test_client:
        coordinator = Person(test_client, demo_db, "s002")  # the demo's intake coordinator
        first = coordinator.says(
            "emergency walk-in, new patient Maria Lopez, needs an assessment now"
        )
        assert first["reply"].startswith("Admitted Maria Lopez as a new patient"), first
        starts = [datetime.fromisoformat(o["start"]) for o in first["options"]]
        assert starts and NOW <= starts[0] < NOW.replace(hour=12, minute=30), first["reply"]
        assert not any(n["kind"] == "approval_needed" for n in first["notify"])
        booked = coordinator.says("book option 1")
    assert booked["reply"].startswith("Booked:"), booked
    maria = patient_named(demo_db, "Maria Lopez")
    assert maria is not None and assessments(demo_db, maria[0])[0][0] == starts[0]


def test_a_role_that_may_not_admit_admits_nobody(client: TestClient, clinic: Database) -> None:
    with clinic.session() as session:  # front desk: books and checks in, admits nobody
        session.add(Staff(id="fd1", name="Frank Desk", role="front_desk", position=99))
    answer = Person(client, clinic, "fd1").says("walk-in, new patient Maria Lopez, assessment now")
    assert "can't" in answer["reply"] and patient_named(clinic, "Maria Lopez") is None


def test_a_walk_in_without_a_name_is_asked_for_it_and_nothing_else(
    client: TestClient, clinic: Database
) -> None:
    coordinator = Person(client, clinic, INTAKE)
    asked = coordinator.says("emergency walk-in, new patient, needs an assessment now")
    assert asked["reply"] == "What is the new patient's name?"
    assert patient_named(clinic, "Maria Lopez") is None
    answer = coordinator.says("her name is Maria Lopez")
    assert answer["reply"].startswith("Admitted Maria Lopez as a new patient"), answer
    assert any(n["kind"] == "approval_needed" for n in answer["notify"])


def test_what_else_the_walk_in_request_says_is_kept_on_admission(
    client: TestClient, clinic: Database
) -> None:
    answer = Person(client, clinic, INTAKE).says(
        "new patient Maria Lopez, IOP, needs an emergency assessment now"
    )
    assert answer["frame"]["intent"] == "emergency_intake", answer["frame"]
    assert answer["reply"].startswith("Admitted Maria Lopez"), answer["reply"]
    with clinic.read() as session:
        maria = session.scalars(select(Patient).where(Patient.name == "Maria Lopez")).one()
        assert (maria.level_of_care, maria.phase) == ("2.1", "intake")


def test_a_bump_that_cancels_is_cancelled_with_its_reason(
    client: TestClient, clinic: Database
) -> None:
    """When a bumped session has nowhere to go, the proposal cancels it (with the reason)."""
    _, pid = ask_for_room(client, clinic)
    with clinic.session() as session:
        row = session.get(Proposal, pid)
        payload = dict(row.payload)
        payload["cancel"] = [
            {"appointment": m["appointment"], "before": m["before"], "reason": "no room"}
            for m in payload["moves"]
        ]
        payload["moves"] = []
        row.payload = payload
    cancelled = {c["appointment"] for c in payload["cancel"]}
    waiting = Person(client, clinic, DIRECTOR).says("pending")["reply"]
    assert waiting.count("- cancel Tara Quinn's individual psychotherapy at ") == len(cancelled)
    applied = Person(client, clinic, DIRECTOR).says("approve")
    assert f"0 session(s) moved, {len(cancelled)} cancelled" in applied["reply"], applied
    with clinic.read() as session:
        for appointment_id in cancelled:
            row = session.get(Appointment, appointment_id)
            assert row.status == "cancelled" and f"proposal {pid}" in (row.change_reason or "")
    assert len(assessments(clinic, "p1")) == 1
