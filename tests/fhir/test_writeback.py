"""FHIR write-back against the local FHIR server (demo 's', Mon 30 Nov 2026, New York): every
booking, move, cancellation and status change made in Rota reaches the EHR through the outbox —
one Appointment per appointment whatever the retries, If-Match the ETag Rota last wrote, and a
change made on the EHR meanwhile reported as a conflict, never overwritten."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import inspect, select

from assistant import callers, fhir_writeback, outbox
from assistant.jobs import fhir_push as job
from assistant.usecases import appointments
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.fhir_models import FhirLink
from clinic.migrate import alembic_config, upgrade
from clinic.models import Appointment, AuditEvent
from integrations import notify
from integrations.cli.main import run
from integrations.fhir import writeback
from integrations.fhir.client import FhirClient
from tests.fhir_server import FhirTestServer

MONDAY_8AM = datetime.fromisoformat("2026-11-30T13:00:00+00:00")  # 08:00 in New York


@pytest.fixture()
def ehr(
    fhir_server: FhirTestServer, set_now: Callable[[datetime], None]
) -> Iterator[FhirTestServer]:
    """Write-back configured to the local FHIR server (fast retries for reads)."""
    set_now(MONDAY_8AM)
    client = FhirClient(fhir_server.base_url, retry_wait=0.01)
    fhir_writeback.use_pusher(writeback.AppointmentPusher(client))
    yield fhir_server
    fhir_writeback.use_pusher(None)
    client.close()


def switched_on(db: Database) -> None:
    """The job's first run sets its cursor: changes from here on are written back."""
    nothing = {"queued": 0, "sent": 0, "failed": 0, "dead": 0, "conflicts": 0}
    assert job.run(db, MONDAY_8AM) == nothing


def later_booked(db: Database, n: int = 1) -> list[str]:
    """Booked one-patient appointments later in the week."""
    with db.read() as session:
        rows = session.scalars(
            select(Appointment)
            .where(
                Appointment.status == "booked", Appointment.start > MONDAY_8AM + timedelta(days=1)
            )
            .order_by(Appointment.start, Appointment.id)
        )
        return [a.id for a in rows if len(a.patient_ids) == 1 and a.group_id is None][:n]


def operator(db: Database):
    return callers.for_actor(db, "operator")


def move_by(db: Database, appointment_id: str, days: int) -> None:
    start = appointments.current(db, appointment_id).start
    for extra in range(days, days + 5):  # the first day whose slot is free
        try:
            appointments.move(
                db,
                operator(db),
                appointments.Move(appointment_id, "test move", start=start + timedelta(days=extra)),
            )
            return
        except Exception:
            continue
    raise AssertionError(f"could not move {appointment_id}")


def tick(db: Database, at: datetime) -> dict:
    return job.run(db, at)


def on_server(server: FhirTestServer) -> list[dict]:
    return server.all("Appointment")


def test_fails_twice_then_one_appointment_then_if_match_on_move_and_cancel(
    any_demo_db: Database, ehr: FhirTestServer
) -> None:
    demo_db = any_demo_db
    switched_on(demo_db)
    [aid] = later_booked(demo_db)
    move_by(demo_db, aid, 1)
    ehr.fail_next(2)  # the EHR is down for the first two tries

    first = tick(demo_db, MONDAY_8AM)
    assert first["queued"] == 1 and first["failed"] == 1 and not on_server(ehr)
    assert tick(demo_db, MONDAY_8AM + timedelta(seconds=10))["sent"] == 0  # backing off: not due
    assert tick(demo_db, MONDAY_8AM + timedelta(seconds=31))["failed"] == 1  # 2nd try, 30 s on
    third = tick(demo_db, MONDAY_8AM + timedelta(seconds=92))  # 3rd try, 1 min after the 2nd
    assert third["sent"] == 1

    [created] = on_server(ehr)
    assert created["meta"]["versionId"] == "1" and created["status"] == "booked"
    assert created["identifier"][0]["value"] == aid
    assert created["identifier"][0]["system"].endswith(":appointment")
    assert len(ehr.requests("POST", "Appointment")) == 3  # three tries, one Appointment
    start = appointments.current(demo_db, aid).start
    assert datetime.fromisoformat(created["start"]) == start

    at = MONDAY_8AM + timedelta(minutes=5)
    move_by(demo_db, aid, 1)
    assert tick(demo_db, at)["sent"] == 1
    [moved] = on_server(ehr)
    put = ehr.requests("PUT", "Appointment")[-1]
    assert put.headers["if-match"] == 'W/"1"' and moved["meta"]["versionId"] == "2"
    assert datetime.fromisoformat(moved["start"]) == appointments.current(demo_db, aid).start
    assert moved["id"] == created["id"]

    appointments.cancel(demo_db, operator(demo_db), appointments.Cancel(aid, "patient asked"))
    assert tick(demo_db, at + timedelta(minutes=1))["sent"] == 1
    [cancelled] = on_server(ehr)
    assert cancelled["status"] == "cancelled" and cancelled["meta"]["versionId"] == "3"
    assert ehr.requests("PUT", "Appointment")[-1].headers["if-match"] == 'W/"2"'
    assert len(ehr.requests("POST", "Appointment")) == 3  # never created again

    with demo_db.read() as session:
        pushed = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.pushed")))
        assert [e.entity_id for e in pushed] == [aid] * 3
        assert [e.after["version"] for e in pushed] == ["1", "2", "3"]
        assert pushed[0].after["server"] == ehr.base_url
        patient = appointments.current(demo_db, aid).patients[0]
        assert patient not in json.dumps([e.after for e in pushed])  # no patient in the audit


def test_several_changes_before_a_send_make_one_row_and_the_latest_state(
    demo_db: Database, ehr: FhirTestServer
) -> None:
    switched_on(demo_db)
    [aid] = later_booked(demo_db)
    move_by(demo_db, aid, 1)
    move_by(demo_db, aid, 1)
    appointments.cancel(
        demo_db, operator(demo_db), appointments.Cancel(aid, "clinician out", late=False)
    )
    assert tick(demo_db, MONDAY_8AM)["sent"] == 1
    [only] = on_server(ehr)
    assert only["status"] == "cancelled" and only["meta"]["versionId"] == "1"
    with demo_db.read() as session:
        rows = outbox.rows(session, [], 50)
    assert [(r.channel, r.appointments) for r in rows] == [("fhir", (aid,))]


def test_a_booking_is_created_and_a_change_on_the_ehr_is_a_conflict_not_overwritten(
    demo_db: Database, ehr: FhirTestServer
) -> None:
    switched_on(demo_db)
    [aid] = later_booked(demo_db)
    before = appointments.current(demo_db, aid)
    appointments.cancel(demo_db, operator(demo_db), appointments.Cancel(aid, "to rebook"))
    booked = appointments.book(
        demo_db,
        operator(demo_db),
        appointments.Book(
            session_type=before.session_type,
            start=before.start,
            staff=tuple(before.staff),
            patients=tuple(before.patients),
            room=before.room,
            reason="rebooked",
        ),
    )
    assert tick(demo_db, MONDAY_8AM)["sent"] == 2
    ours = {r["identifier"][0]["value"]: r for r in on_server(ehr)}
    assert ours[aid]["status"] == "cancelled" and ours[booked.id]["status"] == "booked"

    # Someone changes the new one on the EHR (version 2); then Rota moves it.
    ehr.put({**ours[booked.id], "comment": "changed at the front desk of the EHR"})
    move_by(demo_db, booked.id, 1)
    result = tick(demo_db, MONDAY_8AM + timedelta(minutes=1))
    assert result["conflicts"] == 1 and result["dead"] == 1 and result["sent"] == 0
    kept = ehr.get("Appointment", ours[booked.id]["id"])
    assert kept["comment"] == "changed at the front desk of the EHR"  # not overwritten
    assert kept["meta"]["versionId"] == "2"
    assert ehr.requests("PUT", "Appointment")[-1].headers["if-match"] == 'W/"1"'

    with demo_db.read() as session:
        [dead] = outbox.rows(session, ["dead"], 10)
        [(entity, after)] = session.execute(
            select(AuditEvent.entity_id, AuditEvent.after).where(
                AuditEvent.action == "fhir.conflict"
            )
        ).all()
    assert dead.appointments == (booked.id,) and "conflict" in (dead.last_error or "")
    assert entity == booked.id
    assert after["written_version"] == "1" and after["server_version"] == "2"

    # A person decides Rota's version wins: written If-Match the EHR's version now.
    sender = fhir_writeback.pusher()
    assert sender is not None
    with pytest.raises(InvalidInput, match="say why"):
        fhir_writeback.overwrite(demo_db, operator(demo_db), sender, booked.id, " ", MONDAY_8AM)
    done = fhir_writeback.overwrite(
        demo_db, operator(demo_db), sender, booked.id, "the move stands", MONDAY_8AM
    )
    assert done["sent"] == 1
    assert ehr.requests("PUT", "Appointment")[-1].headers["if-match"] == 'W/"2"'
    written = ehr.get("Appointment", ours[booked.id]["id"])
    assert written["meta"]["versionId"] == "3" and "comment" not in written
    assert (
        datetime.fromisoformat(written["start"]) == appointments.current(demo_db, booked.id).start
    )


def test_off_unless_configured(demo_db: Database) -> None:
    fhir_writeback.use_pusher(None)
    [aid] = later_booked(demo_db)
    move_by(demo_db, aid, 1)
    assert job.run(demo_db, MONDAY_8AM) == {"configured": False}
    with demo_db.read() as session:
        assert outbox.rows(session, [], 10) == []
    assert writeback.configure({}) is None and fhir_writeback.pusher() is None


def test_the_environment_switches_it_on_with_the_other_channels(
    fhir_server: FhirTestServer,
) -> None:
    try:
        assert notify.configure({"ROTA_FHIR_BASE_URL": fhir_server.base_url}) == ["fhir"]
        sender = fhir_writeback.pusher()
        assert sender is not None and sender.server == fhir_server.base_url
    finally:
        notify.configure({})
    assert fhir_writeback.pusher() is None


def test_rota_fhir_push_sends_a_backlog_and_dead_letters_show_in_outbox_list(
    demo_db: Database,
    fhir_server: FhirTestServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    set_now: Callable[[datetime], None],
) -> None:
    set_now(MONDAY_8AM)
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    monkeypatch.setenv("ROTA_FHIR_BASE_URL", fhir_server.base_url)
    tuesday = datetime.fromisoformat("2026-12-01T00:00:00-05:00")  # New York's day
    with demo_db.read() as session:
        on_tuesday = session.scalars(
            select(Appointment.id).where(
                Appointment.start >= tuesday, Appointment.start < tuesday + timedelta(days=1)
            )
        ).all()
    assert run(["fhir", "push", "--from", "2026-12-01", "--to", "2026-12-01"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["queued"] == result["sent"] == len(on_tuesday) > 0
    assert len(on_server(fhir_server)) == len(on_tuesday)
    assert run(["fhir", "push", "--from", "2026-12-01", "--to", "2026-12-01"]) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["queued"] == 0 and len(on_server(fhir_server)) == len(on_tuesday)

    # The EHR refuses everything (a 400): the row is dead at once and listed as such.
    [aid] = later_booked(demo_db)
    move_by(demo_db, aid, 2)
    fhir_server.fail_next(1, 400)
    assert run(["fhir", "push"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["dead"] == 1
    assert run(["outbox", "list", "--dead"]) == 0
    listed = capsys.readouterr().out
    assert "fhir" in listed and aid in listed and "refused" in listed
    fhir_writeback.use_pusher(None)


def test_a_status_change_reaches_the_ehr(
    demo_db: Database, ehr: FhirTestServer, set_now: Callable[[datetime], None]
) -> None:
    switched_on(demo_db)
    evening = MONDAY_8AM + timedelta(hours=10)
    set_now(evening)
    with demo_db.read() as session:
        held = session.scalars(
            select(Appointment.id)
            .where(Appointment.status == "booked", Appointment.end < evening)
            .where(Appointment.start > MONDAY_8AM)
            .order_by(Appointment.start)
        ).first()
    assert held is not None
    appointments.set_status(
        demo_db, operator(demo_db), appointments.SetStatus(held, "attended", reason="came")
    )
    assert tick(demo_db, evening)["sent"] == 1
    [written] = on_server(ehr)
    assert written["status"] == "fulfilled"


def test_changes_the_fhir_import_made_are_not_sent_back(
    demo_db: Database, ehr: FhirTestServer
) -> None:
    switched_on(demo_db)
    [aid] = later_booked(demo_db)
    start = appointments.current(demo_db, aid).start
    appointments.move(
        demo_db,
        operator(demo_db),
        appointments.Move(
            aid, "FHIR import of Appointment/x1 from https://ehr", start=start + timedelta(days=7)
        ),
    )
    assert tick(demo_db, MONDAY_8AM)["queued"] == 0 and not on_server(ehr)


def test_a_change_made_while_its_appointment_is_being_sent_is_sent_after_it(
    demo_db: Database, ehr: FhirTestServer
) -> None:
    switched_on(demo_db)
    [aid] = later_booked(demo_db)
    move_by(demo_db, aid, 1)
    real = fhir_writeback.pusher()
    assert real is not None

    class MovesMeanwhile:
        server = real.server

        def __call__(self, item: fhir_writeback.PushItem) -> fhir_writeback.Pushed:
            read_then = real(item)  # the state read before the move below
            if not getattr(self, "moved", False):
                self.moved = True
                move_by(demo_db, aid, 1)  # a person moves it while the EHR answers
            return read_then

    assert fhir_writeback.queue_changes(demo_db, real.server, MONDAY_8AM) == 1
    counts = fhir_writeback.drain(demo_db, MONDAY_8AM, MovesMeanwhile(), limit=1)
    assert counts["sent"] == 1
    start = appointments.current(demo_db, aid).start
    assert datetime.fromisoformat(on_server(ehr)[0]["start"]) != start  # the EHR is behind
    assert tick(demo_db, MONDAY_8AM)["sent"] == 1  # the move's own row
    [written] = on_server(ehr)
    assert datetime.fromisoformat(written["start"]) == start and written["meta"]["versionId"] == "2"


def test_the_cursor_table_migrates_down_and_up(any_db: Database) -> None:
    engine = any_db.engine
    assert "fhir_push_cursor" in inspect(engine).get_table_names()
    command.downgrade(alembic_config(engine), "0014")
    assert "fhir_push_cursor" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "fhir_push_cursor" in inspect(engine).get_table_names()


def test_participants_the_ehr_knows_under_its_own_ids_are_referenced_by_those(
    demo_db: Database, ehr: FhirTestServer
) -> None:
    switched_on(demo_db)
    [aid] = later_booked(demo_db)
    view = appointments.current(demo_db, aid)
    patient, clinician = view.patients[0], view.staff[0]
    with demo_db.session() as session:  # the patient came from the EHR, as its Patient/ehr-77
        session.add(
            FhirLink(
                server=ehr.base_url,
                resource_type="Patient",
                fhir_id="ehr-77",
                rota_id=patient,
                synced_at=MONDAY_8AM,
            )
        )
    move_by(demo_db, aid, 1)
    assert tick(demo_db, MONDAY_8AM)["sent"] == 1
    [written] = on_server(ehr)
    actors = {p["actor"]["reference"] for p in written["participant"]}
    assert "Patient/ehr-77" in actors and f"Practitioner/{clinician}" in actors
    assert f"Patient/{patient}" not in actors


def test_a_write_whose_answer_was_lost_is_neither_duplicated_nor_a_conflict(
    demo_db: Database, ehr: FhirTestServer
) -> None:
    switched_on(demo_db)
    [aid] = later_booked(demo_db)
    move_by(demo_db, aid, 1)
    ehr.lose_answer_next(1)  # the create is done, its answer lost
    assert tick(demo_db, MONDAY_8AM)["failed"] == 1 and len(on_server(ehr)) == 1
    assert tick(demo_db, MONDAY_8AM + timedelta(seconds=31))["sent"] == 1  # matched, not made
    assert len(on_server(ehr)) == 1 and on_server(ehr)[0]["meta"]["versionId"] == "1"

    move_by(demo_db, aid, 1)
    ehr.lose_answer_next(1)  # the update is done (version 2), its answer lost
    later = MONDAY_8AM + timedelta(minutes=2)
    assert tick(demo_db, later)["failed"] == 1
    again = tick(demo_db, later + timedelta(seconds=31))  # 412, but the EHR says what Rota says
    assert again["sent"] == 1 and again["conflicts"] == 0
    [written] = on_server(ehr)
    assert written["meta"]["versionId"] == "2"
    assert datetime.fromisoformat(written["start"]) == appointments.current(demo_db, aid).start

    move_by(demo_db, aid, 1)  # and the next change goes If-Match that version
    assert tick(demo_db, later + timedelta(minutes=2))["sent"] == 1
    assert ehr.requests("PUT", "Appointment")[-1].headers["if-match"] == 'W/"2"'
