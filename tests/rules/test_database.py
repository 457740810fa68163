"""The rules against a real database: the booking policy hook, constraints_for, and the CLI."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from clinic.booking import BookingRequest, BookingService
from clinic.db import Database
from clinic.errors import RuleViolation
from clinic.models import Appointment, AuditEvent, Authorization, Patient
from clinic.timeutil import parse_datetime
from integrations.cli.main import run
from rules.policy import RulesPolicy
from rules.service import RulesService

WEEK = (date(2026, 11, 30), date(2026, 12, 6))


def _free_patient(db: Database) -> str:
    """A demo patient in active treatment without authorizations, court order or needs."""
    with db.session() as session:
        for p in session.scalars(select(Patient).order_by(Patient.id)):
            if (
                not p.authorizations
                and p.court_order is None
                and not p.needs
                and p.phase == "active_treatment"
                and p.level_of_care == "1.0"
            ):
                return p.id
    raise AssertionError("demo has no plain outpatient")


def test_policy_denies_inside_the_booking_transaction(
    demo_db: Database, service: RulesService
) -> None:
    booking = BookingService(demo_db, RulesPolicy(service))
    pid = _free_patient(demo_db)
    tz = demo_db.facility_tz()
    start = parse_datetime("2026-12-07T10:00", tz)  # a Monday with nothing booked yet
    with demo_db.session() as session:
        clinician = session.scalar(select(Patient.primary_clinician_id).where(Patient.id == pid))
    # A front-desk clerk books an individual session: allowed, audited with the decision.
    view = booking.book("s004", BookingRequest("individual", start, [clinician], [pid]))
    with demo_db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity_id == view.id)).one()
        assert event.decision["allowed"] is True
    # A second individual session the same day is refused by OPS-ONE-INDIVIDUAL.
    later = start + timedelta(hours=1)
    with pytest.raises(RuleViolation) as caught:
        booking.book("s004", BookingRequest("individual", later, [clinician], [pid]))
    assert "OPS-ONE-INDIVIDUAL" in str(caught.value)
    fired = caught.value.decision.fired  # type: ignore[union-attr]
    assert [f["id"] for f in fired] == ["OPS-ONE-INDIVIDUAL"]
    with demo_db.session() as session:
        count = session.scalars(select(Appointment).where(Appointment.start == later)).all()
        assert count == []  # nothing half-written


def test_policy_counts_booked_units_from_the_database(
    demo_db: Database, service: RulesService
) -> None:
    booking = BookingService(demo_db, RulesPolicy(service))
    pid = _free_patient(demo_db)
    with demo_db.session() as session:
        patient = session.get(Patient, pid)
        assert patient is not None
        session.add(
            Authorization(
                id="AUTH-T", patient_id=pid, payer="Medicaid", session_types=["individual"],
                units=2, used=1, start=date(2026, 12, 7), end=date(2027, 1, 31),
            )
        )  # fmt: skip
        clinician = patient.primary_clinician_id
    tz = demo_db.facility_tz()
    first = booking.book(
        "s001",
        BookingRequest("individual", parse_datetime("2026-12-08T10:00", tz), [clinician], [pid]),
    )
    assert first.status == "booked"
    with pytest.raises(RuleViolation) as caught:
        booking.book(
            "s001",
            BookingRequest(
                "individual", parse_datetime("2026-12-09T10:00", tz), [clinician], [pid]
            ),
        )
    assert "AUTH-UNITS" in str(caught.value)
    assert "1 are used plus 1 booked" in str(caught.value)


def test_constraints_for_the_demo_facility(demo_db: Database, service: RulesService) -> None:
    with demo_db.session() as session:
        elig = service.constraints_from_db(session, WEEK)
        patients = list(session.scalars(select(Patient)))
    assert len(elig.patients) == len(patients)
    psychiatrists = set(elig.qualified["psychiatric_evaluation"])
    assert psychiatrists and all(s.startswith("c") for s in psychiatrists)
    assert "s004" not in {s for pool in elig.staff_for.values() for s in pool}  # front desk
    for p in patients:
        rules = elig.patients[p.id]
        if p.level_of_care == "2.1":
            adolescent = "adolescent" in (p.needs or [])  # the demo's adolescents are 15
            band = (6 * 60, 20 * 60) if adolescent else (9 * 60, 19 * 60)
            assert (rules.min_weekly_clinical_minutes, rules.max_weekly_clinical_minutes) == band
        for (pid, st), pool in elig.staff_for.items():
            if pid == p.id and st == "individual" and p.needs:
                assert pool, (pid, st)
        if p.primary_clinician_id and (p.id, "individual") in elig.staff_for:
            pool = elig.staff_for[(p.id, "individual")]
            if p.primary_clinician_id in pool:
                assert pool[0] == p.primary_clinician_id
    assert elig.max_per_day == {"individual": 1}
    assert all(b.units_left >= 0 for b in elig.unit_budgets)


def test_cli_check_exits_3_when_denied(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    monkeypatch.delenv("ROTA_RULES_DIR", raising=False)
    pid = _free_patient(demo_db)
    code = run(["check", "--actor", "s004", "--action", "view_clinical", "--patient", pid])
    out = capsys.readouterr().out
    assert code == 3 and "DENIED" in out and "PERM-ROLE" in out
    code = run(
        ["check", "--actor", "s001", "--action", "view_clinical", "--patient", pid, "--json"]
    )
    assert code == 0
    assert '"allowed": true' in capsys.readouterr().out
    code = run(
        ["check", "--actor", "s001", "--action", "book", "--patient", pid, "--staff", "c003",
         "--type", "nope", "--start", "2026-12-07T10:00"]
    )  # fmt: skip
    assert code == 4 and "no session type 'nope'" in capsys.readouterr().err


def test_cli_rules_validate_reports_file_and_line(
    tmp_path: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["rules", "validate"]) == 0
    assert "ok:" in capsys.readouterr().out
    bad = tmp_path / "ours.yaml"  # type: ignore[operator]
    bad.write_text("overrides:\n  AUTH-UNITS:\n    severity: maybe\n")
    assert run(["rules", "validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: rule AUTH-UNITS: severity 'maybe'" in err or f"{bad}:3:" in err
    assert run(["rules", "show", "GRP-KEEP-APART"]) == 0
    assert "CRT-01" in capsys.readouterr().out
