"""Each group member's own outcome (demo 's', Mon 30 Nov 2026; Brian Romero's 15:30 group
a00012 has eight members): one member's no-show, late cancel or check-in is theirs alone; their
payer unit and their court report follow it; a therapist who does not run the group is refused;
the facility file keeps the outcomes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from assistant import callers
from assistant.court_report import court_report
from assistant.usecases import attendance
from clinic.booking import BookingService
from clinic.db import Database, open_database
from clinic.errors import InvalidInput, PermissionDenied
from clinic.facility_file import export_facility, load_facility
from clinic.models import Appointment, AuditEvent, CourtOrder, CourtOrderRequirement
from tests.assistant.conftest import OTHER_THERAPIST, THERAPIST
from tests.assistant.test_attendance import Chat, _units, at, audit_count

GROUP = "a00012"  # 15:30-17:00, facilitated by Brian Romero (c004)
BRUCE, DUSTIN, KARA, AUTUMN, JESUS = "p0011", "p0022", "p0018", "p0026", "p0017"
"""Bruce: no authorization; Dustin and Kara: authorizations covering group; Autumn:
court-ordered (liaison s006); Jesus: on Amanda Diaz's (c003) caseload, who does not run it."""


@pytest.fixture()
def clock(set_now: Callable[[datetime], None]) -> Callable[[str], datetime]:
    """The booking service's clock and the dialogue's, at a time of the demo's Monday."""

    def set_to(hhmm: str) -> datetime:
        set_now(at(hhmm))
        return at(hhmm)

    return set_to


def outcomes(db: Database) -> tuple[str, bool, dict[str, str], dict[str, bool]]:
    """The group's status, whether it holds its time, each member's outcome and time."""
    with db.read() as session:
        row = session.get(Appointment, GROUP)
        assert row is not None
        return (
            row.status,
            row.active,
            {link.patient_id: link.status for link in row.patient_links},
            {link.patient_id: link.active for link in row.patient_links},
        )


def test_one_members_no_show_is_theirs_alone_and_releases_their_unit(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    dustin_before, kara_before = _units(demo_db, DUSTIN), _units(demo_db, KARA)
    chat = Chat(demo_db, THERAPIST, clock("16:00"))
    reply = chat.says("Dustin was a no-show in today's group").reply
    assert reply.startswith("Marked a no-show Dustin Cruz"), reply
    status, active, own, _ = outcomes(demo_db)
    assert (status, active) == ("booked", True), "the session goes on"
    assert own[DUSTIN] == "no_show"
    assert {p: s for p, s in own.items() if p != DUSTIN} == dict.fromkeys(
        set(own) - {DUSTIN}, "booked"
    ), "the others' outcomes are untouched"
    with demo_db.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == GROUP).order_by(AuditEvent.seq)
        ).all()[-1]
        assert (event.action, event.actor) == ("appointment.set_status.participant", THERAPIST)
        assert event.after and event.after["outcomes"] == {DUSTIN: "no_show"}
    # AUTH-03: his booked unit is released (a no-show the payer does not charge); Kara's unit
    # is still booked, and used once she is marked attended.
    assert _units(demo_db, DUSTIN) == {
        "used": dustin_before["used"],
        "booked": dustin_before["booked"] - 1,
        "remaining": dustin_before["remaining"] + 1,
    }
    assert _units(demo_db, KARA) == kara_before
    assert chat.says("Kara attended").reply.startswith("Marked attended Kara Beck")
    assert _units(demo_db, KARA) == {
        "used": kara_before["used"] + 1,
        "booked": kara_before["booked"] - 1,
        "remaining": kara_before["remaining"],
    }
    # His no-show is final: it cannot become attended by a later word.
    assert "no session" in chat.says("Dustin attended").reply.lower()
    assert outcomes(demo_db)[2][DUSTIN] == "no_show"


def test_a_members_check_in_checks_in_only_them(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    chat = Chat(demo_db, THERAPIST, clock("15:25"))
    assert chat.says("Bruce checked in").reply.startswith("Checked in Bruce Barnes")
    status, _, own, _ = outcomes(demo_db)
    assert status == "booked" and own[BRUCE] == "checked_in"
    assert sorted(set(own.values())) == ["booked", "checked_in"]
    assert list(own.values()).count("checked_in") == 1


def test_a_therapist_who_does_not_run_the_group_is_refused(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    # Jesus is on Amanda Diaz's caseload, but she does not facilitate his group: attendance is
    # recorded by whoever held the session (PERM-OWN-SESSIONS).
    before = audit_count(demo_db)
    reply = Chat(demo_db, OTHER_THERAPIST, clock("16:00")).says(
        "Jesus Larsen was a no-show in today's group"
    )
    assert "only for sessions they hold" in reply.reply, reply.reply
    assert outcomes(demo_db)[2][JESUS] == "booked" and audit_count(demo_db) == before
    caller = callers.for_staff(demo_db, OTHER_THERAPIST)
    with pytest.raises(PermissionDenied, match="only for sessions they hold"):
        attendance.mark(demo_db, caller, attendance.Mark(GROUP, "no_show", patient=JESUS))
    assert audit_count(demo_db) == before


def _require_group_for_autumn(db: Database) -> None:
    """The court also requires her group (the demo's orders require individual sessions)."""
    with db.session() as session:
        order = session.scalars(select(CourtOrder).where(CourtOrder.patient_id == AUTUMN)).one()
        session.add(
            CourtOrderRequirement(court_order_id=order.id, session_type_id="group", per_week=1)
        )


def test_the_court_report_shows_the_members_own_outcome_and_a_day_marks_the_others(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    _require_group_for_autumn(demo_db)
    now = clock("17:05")
    chat = Chat(demo_db, THERAPIST, now)
    preview = chat.says("all my sessions today were attended except Autumn's").reply
    assert "Autumn Brown" in preview and "(excepted)" in preview, preview
    assert outcomes(demo_db)[2][AUTUMN] == "booked", "nothing before 'yes'"
    assert chat.says("yes").reply.startswith("Recorded")
    status, _, own, _ = outcomes(demo_db)
    assert own[AUTUMN] == "booked" and status == "booked", "she is left for a person to mark"
    assert {s for p, s in own.items() if p != AUTUMN} == {"attended"}
    unmarked = attendance.unmarked(
        demo_db, callers.for_staff(demo_db, THERAPIST), attendance.Unmarked(now.date(), now)
    )
    assert GROUP in [r.id for r in unmarked], "one member is still open"
    assert chat.says("Autumn was a no-show in today's group").reply.startswith(
        "Marked a no-show Autumn Brown"
    )
    status, _, own, _ = outcomes(demo_db)
    assert status == "attended" and own[AUTUMN] == "no_show", "every member marked: it is held"
    unmarked = attendance.unmarked(
        demo_db, callers.for_staff(demo_db, THERAPIST), attendance.Unmarked(now.date(), now)
    )
    assert GROUP not in [r.id for r in unmarked]
    liaison = callers.for_staff(demo_db, "s006")
    report = court_report(demo_db, liaison, AUTUMN, now=now)
    groups = [s for s in report.sessions if s["session_type"] == "group"]
    assert groups[-1]["start"].startswith("2026-11-30T15:30") and groups[-1]["status"] == "no_show"


def test_the_facility_file_round_trips_each_members_outcome(
    demo_db: Database, clock: Callable[[str], datetime], tmp_path: Any
) -> None:
    clock("16:00")
    caller = callers.for_staff(demo_db, THERAPIST)
    attendance.mark(demo_db, caller, attendance.Mark(GROUP, "no_show", patient=DUSTIN))
    attendance.mark(
        demo_db,
        caller,
        attendance.Mark(
            GROUP,
            "late_cancel",
            reason="called at 15:00",
            override_reason="make-up booked Wednesday",  # LOC-BELOW-BAND: his week runs short
            patient=BRUCE,
        ),
    )
    data = export_facility(demo_db)
    record = next(a for a in data["appointments"] if a["id"] == GROUP)
    assert record["status"] == "booked"
    assert record["outcomes"] == {BRUCE: "late_cancelled", DUSTIN: "no_show"}
    assert all("outcomes" not in a for a in data["appointments"] if a["id"] != GROUP)
    copy = open_database(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    try:
        load_facility(copy, data, actor="test")
        assert outcomes(copy)[2:] == outcomes(demo_db)[2:]
        assert outcomes(copy)[3][BRUCE] is False, "his late cancel frees his time"
        assert export_facility(copy)["appointments"] == data["appointments"]
    finally:
        copy.dispose()
    # A member's outcome for someone not in the session is refused, naming the field.
    bad = {**data, "appointments": [dict(a) for a in data["appointments"]]}
    index = next(i for i, a in enumerate(bad["appointments"]) if a["id"] == GROUP)
    bad["appointments"][index]["outcomes"] = {"p0001": "no_show"}
    other = open_database(f"sqlite:///{tmp_path / 'bad.sqlite3'}")
    try:
        with pytest.raises(InvalidInput) as refused:
            load_facility(other, bad, actor="test")
        assert f"$.appointments[{index}].outcomes.p0001: 'p0001' is not one of its patients" in (
            refused.value.problems
        )
    finally:
        other.dispose()


def test_a_moved_group_keeps_each_members_outcome(
    demo_db: Database, clock: Callable[[str], datetime]
) -> None:
    clock("15:00")
    service = BookingService(demo_db)  # the service alone: its own checks, no rule packs
    service.set_participant_status(THERAPIST, GROUP, BRUCE, "late_cancelled", reason="called")
    with pytest.raises(InvalidInput, match="cancellation needs a reason"):
        service.set_participant_status(THERAPIST, GROUP, DUSTIN, "late_cancelled")
    service.move(THERAPIST, GROUP, minutes=75, reason="the group ends early today")
    status, active, own, holds = outcomes(demo_db)
    assert (status, active) == ("booked", True)
    assert own[BRUCE] == "late_cancelled" and not holds[BRUCE], "his place stays given up"
    assert own[DUSTIN] == "booked" and holds[DUSTIN]
