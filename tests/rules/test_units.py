"""One unit ledger (AUTH-03): attending a session uses a unit for good, and the booking rules,
the solver's budgets and the compliance report count the same units."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.reports import authorization_usage, compliance
from clinic.booking import BookingRequest, BookingService
from clinic.db import Database
from clinic.errors import RuleViolation
from clinic.models import Authorization, Patient
from clinic.timeutil import parse_datetime
from rules.derive import derive
from rules.facts import build_situation
from rules.model import AppointmentFacts
from rules.policy import RulesPolicy
from rules.service import RulesService


def _plain_patient(db: Database) -> tuple[str, str]:
    """A demo outpatient without authorizations or a court order, and their clinician."""
    with db.read() as session:
        for p in session.scalars(select(Patient).order_by(Patient.id)):
            plain = not p.authorizations and p.court_order is None and not p.needs
            if plain and p.phase == "active_treatment" and p.primary_clinician_id:
                return p.id, p.primary_clinician_id
    raise AssertionError("the demo has no plain outpatient")


def test_an_attended_session_does_not_give_its_unit_back(
    demo_db: Database, service: RulesService
) -> None:
    pid, clinician = _plain_patient(demo_db)
    with demo_db.session() as session:
        session.add(
            Authorization(
                id="AUTH-2", patient_id=pid, payer="Medicaid", session_types=["individual"],
                units=2, used=0, start=date(2026, 12, 7), end=date(2027, 1, 31),
            )
        )  # fmt: skip
    tz = demo_db.facility_tz()
    now = [parse_datetime("2026-12-01T08:00", tz)]
    booking = BookingService(demo_db, RulesPolicy(service), clock=lambda: now[0])

    def book(day: str) -> str:
        start = parse_datetime(f"{day}T10:00", tz)
        return booking.book("s001", BookingRequest("individual", start, [clinician], [pid])).id

    first = book("2026-12-07")
    now[0] = parse_datetime("2026-12-07T12:00", tz)
    booking.set_status("s001", first, "attended")
    with demo_db.read() as session:
        auth = session.scalars(select(Authorization).where(Authorization.id == "AUTH-2")).one()
        assert authorization_usage(session, auth, service) == {
            "used": 1,
            "booked": 0,
            "remaining": 1,
        }
    book("2026-12-14")  # the second and last unit
    with pytest.raises(RuleViolation) as caught:
        book("2026-12-21")
    assert "AUTH-UNITS" in str(caught.value) and "1 are used plus 1 booked" in str(caught.value)


def test_rules_budgets_and_report_count_the_same_units(
    demo_db: Database, service: RulesService
) -> None:
    """For every authorization of the demo (whose history holds attended sessions, no-shows and
    late cancellations): the booking rules, the solver's budget and the report agree."""
    tz = demo_db.facility_tz()
    with demo_db.read() as session:
        budgets = {
            b.authorization: b.units_left
            for b in service.constraints_from_db(session, (date(2026, 12, 7), date(2026, 12, 13))).unit_budgets
        }  # fmt: skip
        checked = 0
        for auth in session.scalars(
            select(Authorization).where(Authorization.end >= date(2026, 12, 7))
        ):
            patient = session.get(Patient, auth.patient_id)
            assert patient is not None and patient.primary_clinician_id
            report = authorization_usage(session, auth, service)["remaining"]
            day = max(auth.start, date(2026, 12, 7))
            start = datetime.combine(day, datetime.min.time(), tzinfo=tz) + timedelta(hours=9)
            probe = AppointmentFacts(
                "probe", "individual", start, start + timedelta(minutes=45),
                (patient.primary_clinician_id,), (patient.id,),
            )  # fmt: skip
            actor, situation = build_situation(
                session, service.packs, actor="s001", appointment=probe
            )
            facts = derive("book", actor, situation, service.packs.tables)
            [fact] = [f for f in facts if f.get("auth_id") == auth.id]
            assert fact["units_remaining_after"] + 1 == report, auth.id
            assert budgets[auth.id] == max(0, report), auth.id
            checked += 1
    assert checked >= 10


def test_the_report_warns_at_the_packs_thresholds(demo_db: Database, tmp_path: Path) -> None:
    (tmp_path / "ours.yaml").write_text(
        "overrides:\n  AUTH-LOW-UNITS: {params: {warn_units: 1000}}\n"
        "  AUTH-ENDING: {enabled: false}\n"
    )
    generous = RulesService(tmp_path)
    now = parse_datetime("2026-12-01T12:00", demo_db.facility_tz())
    with demo_db.read() as session:
        flagged = compliance(session, now, service=generous).authorizations
        current = session.scalars(
            select(Authorization).where(Authorization.end >= date(2026, 12, 1))
        ).all()
    assert len(flagged) == len(current)  # every one is under a thousand units
    assert all(not any("business day" in f for f in r["flags"]) for r in flagged)
