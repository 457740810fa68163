"""The morning cycle on demo 's', Tuesday 1 Dec 2026 06:00 in New York: each section of the
exception report against the database (with the situations crafted: a clinician out, a room
closed, a session without its room, a court-ordered patient behind, an authorization ending and
one ended), the plan kept as a proposal (nothing moves), applied by the director in one step,
and the day's messages owed once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant import callers, morning_report
from assistant.dialogue import Dialogue
from assistant.jobs import morning, run_due, run_job
from assistant.reports import review_week
from assistant.usecases import absences, attendance
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.models import (
    SCHEDULED_STATUSES,
    Appointment,
    Authorization,
    CourtOrder,
    Proposal,
    RoomUnavailability,
    SessionType,
    Staff,
    StaffUnavailability,
)
from clinic.outbox_models import OutboxMessage
from clinic.timeutil import day_bounds
from integrations.cli.main import run as rota
from tests.assistant.conftest import NY

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=NY)
TODAY = NOW.date()
DAY = day_bounds(TODAY, NY)
QUICK = morning.Settings(seconds=3)


def _today(db: Database) -> list[SimpleNamespace]:
    """Today's sessions still booked, in start order, as plain values."""
    with db.read() as session:
        rows = session.scalars(
            select(Appointment)
            .where(
                Appointment.start >= DAY[0],
                Appointment.start < DAY[1],
                Appointment.status.in_(SCHEDULED_STATUSES),
            )
            .order_by(Appointment.start, Appointment.id)
        ).all()
        return [
            SimpleNamespace(
                id=a.id,
                staff_ids=list(a.staff_ids),
                patient_ids=list(a.patient_ids),
                room_id=a.room_id,
                session_type_id=a.session_type_id,
            )
            for a in rows
        ]


def craft(db: Database) -> dict[str, Any]:
    """The situations the report must find; returns what was done, by id."""
    today = _today(db)
    with db.session() as session:
        needs_room = {
            t.id for t in session.scalars(select(SessionType)) if t.room_kinds
        }  # a session of these without a room is an exception
        absent_staff = today[0].staff_ids[0]
        session.add(
            StaffUnavailability(staff_id=absent_staff, start=DAY[0], end=DAY[1], reason="flu")
        )
        room = next(a.room_id for a in today if a.room_id and absent_staff not in a.staff_ids)
        session.add(RoomUnavailability(room_id=room, start=DAY[0], end=DAY[1], reason="leak"))
        roomless = next(
            a
            for a in today
            if a.room_id not in (None, room)
            and absent_staff not in a.staff_ids
            and a.session_type_id in needs_room
        )
        session.get(Appointment, roomless.id).room_id = None
        ending = session.scalars(
            select(Authorization).where(Authorization.end > TODAY + timedelta(days=14))
        ).first()
        ending.end = TODAY + timedelta(days=2)  # Thursday: 2 business days left (AUTH-ENDING 5)
        ending_id = ending.id
        order = session.scalars(select(CourtOrder)).first()
        court_patient = order.patient_id
        court_type = order.requirements[0].session_type_id
    # An authorization that ended on Monday, with the patient's sessions still booked after it.
    with db.read() as session:
        later = session.scalars(
            select(Appointment).where(
                Appointment.start >= DAY[1], Appointment.status.in_(SCHEDULED_STATUSES)
            )
        ).all()
        auths = session.scalars(select(Authorization)).all()
        lapsing = next(
            (x.pk, x.id, a.id)
            for a in later
            for x in auths
            if x.patient_id in a.patient_ids
            and a.session_type_id in x.session_types
            and x.id != ending_id
            and x.patient_id != court_patient
        )
    with db.session() as session:
        row = session.get(Authorization, lapsing[0])
        row.end = TODAY - timedelta(days=1)
        for other in session.scalars(
            select(Authorization).where(
                Authorization.patient_id == row.patient_id, Authorization.pk != row.pk
            )
        ):
            other.end = TODAY - timedelta(days=1)  # no other authorization covers the sessions
    # The court-ordered patient's sessions of the required type this week, cancelled.
    week = day_bounds(TODAY - timedelta(days=TODAY.weekday()), NY)[0]
    with db.read() as session:
        theirs = [
            a.id
            for a in session.scalars(
                select(Appointment).where(
                    Appointment.start >= week,
                    Appointment.start < week + timedelta(days=7),
                    Appointment.session_type_id == court_type,
                    Appointment.status.in_(SCHEDULED_STATUSES),
                )
            )
            if court_patient in a.patient_ids
        ]
    with db.session() as session:  # cancelled outside Rota (the rules would ask for a reason)
        for appointment_id in theirs:
            row = session.get(Appointment, appointment_id)
            row.status, row.active = "cancelled", False
            for link in [*row.staff_links, *row.patient_links]:
                link.active = False
    return {
        "absent": absent_staff,
        "room": room,
        "roomless": roomless.id,
        "ending": ending_id,
        "lapsed": lapsing[1],
        "lapsed_session": lapsing[2],
        "court": (court_patient, court_type),
    }


@pytest.fixture()
def crafted(demo_db: Database, set_now: Callable[[datetime], None]) -> dict[str, Any]:
    set_now(NOW)
    return craft(demo_db)


def test_each_section_of_the_morning_report_is_counted_from_the_database(
    demo_db: Database, crafted: dict[str, Any]
) -> None:
    report = morning_report.build(demo_db, NOW)
    s = report["sections"]
    assert list(s) == list(morning_report.SECTIONS)
    for section in s.values():
        assert section["count"] == len(section["rows"])
    today = _today(demo_db)
    assert report["sessions_today"] == len(today)

    # Absences without cover: every session today still with the clinician who is out.
    out = [a.id for a in today if crafted["absent"] in a.staff_ids]
    assert out and [r["appointment"] for r in s["absences_without_cover"]["rows"]] == out
    assert {r["absent"] for r in s["absences_without_cover"]["rows"]} == {crafted["absent"]}

    # Closed rooms: the one closure, with the sessions booked in it today.
    (closure,) = s["closed_rooms"]["rows"]
    in_room = [a.id for a in today if a.room_id == crafted["room"]]
    assert closure["room"] == crafted["room"] and closure["reason"] == "leak"
    assert in_room and [r["appointment"] for r in closure["sessions"]] == in_room

    # Sessions without a room: the one whose room was taken away.
    assert [r["appointment"] for r in s["sessions_without_room"]["rows"]] == [crafted["roomless"]]

    # Court orders: the patient whose required sessions this week were cancelled is behind.
    patient, stype = crafted["court"]
    behind = {(r["patient"], r["session_type"]) for r in s["court_orders_behind"]["rows"]}
    assert behind == {(patient, stype)}
    (row,) = s["court_orders_behind"]["rows"]
    assert row["scheduled"] < row["required"]

    # Authorizations running out: the one ending Thursday, with its business days.
    ending = {r["authorization"]: r for r in s["authorizations_ending"]["rows"]}
    assert ending[crafted["ending"]]["business_days_left"] == 2
    assert all(
        r["business_days_left"] <= 5 or r["remaining"] <= 2
        for r in s["authorizations_ending"]["rows"]
    )
    with demo_db.read() as session:
        live = session.scalar(
            select(func.count()).select_from(Authorization).where(Authorization.end >= TODAY)
        )
    assert 0 < s["authorizations_ending"]["count"] <= live

    # Authorizations ended with sessions still booked after them.
    expired = s["authorizations_expired"]["rows"]
    assert crafted["lapsed_session"] in {r["appointment"] for r in expired}
    assert {r["authorization"] for r in expired} == {crafted["lapsed"]}

    # Unmarked from the last open day: what the attendance use case lists for Monday.
    director = callers.for_staff(demo_db, "s001")
    monday = attendance.unmarked(demo_db, director, attendance.Unmarked(date(2026, 11, 30), NOW))
    assert report["yesterday"] == "2026-11-30"
    assert [r["appointment"] for r in s["unmarked_yesterday"]["rows"]] == [a.id for a in monday]
    assert s["unmarked_yesterday"]["count"] > 0

    # Level of care: each patient listed is under their band by the rules' own review.
    loc = s["level_of_care_behind"]["rows"]
    assert loc
    for r in loc[:3]:
        decision = review_week(demo_db, director, r["patient"], TODAY, now=NOW)
        assert "LOC-WEEK-UNDER" in {f.id for f in decision.fired}


def _slack_owed(db: Database) -> list[Any]:
    """The Slack messages the outbox owes, oldest first: key, recipient, payload, audit."""
    with db.read() as session:
        return [
            SimpleNamespace(
                key=r.key,
                slack_user=r.recipient,
                payload=r.context["payload"],
                audit=r.extra["audit"],
            )
            for r in session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == "slack", OutboxMessage.status == "pending")
                .order_by(OutboxMessage.id)
            )
        ]


def _schedule(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as session:
        return [
            (a.id, a.start, a.room_id, a.status, tuple(a.staff_ids))
            for a in session.scalars(select(Appointment).order_by(Appointment.id))
        ]


def test_the_morning_cycle_proposes_moves_nothing_and_runs_once_a_day(
    demo_db: Database, crafted: dict[str, Any]
) -> None:
    before = _schedule(demo_db)
    first = morning.run(demo_db, NOW, QUICK)
    assert _schedule(demo_db) == before  # a proposal: nothing booked, nothing moved
    assert first["planned"] > 0 and first["proposal"]
    assert first["counts"]["unplaced"] == len(
        absences.payload_of(demo_db, first["proposal"])["unmet"]
    )
    with demo_db.read() as session:
        proposal = session.get(Proposal, first["proposal"])
        assert (proposal.kind, proposal.status) == ("morning_plan", "pending")
    owed = _slack_owed(demo_db)
    assert len(owed) == first["messages"] > 1
    assert [m.key for m in owed] == [f"job:morning:2026-12-01:{n}" for n in range(len(owed))]
    # The director gets the report; each clinician only their own sessions.
    director = callers.with_role(demo_db, "clinical_director")
    users = callers.slack_users(demo_db, [director.staff_id])
    (report,) = [m for m in owed if m.slack_user == users[director.staff_id]]
    words = "\n".join(b["text"]["text"] for b in report.payload["blocks"])
    assert words.startswith("Morning report for 2026-12-01")
    assert f"apply {first['proposal']}" in words
    assert report.payload["text"] == morning.PREVIEW_REPORT  # what a lock screen shows
    today = _today(demo_db)
    for m in owed:
        if m is report:
            continue
        staff = m.audit["recipient"]
        assert set(m.audit["appointments"]) == {a.id for a in today if staff in a.staff_ids}
    # A second run, a retry or another worker: nothing more.
    again = morning.run(demo_db, NOW + timedelta(minutes=5), QUICK)
    assert again["skipped"]
    with demo_db.read() as session:
        assert len(_slack_owed(demo_db)) == len(owed)
        assert session.scalar(select(func.count()).select_from(Proposal)) == 1

    # The director applies the plan in one step: every proposed session booked.
    clinical = callers.for_staff(demo_db, director.staff_id)
    outcome = absences.apply_proposal(demo_db, clinical, absences.ApplyProposal(first["proposal"]))
    assert outcome["booked"] == first["planned"]
    assert len(_schedule(demo_db)) == len(before) + first["planned"]
    with pytest.raises(InvalidInput, match="already applied"):
        absences.apply_proposal(demo_db, clinical, absences.ApplyProposal(first["proposal"]))


def test_a_facility_that_opts_in_has_the_plan_booked_at_once(
    demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    set_now(NOW)
    before = len(_schedule(demo_db))
    done = morning.run(demo_db, NOW, morning.Settings(seconds=3, apply=True))
    assert done["proposal"] is None and done["booked"] == done["planned"] > 0
    assert len(_schedule(demo_db)) == before + done["booked"]


def test_rota_morning_prints_the_report_without_delivering(
    demo_db: Database,
    crafted: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    monkeypatch.setenv("ROTA_MORNING_SECONDS", "2")
    assert rota(["morning", "--now", "2026-12-01T06:00", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sections"]["closed_rooms"]["rows"][0]["room"] == crafted["room"]
    assert data["sections"]["sessions_without_room"]["count"] == 1
    assert rota(["morning", "--now", "2026-12-01T06:00", "--no-plan"]) == 0
    out = capsys.readouterr().out
    assert "Rooms closed today: 1" in out and "Sessions without a room: 1" in out
    with demo_db.read() as session:  # shown, never delivered, never proposed
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalar(select(func.count()).select_from(Proposal)) == 0
    assert rota(["morning", "--now", "yesterday-ish"]) != 0
    assert "--now" in capsys.readouterr().err


def test_the_engines_run_the_morning_cycle_at_six_once_per_day(
    demo_db: Database,
    set_now: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_now(NOW)
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    monkeypatch.setenv("ROTA_MORNING_SECONDS", "2")
    early = run_due(demo_db, NOW - timedelta(minutes=1))  # 05:59: the morning is not due yet
    assert "morning" not in {outcome.job for outcome in early}
    assert rota(["jobs", "run", "morning", "--now", "2026-12-01T06:00", "--json"]) == 0
    assert '"proposal": "P-' in capsys.readouterr().out
    again = run_job(demo_db, "morning", NOW + timedelta(hours=1))
    assert again.status == "already_done"
    # Even run again by hand past the engine's claim, the day's work is not done twice.
    assert morning.run(demo_db, NOW, QUICK)["skipped"]
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Proposal)) == 1


def test_the_director_sees_the_morning_plan_in_chat_and_applies_it(
    demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    set_now(NOW)
    done = morning.run(demo_db, NOW, QUICK)
    director = callers.with_role(demo_db, "clinical_director")
    dialogue = Dialogue(demo_db, clock=lambda: NOW)
    shown = dialogue.handle(director, "pending", None)
    assert f"Morning plan for 2026-12-01: {done['planned']} new session(s)" in shown.reply
    assert {"label": f"Apply {done['proposal']}", "message": f"apply {done['proposal']}"} in (
        shown.actions
    )
    before = len(_schedule(demo_db))
    applied = dialogue.handle(director, f"apply {done['proposal']}", shown.conversation_id)
    assert f"{done['planned']} session(s) booked" in applied.reply
    assert len(_schedule(demo_db)) == before + done["planned"]


def test_the_report_and_the_cycle_read_the_same_on_postgresql(
    demo_db: Database, pg_demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    set_now(NOW)
    crafted = {name: craft(db) for name, db in (("sqlite", demo_db), ("pg", pg_demo_db))}
    assert crafted["sqlite"] == crafted["pg"]
    lite, pg = (morning_report.build(db, NOW) for db in (demo_db, pg_demo_db))
    assert lite == pg
    done = morning.run(pg_demo_db, NOW, QUICK)
    assert done["proposal"] and morning.run(pg_demo_db, NOW, QUICK)["skipped"]


def test_rota_morning_names_patients_only_for_a_role_that_sees_names(
    demo_db: Database,
    crafted: dict[str, Any],
    grant_roles: Callable[[dict[str, str]], None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    grant_roles({"audit1": "auditor"})
    patient = crafted["court"][0]
    args = ["morning", "--now", "2026-12-01T06:00", "--no-plan", "--json", "--actor"]
    assert rota([*args, "s001"]) == 0  # the clinical director
    assert patient in json.loads(capsys.readouterr().out)["names"]
    assert rota([*args, "audit1"]) == 0  # reads reports, sees no names
    shown = json.loads(capsys.readouterr().out)
    assert shown["sections"]["court_orders_behind"]["rows"][0]["patient"] == patient
    assert patient not in shown["names"] and crafted["absent"] in shown["names"]
    assert rota([*args, "c004"]) != 0  # a therapist does not read the facility's report
    assert "therapist" in capsys.readouterr().err


def test_the_director_with_an_address_gets_the_report_by_email_once(
    demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    set_now(NOW)
    director = callers.with_role(demo_db, "clinical_director")
    assert director is not None
    with demo_db.session() as session:
        staff = session.get(Staff, director.staff_id)
        assert staff is not None
        staff.email = "director@example.org"
    assert morning.run(demo_db, NOW, QUICK)["proposal"]
    assert morning.run(demo_db, NOW, QUICK)["skipped"]
    with demo_db.read() as session:
        emails = [
            (e.channel, e.recipient, e.context["day"], bool(e.context["text"]))
            for e in session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.template == "morning_report", OutboxMessage.channel == "email"
                )
            )
        ]
        on_slack = session.scalars(
            select(OutboxMessage.channel).where(OutboxMessage.template == "morning_report")
        ).all()
    assert emails == [("email", "director@example.org", "2026-12-01", True)]
    assert sorted(on_slack) == ["email", "slack"]  # and once by Slack DM, the same report
