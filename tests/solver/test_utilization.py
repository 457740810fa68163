"""One definition of utilization: the directors' report and the plan's figure count the same
people (the clinicians the credential rules qualify) over the same time."""

from __future__ import annotations

from datetime import date

from assistant import reports
from assistant.problem_builder import build_problem
from clinic.db import Database
from clinic.timeutil import day_bounds
from solver.metrics import utilization


def test_report_and_plan_agree_on_staff_utilization(demo_db: Database) -> None:
    tz = demo_db.facility_tz()
    start, _ = day_bounds(date(2026, 11, 30), tz)
    end, _ = day_bounds(date(2026, 12, 5), tz)
    with demo_db.read() as session:
        report = reports.utilization(session, start, end, start)
        built = build_problem(session, start, end)
    staff, rooms = utilization(built.problem, built.problem.booked)
    assert report.staff_utilization > 0
    assert round(staff, 3) == report.staff_utilization
    assert round(rooms, 3) == report.room_utilization
    # Front desk and the other staff who deliver no session are in neither figure.
    assert {r["role"] for r in report.by_staff}.isdisjoint({"front_desk", "auditor", "nurse"})
