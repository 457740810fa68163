"""The conversation end to end through POST /api/chat, as case managers, therapists and the
clinical director would use it (demo 's' facility; the clock is fixed at Mon 30 Nov 08:30)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from assistant.dialogue import Dialogue
from assistant.reports import utilization
from clinic.db import Database
from clinic.facility_file import load_facility
from clinic.models import Appointment, AppointmentPatient, AuditEvent, Proposal, Staff
from clinic.tokens import create_token
from integrations.http.app import create_app

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=NY)
DIRECTOR, CASE_MANAGER, THERAPIST, FRONT_DESK = "s001", "s006", "c004", "s004"


@pytest.fixture()
def client(demo_db: Database) -> Iterator[TestClient]:
    app = create_app(demo_db, dialogue=Dialogue(demo_db, clock=lambda: NOW))
    with TestClient(app) as test_client:
        yield test_client


class Person:
    """One staff member talking to Rota in one conversation."""

    def __init__(self, client: TestClient, db: Database, staff: str) -> None:
        with db.session() as session:
            self.headers = {"Authorization": f"Bearer {create_token(session, staff)}"}
        self.client = client
        self.conversation: str | None = None
        self.heard: list[dict[str, Any]] = []

    def says(self, message: str) -> dict[str, Any]:
        body: dict[str, Any] = {"message": message}
        if self.conversation:
            body["conversation_id"] = self.conversation
        response = self.client.post("/api/chat", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        answer = response.json()
        self.conversation = answer["conversation_id"]
        self.heard.append(answer)
        return answer


def active_appointments(db: Database, patient: str) -> list[tuple[datetime, list[str]]]:
    with db.session() as session:
        rows = session.scalars(
            select(Appointment)
            .where(Appointment.active)
            .where(Appointment.patient_links.any(patient_id=patient))
        )
        return [(a.start, a.staff_ids) for a in rows]


def test_clarify_offer_confirm_book_undo(client: TestClient, demo_db: Database) -> None:
    cm = Person(client, demo_db, CASE_MANAGER)
    question = cm.says("find an individual slot for Laura tomorrow afternoon")
    assert question["reply"].startswith("Which patient")
    assert "Laura Fox" in question["reply"] and "Laura Hutchinson" in question["reply"]
    assert question["frame"]["patient"]["candidates"]
    offered = cm.says("Laura Fox")
    assert len(offered["options"]) == 3
    starts = [o["start"] for o in offered["options"]]
    assert all(s.startswith("2026-12-01T") and "12:00" <= s[11:16] < "17:00" for s in starts)
    assert [o["score"] for o in offered["options"]] == sorted(
        (o["score"] for o in offered["options"]), reverse=True
    )
    assert all(o["summary"] for o in offered["options"])
    before = len(active_appointments(demo_db, "p0008"))
    booked = cm.says("book option 2")
    assert booked["reply"].startswith("Booked:")
    chosen = offered["options"][1]
    after = active_appointments(demo_db, "p0008")
    assert len(after) == before + 1
    assert (datetime.fromisoformat(chosen["start"]), chosen["staff"]) in after
    undone = cm.says("undo")
    assert undone["reply"].startswith("Undone")
    assert len(active_appointments(demo_db, "p0008")) == before
    assert cm.says("undo")["reply"].startswith("There is nothing to undo")


def test_none_of_those_offers_different_options(client: TestClient, demo_db: Database) -> None:
    cm = Person(client, demo_db, CASE_MANAGER)
    first = cm.says("find a slot for Laura Fox this week")
    second = cm.says("none of those")
    seen = {(o["start"], tuple(o["staff"])) for o in first["options"]}
    assert second["options"] and not seen & {
        (o["start"], tuple(o["staff"])) for o in second["options"]
    }


def test_none_of_those_never_repeats_the_nearest_options(
    client: TestClient, demo_db: Database
) -> None:
    # Erik Dominguez already has his individual session tomorrow: only other days are near.
    cm = Person(client, demo_db, CASE_MANAGER)
    first = cm.says("find a slot for Erik Dominguez with Dr. Mario Hernandez tomorrow")
    assert first["reply"].startswith("Nothing fits in that window") and first["options"]
    second = cm.says("none of those")
    seen = {(o["start"], tuple(o["staff"])) for o in first["options"]}
    assert second["options"], second["reply"]
    assert not seen & {(o["start"], tuple(o["staff"])) for o in second["options"]}


def test_sick_call_is_applied_only_after_approval_and_moves_nothing_outside(
    client: TestClient, demo_db: Database
) -> None:
    therapist, director = Person(client, demo_db, THERAPIST), Person(client, demo_db, DIRECTOR)
    with demo_db.session() as session:
        snapshot = {
            a.id: (a.start, tuple(a.staff_ids), a.room_id)
            for a in session.scalars(select(Appointment).where(Appointment.active))
        }
    told = therapist.says("I'm out sick today")
    assert "appointment(s) affected" in told["reply"] and "for approval" in told["reply"]
    assert any(n["staff"] == DIRECTOR for n in told["notify"])
    with demo_db.session() as session:  # nothing moved before approval
        assert {
            a.id: (a.start, tuple(a.staff_ids), a.room_id)
            for a in session.scalars(select(Appointment).where(Appointment.active))
        } == snapshot
    refused = therapist.says("apply")
    assert "can't" in refused["reply"]
    applied = director.says("apply")
    assert applied["reply"].startswith("Applied proposal")
    end_of_day = datetime(2026, 12, 1, 0, 0, tzinfo=NY)
    with demo_db.session() as session:
        now_rows = {
            a.id: (a.start, tuple(a.staff_ids), a.room_id)
            for a in session.scalars(select(Appointment).where(Appointment.active))
        }
    changed = [i for i in snapshot if now_rows.get(i) != snapshot[i]]
    assert changed, "the therapist had appointments today; some must be re-placed"
    for appointment_id in changed:
        start, staff, _ = snapshot[appointment_id]
        assert THERAPIST in staff and start < end_of_day  # only the absent clinician's, that day
        assert (
            THERAPIST not in now_rows[appointment_id][1]
            or now_rows[appointment_id][0] >= end_of_day
        )
    notified = {n.get("staff") for n in applied["notify"]}
    assert THERAPIST in notified


def test_the_director_picks_another_cover_in_the_chat_and_applies_it(
    client: TestClient, demo_db: Database
) -> None:
    therapist, director = Person(client, demo_db, THERAPIST), Person(client, demo_db, DIRECTOR)
    therapist.says("I'm out sick today")
    menu = director.says("adjust")
    assert menu["reply"].startswith("Adjust proposal")
    [cover, *_] = [a for a in menu["actions"] if a["message"].startswith("cover 1 with")]
    chosen = cover["message"].split()[3]
    proposal = cover["message"].split()[-1]
    with demo_db.session() as session:
        row = session.get(Proposal, proposal)
        first = sorted(
            [*row.payload["moves"], *row.payload["unplaced"]],
            key=lambda e: (e["before"]["start"], e["appointment"]),
        )[0]
    name = cover["label"].split(": ", 1)[1]
    covered = director.says(f"cover 1 with {name}")
    assert f"{name} now covers session 1" in covered["reply"]
    assert covered["actions"][0]["message"] == f"apply {proposal}"
    director.says(f"apply {proposal}")
    with demo_db.session() as session:
        moved = session.get(Appointment, first["appointment"])
        assert moved.staff_ids == [chosen]
        assert moved.start == datetime.fromisoformat(first["before"]["start"])


def test_emergency_intake_offers_the_earliest_safe_slot(
    client: TestClient, demo_db: Database
) -> None:
    cm = Person(client, demo_db, CASE_MANAGER)
    answer = cm.says("emergency intake for Laura Fox asap")
    assert answer["frame"]["intent"] == "emergency_intake"
    assert answer["options"], answer["reply"]
    first = datetime.fromisoformat(answer["options"][0]["start"])
    assert NOW <= first < NOW.replace(hour=12, minute=31)
    starts = [datetime.fromisoformat(o["start"]) for o in answer["options"]]
    assert starts == sorted(starts), "the earliest safe slots come first"
    booked = cm.says("book option 1")
    assert booked["reply"].startswith("Booked:")


def test_summary_numbers_match_a_direct_count(client: TestClient, demo_db: Database) -> None:
    director = Person(client, demo_db, DIRECTOR)
    answer = director.says("how was therapist utilization last week?")
    metrics = answer["options"][0]["metrics"]
    start, end = datetime(2026, 11, 23, tzinfo=NY), datetime(2026, 11, 30, tzinfo=NY)
    with demo_db.session() as session:
        held = session.scalars(
            select(Appointment.status).where(
                Appointment.start >= start,
                Appointment.start < end,
                Appointment.status.in_(("attended", "no_show", "late_cancelled")),
            )
        ).all()
        # Attendance is each participant's own outcome (a group of eight is eight).
        past = session.scalars(
            select(AppointmentPatient.status)
            .join(Appointment)
            .where(
                Appointment.start >= start,
                Appointment.start < end,
                AppointmentPatient.status.in_(("attended", "no_show", "late_cancelled")),
            )
        ).all()
        direct = utilization(session, start, end, NOW)
    assert metrics["sessions_held"] == len(held)
    assert metrics["attendance_rate"] == round(past.count("attended") / len(past), 3)
    no_shows = past.count("no_show")
    assert metrics["no_show_rate"] == round(no_shows / (no_shows + past.count("attended")), 3)
    assert metrics["staff_utilization"] == direct.staff_utilization
    assert f"{metrics['attendance_rate']:.0%}" in answer["reply"]


def test_a_no_show_question_gets_the_no_shows_not_the_utilization(
    client: TestClient, demo_db: Database
) -> None:
    director = Person(client, demo_db, DIRECTOR)
    answer = director.says("summarize no-shows last week")
    assert answer["reply"].startswith("No-shows from Mon 23 Nov")
    assert "booked" not in answer["reply"]  # not the utilization summary
    metrics = answer["options"][0]["metrics"]
    start, end = datetime(2026, 11, 23, tzinfo=NY), datetime(2026, 11, 30, tzinfo=NY)
    with demo_db.session() as session:
        outcomes = session.scalars(
            select(AppointmentPatient.status)
            .join(Appointment)
            .where(Appointment.start >= start, Appointment.start < end)
        ).all()
    assert metrics["no_shows"] == outcomes.count("no_show")
    assert metrics["attended"] == outcomes.count("attended")
    assert metrics["late_cancellations"] == outcomes.count("late_cancelled")
    assert (
        f"{metrics['no_shows']} no-show(s) against {metrics['attended']} attended"
        in (answer["reply"])
    )


def test_roles_are_enforced(client: TestClient, demo_db: Database) -> None:
    front_desk = Person(client, demo_db, FRONT_DESK)
    answer = front_desk.says("how was therapist utilization last week?")
    assert answer["reply"].startswith("Sorry, I can't do that")
    therapist = Person(client, demo_db, THERAPIST)
    other = therapist.says("find a slot for Laura Fox tomorrow")  # Laura Fox is c007's patient
    assert "own caseload" in other["reply"]


def test_two_people_racing_for_one_option(client: TestClient, demo_db: Database) -> None:
    one, two = Person(client, demo_db, CASE_MANAGER), Person(client, demo_db, DIRECTOR)
    first = one.says(
        "find an individual slot for Laura Fox tomorrow afternoon with Esperanza Nevárez"
    )
    second = two.says(
        "find an individual slot for Laura Fox tomorrow afternoon with Esperanza Nevárez"
    )
    assert first["options"][0]["start"] == second["options"][0]["start"]
    results: dict[str, dict[str, Any]] = {}
    barrier = threading.Barrier(2)

    def go(name: str, person: Person) -> None:
        barrier.wait()
        results[name] = person.says("book option 1")

    threads = [threading.Thread(target=go, args=(n, p)) for n, p in (("one", one), ("two", two))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    replies = sorted(r["reply"] for r in results.values())
    assert sum(r.startswith("Booked:") for r in replies) == 1
    loser = next(r for r in results.values() if not r["reply"].startswith("Booked:"))
    assert "no longer free" in loser["reply"] and loser["options"]
    assert not INTERNAL.search(loser["reply"]), loser["reply"]
    with demo_db.session() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "appointment.book")
            )
            == 1
        )


def test_conversations_are_private_and_bad_input_is_a_4xx(
    client: TestClient, demo_db: Database
) -> None:
    cm = Person(client, demo_db, CASE_MANAGER)
    cm.says("help")
    intruder = Person(client, demo_db, THERAPIST)
    intruder.conversation = cm.conversation
    response = client.post(
        "/api/chat",
        json={"message": "undo", "conversation_id": cm.conversation},
        headers=intruder.headers,
    )
    assert response.status_code == 404
    assert client.post("/api/chat", json={"message": ""}, headers=cm.headers).status_code == 422
    assert client.post("/api/chat", json={"nothing": 1}, headers=cm.headers).status_code == 400


def test_a_denial_quotes_the_rule_and_only_the_liaison_may_override(
    client: TestClient, demo_db: Database
) -> None:
    # Erik Dominguez (p0015) is court-ordered to one individual session a week; his is on
    # Tue 1 Dec. The court liaison is the case manager s006.
    director = Person(client, demo_db, DIRECTOR)
    asked = director.says("cancel Erik Dominguez's appointment tomorrow")
    assert asked["reply"].startswith("Cancel individual psychotherapy Tue 01 Dec 15:00")
    denied = director.says("yes")
    assert denied["reply"].startswith("Not allowed")
    assert "CRT-REQUIRED-CANCEL" in denied["reply"] and "court order requires 1" in denied["reply"]
    assert "override: <reason>" in denied["reply"]
    still = director.says("override: the patient is in hospital")
    assert still["reply"].startswith("Not allowed")  # only the liaison may approve it
    liaison = Person(client, demo_db, CASE_MANAGER)
    liaison.says("cancel Erik Dominguez's appointment tomorrow")
    assert liaison.says("yes")["reply"].startswith("Not allowed")
    done = liaison.says("override: the patient is in hospital; judge informed")
    assert done["reply"].startswith("Cancelled:")
    with demo_db.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "appointment.cancel")
        ).one()
        fired = {f["id"]: f for f in event.decision["fired"]}
        assert fired["CRT-REQUIRED-CANCEL"]["overridden"] is True
        assert any("court liaison" in o for o in event.decision["obligations"])


@pytest.mark.parametrize(
    ("staff", "messages", "expect"),
    [
        (THERAPIST, ["what's on my schedule today"], "Your schedule on Mon 30 Nov"),
        (CASE_MANAGER, ["which court-ordered patients are behind?"], "Court orders this week"),
        (CASE_MANAGER, ["help"], "I can:"),
        (CASE_MANAGER, ["blorp the flux capacitor"], "I didn't catch that"),
        (CASE_MANAGER, ["move Laura Fox to Friday morning", "book option 1"], "Moved:"),
        (
            CASE_MANAGER,
            ["find a slot for Laura Fox tomorrow", "never mind", "book option 1"],
            "nothing to confirm",
        ),
    ],
    ids=["schedule-lookup", "compliance-report", "help", "unknown", "reschedule", "never-mind"],
)
def test_every_other_intent(
    client: TestClient, demo_db: Database, staff: str, messages: list[str], expect: str
) -> None:
    person = Person(client, demo_db, staff)
    answer: dict[str, Any] = {}
    for message in messages:
        answer = person.says(message)
    assert expect in answer["reply"], answer["reply"]


def test_reschedule_moves_the_appointment_into_the_window(
    client: TestClient, demo_db: Database
) -> None:
    cm = Person(client, demo_db, CASE_MANAGER)
    offered = cm.says("move Laura Fox to Friday morning")
    assert offered["options"] and all(
        o["start"].startswith("2026-12-04T") and o["start"][11:13] < "12"
        for o in offered["options"]
    )
    moved = cm.says("book option 1")
    assert moved["reply"].startswith("Moved:")
    assert (
        datetime.fromisoformat(offered["options"][0]["start"]),
        offered["options"][0]["staff"],
    ) in active_appointments(demo_db, "p0008")
    back = cm.says("undo")
    assert back["reply"].startswith("Undone")


def test_the_design_cards_example_offers_dual_diagnosis_clinicians(
    client: TestClient, demo_db: Database
) -> None:
    # Melissa Sanchez needs a women's clinician; the demo has one who also treats dual diagnosis.
    cm = Person(client, demo_db, CASE_MANAGER)
    answer = cm.says("find a dual-diagnosis slot for Melissa Sanchez tomorrow")
    assert answer["frame"]["needs"] == ["dual_diagnosis"]
    assert answer["options"], answer["reply"]
    assert "with dual diagnosis" in answer["reply"]
    with demo_db.session() as session:
        for option in answer["options"]:
            assert option["start"].startswith("2026-12-01T")
            for staff in option["staff"]:
                held = set(session.get(Staff, staff).specializations)
                assert {"dual_diagnosis", "womens"} <= held


def test_a_need_someone_has_but_not_for_this_patient_is_not_reported_as_missing(
    client: TestClient, demo_db: Database
) -> None:
    # Laura Fox needs a trauma clinician; the demo's dual-diagnosis clinicians do not treat
    # trauma. The reply must not claim that nobody has dual diagnosis.
    cm = Person(client, demo_db, CASE_MANAGER)
    answer = cm.says("find a dual-diagnosis slot for Laura Fox tomorrow")
    assert not answer["options"]
    assert "no clinician who may provide" not in answer["reply"]
    assert "of the clinicians with dual diagnosis, none may see Laura Fox" in answer["reply"]


def test_a_new_request_while_a_question_is_pending_starts_over(
    client: TestClient, demo_db: Database
) -> None:
    cm = Person(client, demo_db, CASE_MANAGER)
    assert cm.says("find a dual-diagnosis slot for Laura tomorrow")["reply"].startswith(
        "Which patient"
    )
    fresh = cm.says("find a slot for Laura Fox tomorrow afternoon")
    assert fresh["frame"]["needs"] == [] and fresh["frame"]["patient"]["id"] == "p0008"
    assert fresh["options"], fresh["reply"]  # Laura Fox's own clinicians, no dual diagnosis asked
    assert "dual diagnosis" not in fresh["reply"]
    assert all(
        o["start"].startswith("2026-12-01T") and "12:00" <= o["start"][11:16] < "17:00"
        for o in fresh["options"]
    )
    # The old question is gone: a bare name now answers nothing.
    assert cm.says("Laura Hutchinson")["reply"].startswith("I didn't catch that")
    # A bare name still answers a question that is pending.
    assert cm.says("find a slot for Laura next week")["reply"].startswith("Which patient")
    answered = cm.says("Laura Hutchinson")
    assert answered["options"] and answered["frame"]["patient"]["id"] == "p0014"


# What a reply must not show: internal ids of patients (p0012), staff (c004, s001), demo
# appointments (a00237) and booked ones (appt-...), groups (g01), rooms (ind-2), conversations,
# snake_case ids (session types, needs, statuses) and the solver's costs and scores.
# Proposal ids (P-2dbeda) and rule ids (CRT-REQUIRED-CANCEL) stay: people type and quote them.
INTERNAL = re.compile(
    r"\b(p\d{4}|[cs]\d{3}|a\d{5}|appt-[0-9a-f]+|g\d{2}|[a-z]{3}-\d+|conv-[0-9a-f]+)\b"
    r"|\b[a-z]+_[a-z_]+\b|\bcost\b|\bscore\b"
)


def test_replies_of_every_intent_show_names_not_ids(client: TestClient, demo_db: Database) -> None:
    cm, director = Person(client, demo_db, CASE_MANAGER), Person(client, demo_db, DIRECTOR)
    therapist, desk = Person(client, demo_db, THERAPIST), Person(client, demo_db, FRONT_DESK)
    for person, message in [
        (cm, "find a dual-diagnosis slot for Laura tomorrow"),
        (cm, "Laura Fox"),
        (cm, "find a slot for Laura Fox tomorrow afternoon"),
        (cm, "none of those"),
        (cm, "book option 1"),
        (cm, "undo"),
        (cm, "find a slot for Laura Fox yesterday"),
        (cm, "find a slot for Laura Fox tomorrow"),
        (cm, "never mind"),
        (cm, "book option 1"),
        (cm, "cancel Laura Fox's appointment on Friday"),
        (cm, "no"),
        (cm, "cancel Laura Fox's appointment on Friday"),
        (cm, "yes"),
        (cm, "undo"),
        (cm, "move Laura Fox to Friday morning"),
        (cm, "book option 1"),
        (cm, "undo"),
        (cm, "Laura Fox's schedule this week"),
        (cm, "emergency intake for Laura Fox today at 10am"),
        (cm, "which court-ordered patients are behind?"),
        (cm, "help"),
        (cm, "blorp the flux capacitor"),
        (director, "cancel Erik Dominguez's appointment tomorrow"),
        (director, "yes"),
        (director, "override: the patient is in hospital"),
        (director, "how was therapist utilization last week?"),
        (therapist, "what's on my schedule today"),
        (therapist, "find a slot for Laura Fox tomorrow"),
        (therapist, "I'm out sick today"),
        (therapist, "apply"),
        (director, "pending"),
        (director, "apply"),
        (therapist, "I'm out sick tomorrow"),
        (director, "reject"),
        (desk, "Brian Romero's schedule this week"),
        (desk, "how was therapist utilization last week?"),
    ]:
        person.says(message)
    intents = {
        a["frame"]["intent"] for p in (cm, director, therapist, desk) for a in p.heard if a["frame"]
    }
    assert intents >= {
        "find_slot", "confirm", "decline", "cancel", "reschedule", "schedule_lookup",
        "emergency_intake", "compliance_report", "utilization_summary", "staff_unavailable",
        "help", "unknown",
    }  # fmt: skip
    shown = [
        text
        for person in (cm, director, therapist, desk)
        for answer in person.heard
        for text in (answer["reply"], *(a["label"] for a in answer["actions"]))
    ]
    assert [t for t in shown if INTERNAL.search(t)] == []


def test_emergency_suggestions_name_clinicians_and_times(db: Database) -> None:
    # One therapist, booked back to back all morning with low-acuity patients: nothing fits
    # an emergency intake before noon unless one of them moves.
    week = {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    load_facility(
        db,
        {
            "version": 1,
            "facility": {"name": "Small Clinic", "timezone": "America/New_York"},
            "rooms": [
                {"id": "ind-1", "name": "Office 1", "kind": "individual", "capacity": 2},
                {"id": "ind-2", "name": "Office 2", "kind": "individual", "capacity": 2},
            ],
            "staff": [
                {
                    "id": "t1",
                    "name": "Tara Quinn",
                    "role": "therapist",
                    "credentials": ["LCSW"],
                    "availability": week,
                },
                {"id": "cm1", "name": "Casey Moore", "role": "case_manager"},
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
                    "staff": ["t1"],
                    "patients": [f"p{i}"],
                    "room": "ind-1",
                    "status": "booked",
                }
                for i in range(2, 6)
            ],
        },
    )
    app = create_app(db, dialogue=Dialogue(db, clock=lambda: NOW))
    with TestClient(app) as test_client:
        answer = Person(test_client, db, "cm1").says("emergency intake for Ada Stone asap")
    reply = answer["reply"]
    assert "lower-priority sessions could move" in reply, reply
    assert "Tara Quinn's individual psychotherapy at 09:00" in reply
    assert not re.search(r"\b(t1|a[2-5]|p[1-5])\b|cost|Patient Number", reply), reply


def test_an_undo_a_rule_refuses_can_be_overridden(client: TestClient, demo_db: Database) -> None:
    # Melissa Sanchez (p0007) is below her IOP band this week, so undoing a booking for her is a
    # cancellation LOC-BELOW-BAND refuses unless someone clinical gives a reason.
    director = Person(client, demo_db, DIRECTOR)
    director.says("find a slot for Melissa Sanchez tomorrow")
    before = len(active_appointments(demo_db, "p0007"))
    assert director.says("book option 1")["reply"].startswith("Booked:")
    refused = director.says("undo")
    assert refused["reply"].startswith("Not allowed") and "LOC-BELOW-BAND" in refused["reply"]
    assert "override: <reason>" in refused["reply"]
    done = director.says("override: booked by mistake")
    assert done["reply"].startswith("Undone"), done["reply"]
    assert len(active_appointments(demo_db, "p0007")) == before
