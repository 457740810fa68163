"""A discharge over Slack: the clinician asks in a DM, says why, confirms; every clinician whose
day lost a session hears which, and the patient's sessions are cancelled."""

from __future__ import annotations

from sqlalchemy import select

from clinic.models import Appointment, AppointmentPatient, Patient
from tests.slack.conftest import Slack

CLINICIAN, PATIENT, NAME = "c003", "p0001", "Elizabeth Cabrera"


def test_discharge_by_dm_tells_each_clinician_what_was_cancelled(slack: Slack) -> None:
    slack.dm(CLINICIAN, f"discharge {NAME}")
    slack.wait()
    assert "Why is" in slack.dm_to(CLINICIAN)[-1].texts()
    slack.dm(CLINICIAN, "she moved out of state")
    slack.wait()
    assert "future session(s) will be cancelled" in slack.dm_to(CLINICIAN)[-1].texts()
    slack.dm(CLINICIAN, "yes")
    slack.wait()
    with slack.db.read() as session:
        assert session.get(Patient, PATIENT).phase == "discharged"  # type: ignore[union-attr]
        rows = session.scalars(
            select(Appointment)
            .join(AppointmentPatient)
            .where(AppointmentPatient.patient_id == PATIENT, Appointment.status == "cancelled")
            .where(Appointment.updated_by == CLINICIAN)
        ).all()
        cancelled = [list(a.staff_ids) for a in rows]
    staff = {sid for ids in cancelled for sid in ids}
    assert cancelled and len(staff) >= 2  # the demo's sessions: their therapist and their CM
    for sid in staff:
        heard = [c for c in slack.dm_to(sid) if "Your schedule changed" in c.texts()]
        assert len(heard) == 1, sid
        mine = sum(1 for ids in cancelled if sid in ids)
        assert heard[0].texts().count(": cancelled") == mine
