"""A sick call's proposal is decided once: applied (everything in one transaction), given
another cover for a session, rejected, or withdrawn with the absence itself."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant import callers
from assistant.usecases import absences
from clinic.booking import BookingService
from clinic.db import Database
from clinic.errors import BookingConflict, InvalidInput
from clinic.models import Appointment, AuditEvent, Proposal, StaffUnavailability
from tests.assistant.conftest import CASE_MANAGER, DIRECTOR, END_OF_DAY, NOW, THERAPIST

Grant = Callable[[dict[str, str]], None]


def _sick_call(db: Database) -> dict[str, Any]:
    therapist = callers.for_staff(db, THERAPIST)
    proposal = absences.report_absence(
        db, therapist, absences.ReportAbsence(THERAPIST, NOW, END_OF_DAY, NOW)
    )
    assert proposal["moves"], "the therapist has sessions today that need cover"
    return proposal


def _count(db: Database, action: str, entity: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    if entity is not None:
        query = query.where(AuditEvent.entity_id == entity)
    with db.read() as session:
        return int(session.scalar(query) or 0)


@pytest.mark.slow
def test_two_approvers_at_once_apply_a_proposal_exactly_once(
    any_demo_db: Database, grant_roles: Grant, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = any_demo_db
    grant_roles({CASE_MANAGER: "director"})
    proposal = _sick_call(db)
    moves_before = _count(db, "appointment.move")
    # Both approvers are let into the moves together if the code lets them: whoever moves
    # first waits (briefly) for the other to arrive before going on.
    arrived = threading.Barrier(2, timeout=1.0)
    move_many = BookingService.move_many

    def meet_then_move(self: BookingService, *args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait()
        return move_many(self, *args, **kwargs)

    monkeypatch.setattr(BookingService, "move_many", meet_then_move)
    start = threading.Barrier(2)
    results: dict[str, Any] = {}

    def approve(staff_id: str) -> None:
        approver = callers.for_staff(db, staff_id)
        start.wait()
        try:
            results[staff_id] = absences.apply_proposal(
                db, approver, absences.ApplyProposal(proposal["id"])
            )
        except (InvalidInput, BookingConflict) as exc:
            results[staff_id] = exc

    threads = [threading.Thread(target=approve, args=(s,)) for s in (DIRECTOR, CASE_MANAGER)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    applied = [r for r in results.values() if isinstance(r, dict)]
    refused = [r for r in results.values() if isinstance(r, Exception)]
    assert len(applied) == 1 and len(refused) == 1, results
    assert "already applied" in str(refused[0])
    assert _count(db, "proposal.apply", proposal["id"]) == 1
    assert _count(db, "appointment.move") - moves_before == len(proposal["moves"])
    with db.read() as session:
        row = session.get(Proposal, proposal["id"])
        assert row is not None and row.status == "applied"


def test_a_failed_apply_leaves_the_proposal_pending_and_nothing_moved(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    proposal = _sick_call(demo_db)
    director = callers.for_staff(demo_db, DIRECTOR)

    def no_room(self: BookingService, *args: Any, **kwargs: Any) -> Any:
        raise BookingConflict("the schedule changed")

    monkeypatch.setattr(BookingService, "move_many", no_room)
    with pytest.raises(BookingConflict):
        absences.apply_proposal(demo_db, director, absences.ApplyProposal(proposal["id"]))
    with demo_db.read() as session:
        assert session.get(Proposal, proposal["id"]).status == "pending"
    assert _count(demo_db, "proposal.apply") == 0
    monkeypatch.undo()
    outcome = absences.apply_proposal(demo_db, director, absences.ApplyProposal(proposal["id"]))
    assert outcome["moved"] == len(proposal["moves"])


def test_adjust_picks_another_cover_which_apply_then_books(demo_db: Database) -> None:
    proposal = _sick_call(demo_db)
    director = callers.for_staff(demo_db, DIRECTOR)
    move = proposal["moves"][0]
    with pytest.raises(InvalidInput, match="out"):
        absences.change_cover(
            demo_db,
            director,
            absences.ChangeCover(proposal["id"], move["appointment"], (THERAPIST,)),
        )
    options = absences.covers(demo_db, director, proposal["id"], move["appointment"])
    assert options and not set(options) & {THERAPIST, *move["after"]["staff"]}
    chosen = options[0]
    absences.change_cover(
        demo_db, director, absences.ChangeCover(proposal["id"], move["appointment"], (chosen,))
    )
    assert _count(demo_db, "proposal.adjust", proposal["id"]) == 1
    outcome = absences.apply_proposal(demo_db, director, absences.ApplyProposal(proposal["id"]))
    assert outcome["moved"] == len(proposal["moves"])
    with demo_db.read() as session:
        row = session.get(Appointment, move["appointment"])
        assert row is not None and row.staff_ids == [chosen]
        assert row.start == datetime.fromisoformat(move["before"]["start"])


def test_withdraw_removes_the_absence_and_moves_nothing(demo_db: Database) -> None:
    proposal = _sick_call(demo_db)
    director = callers.for_staff(demo_db, DIRECTOR)
    with demo_db.read() as session:
        assert session.scalar(
            select(func.count())
            .select_from(StaffUnavailability)
            .where(StaffUnavailability.staff_id == THERAPIST)
        )
        before = {a.id: (a.start, a.staff_ids) for a in session.scalars(select(Appointment))}
    done = absences.withdraw_absence(demo_db, director, absences.WithdrawAbsence(proposal["id"]))
    assert done["removed"]
    with demo_db.read() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(StaffUnavailability)
                .where(StaffUnavailability.staff_id == THERAPIST)
            )
            == 0
        )
        assert session.get(Proposal, proposal["id"]).status == "withdrawn"
        after = {a.id: (a.start, a.staff_ids) for a in session.scalars(select(Appointment))}
    assert after == before
    assert _count(demo_db, "staff.available", THERAPIST) == 1
    with pytest.raises(InvalidInput, match="already withdrawn"):
        absences.apply_proposal(demo_db, director, absences.ApplyProposal(proposal["id"]))
