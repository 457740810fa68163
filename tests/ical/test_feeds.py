"""Calendar feeds: made with `rota ical url`, fetched as a calendar client would (no token),
parsed with `icalendar`; moves keep the UID and raise SEQUENCE, revoked URLs answer 404, and
patients appear only where the facility allows it (demo s, clock Mon 30 Nov 2026 07:00 New York)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from alembic import command
from litestar.testing import TestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import selectinload

from assistant import callers
from assistant.usecases import appointments, feeds
from clinic.db import Database
from clinic.errors import NotFound, RotaError
from clinic.facility_file import export_facility, load_facility
from clinic.feed_models import CalendarFeed
from clinic.migrate import alembic_config, upgrade
from clinic.models import Appointment, AppointmentStaff, AuditEvent, CourtOrder, Patient
from integrations.cli.main import run
from integrations.http.app import create_app
from tests.clinic.helpers import small_facility

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture()
def client(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, set_now: Callable[[datetime], None]
) -> Iterator[TestClient]:
    set_now(NOW)
    monkeypatch.setenv("ROTA_DATABASE_URL", demo_db.url)
    monkeypatch.delenv("ROTA_BASE_URL", raising=False)
    with TestClient(create_app(demo_db)) as test_client:
        yield test_client


def new_url(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert run(["ical", "url", *args]) == 0
    return capsys.readouterr().out.split()[-1]  # printed last on its line


def events(client: TestClient, url: str) -> dict[str, icalendar.Event]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    found = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert len(found) == len(calendar.walk("VEVENT"))  # one event per UID
    return found


def staff_appointments(db: Database, staff: str) -> list[Appointment]:
    with db.read() as session:
        rows = list(
            session.scalars(
                select(Appointment)
                .join(AppointmentStaff)
                .where(
                    AppointmentStaff.staff_id == staff,
                    Appointment.start >= NOW - feeds.PAST,
                    Appointment.start < NOW + feeds.AHEAD,
                    Appointment.active,
                )
                .options(selectinload(Appointment.patient_links))
            )
        )
        session.expunge_all()
        return rows


def test_a_clinicians_feed_parses_and_shows_no_patient_by_default(
    client: TestClient, demo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = new_url(capsys, "--staff", "c004")
    assert url.startswith("/ical/") and url.endswith(".ics")
    assert len(url) >= len("/ical/.ics") + 32  # at least 128 bits, base64url
    found = events(client, url)
    expected = staff_appointments(demo_db, "c004")
    held = sorted(uid for uid, e in found.items() if str(e["STATUS"]) != "CANCELLED")
    assert held == sorted(f"{a.id}@rota" for a in expected) and len(expected) > 10
    first = min(expected, key=lambda a: a.start)
    event = found[f"{first.id}@rota"]
    assert event["DTSTART"].dt == first.start  # the same instant, written in the facility zone
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event["SUMMARY"] and event["LOCATION"].startswith(("Individual", "Group", "Family"))
    with demo_db.read() as session:
        names = list(session.scalars(select(Patient.name)))
    body = client.get(url).text
    assert not any(name in body for name in names)
    assert all("(" not in str(e["SUMMARY"]) for e in found.values())  # no initials either
    with demo_db.read() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "disclosure")) is None
        created = session.scalars(select(AuditEvent).where(AuditEvent.action == "ical.create"))
        assert [e.entity_id for e in created] == ["c004"]
        assert session.scalar(select(CalendarFeed.token_hash)) not in url  # only a hash kept


def _move_somewhere(db: Database, appointment: Appointment) -> Appointment:
    caller = callers.for_actor(db, "operator")
    for days in range(1, 15):
        for hours in (2, 3, 4, -1, 5, 6):
            start = appointment.start + timedelta(days=days, hours=hours)
            try:
                appointments.move(
                    db, caller, appointments.Move(appointment.id, "patient asked", start=start)
                )
            except RotaError:
                continue
            with db.read() as session:
                moved = session.get(Appointment, appointment.id)
                assert moved is not None
                session.expunge_all()
                return moved
    raise AssertionError("no free time to move to")


def test_a_move_keeps_the_uid_and_raises_sequence_and_a_cancellation_stays_cancelled(
    client: TestClient, demo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = new_url(capsys, "--staff", "c004")
    before = events(client, url)
    with demo_db.read() as session:  # a court order's weekly minimum would refuse the cancel
        ordered = set(session.scalars(select(CourtOrder.patient_id)))
    target = min(
        (
            a
            for a in staff_appointments(demo_db, "c004")
            if a.start > NOW + timedelta(days=1) and not ordered & set(a.patient_ids)
        ),
        key=lambda a: a.start,
    )
    uid = f"{target.id}@rota"
    moved = _move_somewhere(demo_db, target)
    after = events(client, url)
    assert sorted(after) == sorted(before)  # updated in place: nothing added, nothing lost
    assert after[uid]["DTSTART"].dt == moved.start != before[uid]["DTSTART"].dt
    assert int(after[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])
    appointments.cancel(
        demo_db,
        callers.for_actor(demo_db, "operator"),
        appointments.Cancel(target.id, "clinician ill"),
    )
    cancelled = events(client, url)
    assert str(cancelled[uid]["STATUS"]) == "CANCELLED"
    assert int(cancelled[uid]["SEQUENCE"]) > int(after[uid]["SEQUENCE"])
    assert sorted(cancelled) == sorted(before)


def test_a_revoked_url_and_an_unknown_one_answer_the_same_404(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    url = new_url(capsys, "--staff", "c004")
    other = new_url(capsys, "--staff", "c004")
    assert client.get(url).status_code == 200
    assert run(["ical", "revoke", f"https://rota.example.org{url}"]) == 0
    assert "revoked 1 feed(s)" in capsys.readouterr().out
    gone = client.get(url)
    unknown = client.get("/ical/" + "A" * 32 + ".ics")
    assert gone.status_code == unknown.status_code == 404
    assert gone.json() == unknown.json() and "c004" not in gone.text
    assert client.get(other).status_code == 200  # only that one URL
    assert run(["ical", "revoke", "--staff", "c004"]) == 0
    assert "revoked 1 feed(s)" in capsys.readouterr().out
    assert client.get(other).status_code == 404
    assert run(["ical", "list"]) == 0
    listed = capsys.readouterr().out
    assert "calendar feeds: 2" in listed and listed.count("revoked") == 2


def test_a_rooms_feed_holds_the_rooms_sessions(
    client: TestClient,
    demo_db: Database,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROTA_BASE_URL", "https://rota.example.org/")
    url = new_url(capsys, "--room", "gro-1")
    assert url.startswith("https://rota.example.org/ical/")
    found = events(client, url.removeprefix("https://rota.example.org"))
    with demo_db.read() as session:
        expected = session.scalars(
            select(Appointment.id).where(
                Appointment.room_id == "gro-1",
                Appointment.active,
                Appointment.start >= NOW - feeds.PAST,
                Appointment.start < NOW + feeds.AHEAD,
            )
        ).all()
    held = sorted(uid for uid, e in found.items() if str(e["STATUS"]) != "CANCELLED")
    assert held == sorted(f"{a}@rota" for a in expected) and expected
    assert {str(e["LOCATION"]) for e in found.values()} == {"Group room 1"}
    assert all(str(e["DESCRIPTION"]).startswith("With ") for e in found.values())


def test_initials_only_where_the_facility_allows_them_and_each_fetch_is_audited(
    client: TestClient, demo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = new_url(capsys, "--staff", "c004")
    assert run(["ical", "initials", "on"]) == 0
    found = events(client, url)
    target = min(
        (a for a in staff_appointments(demo_db, "c004") if a.group_id is None),
        key=lambda a: a.start,
    )
    with demo_db.read() as session:
        patient = session.get(Patient, target.patient_ids[0])
        assert patient is not None
        initials = "".join(f"{w[0]}." for w in patient.name.split())
        events_ = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "disclosure")))
        session.expunge_all()
    assert f"({initials})" in str(found[f"{target.id}@rota"]["SUMMARY"])
    assert patient.name not in client.get(url).text
    assert len(events_) == 1  # the first fetch (the second is audited after this read)
    assert events_[0].after is not None and patient.id in events_[0].after["patients"]
    assert events_[0].after["channel"] == "ical"


def test_migration_0016_goes_down_and_up(any_db: Database) -> None:
    engine = any_db.engine
    command.downgrade(alembic_config(engine), "0015")
    assert "calendar_feed" not in inspect(engine).get_table_names()
    assert "calendar_patient_initials" not in {
        c["name"] for c in inspect(engine).get_columns("facility")
    }
    upgrade(engine)
    assert "calendar_feed" in inspect(engine).get_table_names()
    assert "calendar_patient_initials" in {
        c["name"] for c in inspect(engine).get_columns("facility")
    }


def test_the_setting_travels_in_the_facility_file(db: Database) -> None:
    data = small_facility()
    assert "calendar_patient_initials" not in export_facility_after(db, data)["facility"]
    data = {**data, "facility": {**data["facility"], "calendar_patient_initials": True}}
    assert export_facility_after(db, data, replace=True)["facility"]["calendar_patient_initials"]


def export_facility_after(db: Database, data: dict[str, Any], *, replace: bool = False) -> Any:
    load_facility(db, data, actor="test", replace=replace)
    return export_facility(db)


def test_openapi_documents_the_feed_without_a_token(client: TestClient) -> None:
    operation = client.get("/schema/openapi.json").json()["paths"]["/ical/{feed}"]["get"]
    assert "text/calendar" in operation["responses"]["200"]["content"]
    assert "application/problem+json" in operation["responses"]["404"]["content"]
    assert operation["security"] == [{}]  # no bearer token: the secret URL is the credential


def test_on_postgresql_a_move_raises_sequence_and_initials_are_audited(
    pg_demo_db: Database, set_now: Callable[[datetime], None]
) -> None:
    set_now(NOW)
    operator = callers.for_actor(pg_demo_db, "operator")
    issued = feeds.issue(pg_demo_db, operator, "staff", "c004")
    feeds.set_patient_initials(pg_demo_db, operator, True)
    before = {e.uid: e for e in feeds.fetch(pg_demo_db, issued.path).events}
    target = min(
        (a for a in staff_appointments(pg_demo_db, "c004") if a.start > NOW + timedelta(days=1)),
        key=lambda a: a.start,
    )
    _move_somewhere(pg_demo_db, target)
    after = {e.uid: e for e in feeds.fetch(pg_demo_db, issued.path).events}
    uid = f"{target.id}@rota"
    assert after.keys() == before.keys() and after[uid].sequence > before[uid].sequence
    assert after[uid].start != before[uid].start
    with pg_demo_db.read() as session:
        fetches = session.scalar(select(func.count()).where(AuditEvent.action == "disclosure"))
    assert fetches == 2
    feeds.revoke(pg_demo_db, operator, token=issued.path)
    with pytest.raises(NotFound):
        feeds.fetch(pg_demo_db, issued.path)


def test_a_session_given_to_another_clinician_is_cancelled_in_the_feed_it_left(
    client: TestClient, demo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    mine, theirs = new_url(capsys, "--staff", "c004"), None
    before = events(client, mine)
    caller = callers.for_actor(demo_db, "operator")
    for target in sorted(staff_appointments(demo_db, "c004"), key=lambda a: a.start):
        if target.start < NOW + timedelta(days=1) or target.group_id is not None:
            continue
        for other in ("c003", "c005", "c006", "c007", "c008"):
            try:
                appointments.move(
                    demo_db, caller, appointments.Move(target.id, "cover", staff=(other,))
                )
            except RotaError:
                continue
            theirs = new_url(capsys, "--staff", other)
            break
        if theirs:
            break
    assert theirs is not None, "no cover found"
    uid = f"{target.id}@rota"
    left, joined = events(client, mine), events(client, theirs)
    assert str(left[uid]["STATUS"]) == "CANCELLED" and left[uid]["DTSTART"].dt == target.start
    assert int(left[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])
    assert str(joined[uid]["STATUS"]) == "CONFIRMED"
    assert sorted(left) == sorted(before)
