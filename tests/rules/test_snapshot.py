"""The role check's snapshot answers what fresh queries answer, before and after every kind of change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from itertools import product

import pytest
from sqlalchemy import select

from assistant.access import authorize
from clinic.audit import append_event
from clinic.booking import BookingService
from clinic.db import Database
from clinic.errors import PermissionDenied
from clinic.models import Appointment, AppointmentPatient, AppointmentStaff, Patient, Staff
from clinic.tokens import Caller
from rules.facts import build_situation
from rules.service import default_service
from rules.snapshot import role_situation, role_situations

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def _same_answer(db: Database, actor: str, patient: str | None) -> None:
    packs = default_service().packs
    with db.read() as session:
        fresh = build_situation(session, packs, actor=actor, patient=patient, now=NOW)
    assert role_situation(db, packs, actor=actor, patient=patient, now=NOW) == fresh


def test_the_snapshot_answers_what_fresh_queries_answer(demo_db: Database) -> None:
    with demo_db.read() as session:
        staff = list(session.scalars(select(Staff.id).order_by(Staff.position)))[:6]
        patients = list(session.scalars(select(Patient.id).order_by(Patient.position)))[:8]
    for actor, patient in product([*staff, "operator", "ghost"], [*patients, None]):
        _same_answer(demo_db, actor, patient)
        _same_answer(demo_db, actor, patient)  # the second answer comes from the snapshot


def test_an_appointment_change_is_seen_by_the_next_role_check(demo_db: Database) -> None:
    with demo_db.read() as session:
        appt = session.scalars(
            select(Appointment).where(Appointment.status == "booked").order_by(Appointment.start)
        ).first()
        assert appt is not None
        appt_id, therapist, patient = appt.id, appt.staff_ids[0], appt.patient_ids[0]
    packs = default_service().packs
    _, before = role_situation(demo_db, packs, actor=therapist, patient=patient, now=NOW)
    assert appt_id in {a.id for a in before.existing}
    # hard checks only: what matters here is that an appointment event happened
    BookingService(demo_db).cancel("operator", appt_id, reason="patient ill")
    _, after = role_situation(demo_db, packs, actor=therapist, patient=patient, now=NOW)
    assert appt_id not in {a.id for a in after.existing}
    _same_answer(demo_db, therapist, patient)


def test_a_change_to_who_people_are_renews_the_snapshot(demo_db: Database) -> None:
    """A therapist may book only for their own caseload; making them the patient's clinician
    (an audited change that is not an appointment) lets them, at once."""
    with demo_db.session() as session:
        therapist = session.scalars(
            select(Staff).where(Staff.role == "therapist").order_by(Staff.position)
        ).first()
        assert therapist is not None
        seen = (
            select(AppointmentPatient.patient_id)
            .join(
                AppointmentStaff,
                AppointmentStaff.appointment_id == AppointmentPatient.appointment_id,
            )
            .where(AppointmentStaff.staff_id == therapist.id)
        )
        stranger = session.scalars(
            select(Patient)
            .where(Patient.primary_clinician_id != therapist.id, Patient.id.not_in(seen))
            .order_by(Patient.position)
        ).first()
        assert stranger is not None
        caller = Caller(therapist.id, therapist.name, therapist.role)
        patient_id = stranger.id
    with pytest.raises(PermissionDenied):
        authorize(demo_db, caller, "find_slot", patient_id=patient_id)
    with demo_db.session() as session:
        session.get(Patient, patient_id).primary_clinician_id = caller.staff_id
        append_event(
            session,
            actor="operator",
            action="patient.update",
            entity_type="patient",
            entity_id=patient_id,
            after={"primary_clinician": caller.staff_id},
        )
    authorize(demo_db, caller, "find_slot", patient_id=patient_id)
    _same_answer(demo_db, caller.staff_id, patient_id)


def test_one_read_for_many_patients_answers_what_one_read_each_answers(demo_db: Database) -> None:
    """A caseload's batch (rules.snapshot.role_situations) sees each patient's own sessions,
    the same ones a check about that patient alone sees."""
    packs = default_service().packs
    with demo_db.read() as session:
        patients = list(session.scalars(select(Patient.id).order_by(Patient.position)))[:12]
    _, batch = role_situations(demo_db, packs, actor="c004", patients=[*patients, None], now=NOW)
    assert any(batch[p].existing for p in patients)
    for patient in [*patients, None]:
        _, alone = role_situation(demo_db, packs, actor="c004", patient=patient, now=NOW)
        assert replace(batch[patient], existing=()) == replace(alone, existing=())
        assert sorted(a.id for a in batch[patient].existing) == sorted(a.id for a in alone.existing)
