"""/api/staff: add a staff member, change their record, leave (planned) and departure, over the
staff use cases. Bodies are the facility file's objects (a staff record, a period)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from assistant.usecases import staff
from assistant.usecases.periods import read_period
from clinic.db import Database
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from integrations.http.api import ApiController
from integrations.http.contracts import facility_object, json_object

NewStaff = Annotated[dict[str, Any], json_object(facility_object("staff"))]
StaffChanges = Annotated[dict[str, Any], json_object(facility_object("staff", partial=True))]
LEAVE = facility_object("period", optional=("end",), for_good={"type": "boolean"})
Leave = Annotated[dict[str, Any], json_object(LEAVE | {"additionalProperties": False})]


class StaffController(ApiController):
    path = "/api/staff"
    tags = ["staff"]

    @post("/", sync_to_thread=True, status_code=201)
    def add(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        data: NewStaff,
    ) -> dict[str, Any]:
        """Add a staff member (the facility file's staff object, checked as the file is)."""
        return staff.add_staff(db, caller, staff.AddStaff(data))

    @patch("/{staff_id:str}", sync_to_thread=True)
    def update(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        staff_id: FromPath[str],
        data: StaffChanges,
    ) -> dict[str, Any]:
        """Change fields of the staff record (JSON merge patch: null removes a field), e.g.
        availability, max_minutes_per_week, specializations."""
        return staff.update_staff(db, caller, staff.UpdateStaff(staff_id, data))

    @post("/{staff_id:str}/leave", sync_to_thread=True, status_code=201)
    def leave(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        staff_id: FromPath[str],
        data: Leave,
    ) -> dict[str, Any]:
        """Planned leave: a period `{start, end, reason}`; the repair proposal is returned.
        `{start, reason, "for_good": true}` (no end): they leave the facility (their sessions
        from then on are proposed for cover, their tokens revoked)."""
        now = now_utc()
        for_good = data.get("for_good") is True
        period = read_period(
            data, db.facility_tz(), need_end=not for_good, also=frozenset({"for_good"})
        )
        if for_good:
            return staff.depart(
                db, caller, staff.Depart(staff_id, period.start, now, reason=period.reason)
            )
        assert period.end is not None
        return staff.planned_leave(
            db,
            caller,
            staff.PlannedLeave(staff_id, period.start, period.end, now, reason=period.reason),
        )
