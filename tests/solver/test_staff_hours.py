"""The plan sees a clinician's hours as the booking service does: a day they do not work is
no time at all, not the facility's whole day (found by the month simulation, whose morning
plans the booking service refused: "does not work at 2026-12-02T08:45")."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from assistant.problem_builder import build_problem
from clinic.db import Database
from clinic.models import Staff

WEDNESDAY = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)  # 08:00 in New York
THURSDAY = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


def test_a_clinician_who_does_not_work_that_day_has_no_time_in_the_plan(demo_db: Database) -> None:
    with demo_db.session() as session:
        part_timer = session.scalars(select(Staff).where(Staff.role == "therapist")).first()
        assert part_timer is not None
        part_timer.availability = {"mon": ["11:00-16:30"], "tue": ["15:00-19:00"]}
        other = session.scalars(
            select(Staff).where(Staff.role == "therapist", Staff.id != part_timer.id)
        ).first()
        assert other is not None
        ids = part_timer.id, other.id
    with demo_db.read() as session:
        built = build_problem(session, WEDNESDAY, THURSDAY)
    available = {s.id: s.available for s in built.problem.staff}
    assert available[ids[0]] == ()
    assert available[ids[1]]  # someone who works Wednesdays still has their hours
