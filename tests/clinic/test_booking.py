"""The booking service: every conflict kind is refused with a message a person understands."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clinic.audit import verify_chain
from clinic.booking import (
    BookingRequest,
    BookingService,
    MoveRequest,
    PolicyDecision,
    ProposedChange,
)
from clinic.db import Database
from clinic.errors import BookingConflict, InvalidInput, NotFound, RuleViolation
from clinic.facility_file import load_facility
from clinic.models import Appointment, AuditEvent
from tests.clinic.helpers import small_facility

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=NY)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in the first week of December 2026 (Mon 30 Nov = day 30 of November)."""
    month = 11 if day >= 30 else 12
    return datetime(2026, month, day, hour, minute, tzinfo=NY)


@pytest.fixture()
def service(any_db: Database) -> BookingService:
    load_facility(any_db, small_facility())
    return BookingService(any_db, clock=lambda: NOW)


def individual(
    start: datetime, staff: str = "t1", patient: str = "p1", **kw: object
) -> BookingRequest:
    return BookingRequest(
        session_type="individual", start=start, staff=[staff], patients=[patient], **kw
    )


def test_booking_picks_a_suitable_room_and_audits(service: BookingService) -> None:
    booked = service.book("cm1", individual(at(30, 9)), reason="weekly session")
    assert booked.room == "ind-1"
    assert booked.end - booked.start == timedelta(minutes=45)
    with service.db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity_id == booked.id)).one()
        assert event.actor == "cm1" and event.action == "appointment.book"
        assert event.reason == "weekly session" and event.decision["allowed"] is True
        assert verify_chain(session).ok


@pytest.mark.parametrize(
    ("second", "words"),
    [
        (individual(at(30, 9, 30), patient="p2", room="ind-2"), r"Tara Quinn \(t1\) already has"),
        (individual(at(30, 9, 15), staff="t2", room="ind-2"), "patient p1 already has"),
        (
            individual(at(30, 9, 30), staff="t2", patient="p2", room="ind-1"),
            "is taken by appointment",
        ),
    ],
    ids=["staff-overlap", "patient-overlap", "room-overlap"],
)
def test_overlaps_are_refused(service: BookingService, second: BookingRequest, words: str) -> None:
    service.book("cm1", individual(at(30, 9), room="ind-1"))
    with pytest.raises(BookingConflict, match=words):
        service.book("cm1", second)


def test_back_to_back_is_fine(service: BookingService) -> None:
    first = service.book("cm1", individual(at(30, 9), room="ind-1"))
    second = service.book("cm1", individual(first.end, patient="p2", room="ind-1"))
    assert second.start == first.end


@pytest.mark.parametrize(
    ("request_", "error", "words"),
    [
        (
            individual(at(30, 9), room="grp-1"),
            BookingConflict,
            "is a group room; this session needs individual",
        ),
        (
            BookingRequest(
                session_type="group",
                start=at(30, 10),
                staff=["t2"],
                patients=["p1", "p2", "p3", "p4", "p5", "p6"],
                room="grp-1",
            ),
            BookingConflict,
            "holds 6 people, not 7",
        ),
        (individual(at(30, 17, 30), staff="t2"), BookingConflict, "outside facility hours"),
        (individual(at(5, 10), staff="t2"), BookingConflict, "outside facility hours"),  # Saturday
        (individual(at(30, 7, 30), staff="t2"), BookingConflict, "outside facility hours"),
        (individual(at(30, 16, 30)), BookingConflict, r"Tara Quinn \(t1\) does not work"),
        (individual(at(3, 10)), BookingConflict, "unavailable .*training"),
        (individual(at(2, 9), staff="t2", room="ind-2"), BookingConflict, "closed .*painting"),
        (
            BookingRequest(
                session_type="psychiatric_evaluation",
                start=at(1, 10),
                staff=["md1"],
                patients=["p1"],
            ),
            BookingConflict,
            "does not work",
        ),
        (individual(at(30, 9, 10)), InvalidInput, "15-minute grid"),
        (individual(at(30, 9), minutes=3), InvalidInput, "at least 5 minutes"),
        (
            BookingRequest(
                session_type="individual", start=at(30, 9), staff=["t1"], patients=["p1", "p2"]
            ),
            InvalidInput,
            "takes 1–1 patients",
        ),
        (
            BookingRequest(session_type="massage", start=at(30, 9), staff=["t1"], patients=["p1"]),
            NotFound,
            "unknown session type 'massage'",
        ),
        (individual(at(30, 9), staff="nobody"), NotFound, "no staff member with id 'nobody'"),
        (individual(at(30, 9), patient="p99"), NotFound, "no patient with id 'p99'"),
        (individual(at(30, 9), room="attic"), NotFound, "no room with id 'attic'"),
    ],
    ids=[
        "room-kind",
        "room-capacity",
        "after-close",
        "closed-day",
        "before-open",
        "staff-hours",
        "staff-unavailable",
        "room-closed",
        "prescriber-hours",
        "off-grid",
        "too-short",
        "too-many-patients",
        "unknown-type",
        "unknown-staff",
        "unknown-patient",
        "unknown-room",
    ],
)
def test_hard_checks(
    service: BookingService, request_: BookingRequest, error: type, words: str
) -> None:
    with pytest.raises(error, match=words):
        service.book("cm1", request_)
    with service.db.session() as session:
        assert session.scalar(select(Appointment.id)) is None  # nothing half-written


def test_no_free_room_of_the_kind(service: BookingService) -> None:
    service.book(
        "cm1",
        BookingRequest(
            session_type="psychiatric_evaluation",
            start=at(30, 10),
            staff=["md1"],
            patients=["p1"],
            room="med-1",
        ),
    )
    service.book("cm1", individual(at(30, 10), patient="p2", room="ind-1"))
    service.book("cm1", individual(at(30, 10), staff="t2", patient="p3", room="ind-2"))
    with pytest.raises(BookingConflict, match="no individual or telehealth room"):
        service.book(
            "cm1",
            BookingRequest(
                session_type="case_management", start=at(30, 10), staff=["cm1"], patients=["p4"]
            ),
        )


def test_cancel_frees_the_slot_and_needs_a_reason(service: BookingService) -> None:
    first = service.book("cm1", individual(at(30, 9), room="ind-1"))
    with pytest.raises(InvalidInput, match="needs a reason"):
        service.cancel("cm1", first.id, reason=" ")
    cancelled = service.cancel("cm1", first.id, reason="patient ill")
    assert cancelled.status == "cancelled"
    again = service.book("cm1", individual(at(30, 9), patient="p2", room="ind-1"))
    assert again.start == first.start
    with pytest.raises(InvalidInput, match="cannot become cancelled"):
        service.cancel("cm1", first.id, reason="twice")


def test_move_rechecks_everything_and_keeps_its_own_slot(service: BookingService) -> None:
    first = service.book("cm1", individual(at(30, 9), room="ind-1"))
    service.book("cm1", individual(at(30, 11), patient="p2", room="ind-1"))
    moved = service.move("cm1", first.id, start=at(30, 9, 15), reason="patient late")
    assert moved.start == at(30, 9, 15) and moved.room == "ind-1"
    with pytest.raises(BookingConflict, match="already has"):
        service.move("cm1", first.id, start=at(30, 11), reason="try a taken time")
    covered = service.move("cm1", first.id, staff=["t2"], reason="t1 out sick")
    assert covered.staff == ["t2"] and covered.start == at(30, 9, 15)
    assert service.get(first.id).staff == ["t2"]


def test_status_transitions(service: BookingService) -> None:
    booked = service.book("cm1", individual(at(30, 9)))
    with pytest.raises(InvalidInput, match="has not started yet"):
        service.set_status("nurse", booked.id, "attended")
    late = BookingService(service.db, clock=lambda: at(30, 10))
    assert late.set_status("nurse", booked.id, "checked_in").status == "checked_in"
    assert late.set_status("nurse", booked.id, "attended").status == "attended"
    with pytest.raises(InvalidInput, match="cannot become no_show"):
        late.set_status("nurse", booked.id, "no_show")
    with pytest.raises(InvalidInput, match="unknown status"):
        late.set_status("nurse", booked.id, "vanished")


def test_book_many_is_all_or_nothing(service: BookingService) -> None:
    good = individual(at(30, 9), room="ind-1")
    clash = individual(at(30, 9), patient="p2", room="ind-2")  # t1 twice
    with pytest.raises(BookingConflict, match="request 2 of 2"):
        service.book_many("planner", [good, clash])
    with service.db.session() as session:
        assert session.scalar(select(Appointment.id)) is None


class DenyCourtCancels:
    """A stand-in policy with the shape the rules layer provides."""

    def check(self, session: object, change: ProposedChange) -> PolicyDecision:
        if change.action == "cancel" and not change.override_reason:
            return PolicyDecision(
                False,
                [
                    {
                        "id": "COURT-02",
                        "severity": "require_override",
                        "message": "court-required session",
                    }
                ],
                message="COURT-02: cancelling a court-required session needs the liaison's override",
            )
        return PolicyDecision(
            True, obligations=["notify liaison"] if change.action == "cancel" else []
        )


def test_policy_hook_denies_and_the_audit_records_the_decision(service: BookingService) -> None:
    guarded = BookingService(service.db, DenyCourtCancels(), clock=lambda: NOW)
    booked = guarded.book("cm1", individual(at(30, 9)))
    with pytest.raises(RuleViolation, match="COURT-02"):
        guarded.cancel("cm1", booked.id, reason="conflict")
    assert guarded.get(booked.id).status == "booked"
    guarded.cancel("liaison", booked.id, reason="conflict", override_reason="judge approved")
    with service.db.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "appointment.cancel")
        ).one()
        assert event.decision["obligations"] == ["notify liaison"]
        assert event.before["status"] == "booked" and event.after["status"] == "cancelled"


def test_move_many_handles_chains_and_is_all_or_nothing(service: BookingService) -> None:
    first = service.book("cm1", individual(at(30, 9), room="ind-1"))
    second = service.book("cm1", individual(at(30, 10), patient="p2", room="ind-1"))
    # The first moves into the second's time, which the second leaves: only works in passes.
    moved = service.move_many(
        "cd",
        [MoveRequest(first.id, start=at(30, 10)), MoveRequest(second.id, start=at(30, 11))],
        reason="shift",
    )
    assert {m.id: m.start for m in moved} == {first.id: at(30, 10), second.id: at(30, 11)}
    # One impossible move (outside hours) and nothing moves at all.
    with pytest.raises(BookingConflict, match="nothing was changed"):
        service.move_many(
            "cd",
            [MoveRequest(first.id, start=at(30, 12)), MoveRequest(second.id, start=at(30, 20))],
            reason="bad",
        )
    assert service.get(first.id).start == at(30, 10)
    assert service.get(second.id).start == at(30, 11)
