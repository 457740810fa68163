"""/api/capacity: the assessment slots held for emergency admissions in a week
(OPS-EMERGENCY-HOLD), day by day, with the arrivals they were estimated from."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from assistant.usecases import capacity
from clinic.db import Database
from clinic.timeutil import now_utc
from clinic.tokens import Caller
from integrations.http.api import ApiController
from integrations.http.fields import WEEK_PATTERN


class CapacityController(ApiController):
    path = "/api/capacity"
    tags = ["capacity"]

    @get("", sync_to_thread=True)
    def week(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        week: str | None = QueryParameter(
            default=None,
            pattern=WEEK_PATTERN,
            description="An ISO week (2026-W49) or any date in it (default: this week)",
        ),
    ) -> dict[str, Any]:
        """The held slots of `week` (2026-W49 or any date in it; default this week)."""
        now = now_utc()
        day = capacity.parse_week(week, now.astimezone(db.facility_tz()).date())
        return capacity.week(db, caller, capacity.Week(day, now))
