"""REST resource over recurring series (assistant.usecases.series): book a weekly series, show
it, move or cancel this occurrence, this and the following ones, or all.

A series refused because some week does not fit answers 409 with every failing week in
`failed` ("Tue 15 Dec: … (rule)"); nothing was booked or changed then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from assistant.access import redact_for
from assistant.usecases import series
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.timeutil import parse_date
from clinic.tokens import Caller
from integrations.http.api import ApiController
from integrations.http.auth import BOOKING
from integrations.http.fields import WEEKDAYS, OptionalDay, OptionalTimeOfDay, TimeOfDay, described
from integrations.http.problems import problem


@dataclass
class NewSeries:
    """POST /api/series: weekly on `weekday` (mon … sun) at `time` (facility-local HH:MM),
    `count` sessions (1–52) or until the day `until` (YYYY-MM-DD)."""

    patient: str
    staff: str
    session_type: str
    weekday: Annotated[str, described("mon … sun (a full name is read too)", enum=WEEKDAYS)]
    time: TimeOfDay
    count: Annotated[int | None, described("How many weeks (or give until)", ge=1, le=52)] = None
    until: OptionalDay = None
    first_day: OptionalDay = None
    room: str | None = None
    minutes: int | None = None
    skip_failing: bool = False
    reason: str | None = None
    override_reason: str | None = None


@dataclass
class SeriesChange:
    """PATCH /api/series/{id}: move the occurrences in `scope` (this | following | all),
    counted from occurrence `from_occurrence` (1-based; default: the next one), to a new time, weekday
    or clinician."""

    scope: Annotated[str, described(enum=SCOPES)]
    reason: str
    time: OptionalTimeOfDay = None
    weekday: str | None = None
    staff: str | None = None
    from_occurrence: Annotated[int | None, described(ge=1)] = None
    override_reason: str | None = None


SCOPES = ("this", "following", "all")


def _day(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return parse_date(text)
    except (InvalidInput, ValueError) as exc:
        raise InvalidInput(
            f"{field}: {text!r} is not a date (YYYY-MM-DD)", [f"{field}: not YYYY-MM-DD"]
        ) from exc


def _answer(
    db: Database, caller: Caller, outcome: series.SeriesOutcome, status: int, what: str
) -> Response[dict[str, Any]]:
    tz = db.facility_tz()
    if outcome.refused:
        n = len(outcome.failed)
        return problem(
            409,
            "SeriesRefused",
            f"{n} of {len(outcome.days)} week(s) cannot be {what}; nothing was changed: "
            + "; ".join(f.words() for f in outcome.failed),
            failed=[f.as_record() for f in outcome.failed],
        )
    body = outcome.as_record()
    body["appointments"] = [redact_for(db, caller, a, tz) for a in outcome.done]
    return Response(body, status_code=status)


class SeriesController(ApiController):
    path = "/api/series"
    tags = ["series"]

    @post("/", sync_to_thread=True, opt=BOOKING)
    def create(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        data: JSONBody[NewSeries],
    ) -> Response[dict[str, Any]]:
        """Book every week through the booking service, all or nothing (or, with
        `skip_failing`, the weeks that fit: the others are listed in `failed`)."""
        outcome = series.book_series(
            db,
            caller,
            series.BookSeries(
                patient=data.patient,
                staff=data.staff,
                session_type=data.session_type,
                weekday=data.weekday,
                time=data.time,
                count=data.count,
                until=_day(data.until, "until"),
                first_day=_day(data.first_day, "first_day"),
                room=data.room,
                minutes=data.minutes,
                skip_failing=data.skip_failing,
                reason=data.reason,
                override_reason=data.override_reason,
            ),
        )
        return _answer(db, caller, outcome, 201, "booked")

    @get("/{series_id:str}", sync_to_thread=True)
    def show(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        series_id: FromPath[str],
    ) -> dict[str, Any]:
        """The series' pattern and each occurrence with its appointment and status."""
        return series.show_series(db, caller, series_id)

    @patch("/{series_id:str}", sync_to_thread=True, opt=BOOKING)
    def change(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        series_id: FromPath[str],
        data: JSONBody[SeriesChange],
    ) -> Response[dict[str, Any]]:
        """Move this occurrence, this and the following ones, or all (all or nothing)."""
        outcome = series.change_series(
            db,
            caller,
            series.ChangeSeries(
                series_id,
                data.scope,  # type: ignore[arg-type]  # checked by the use case
                data.reason,
                occurrence=data.from_occurrence,
                time=data.time,
                weekday=data.weekday,
                staff=data.staff,
                override_reason=data.override_reason,
            ),
        )
        return _answer(db, caller, outcome, 200, "moved")

    @delete("/{series_id:str}", sync_to_thread=True, status_code=200, opt=BOOKING)
    def cancel(
        self,
        db: NamedDependency[Database],
        caller: NamedDependency[Caller],
        series_id: FromPath[str],
        reason: str = QueryParameter(name="reason", description="Why (required)"),
        which: str = QueryParameter(
            name="scope", default="all", enum=SCOPES, description="this | following | all"
        ),
        occurrence: int | None = QueryParameter(
            name="from", default=None, ge=1, description="Counted from this occurrence (1-based)"
        ),
        override_reason: str | None = QueryParameter(name="override_reason", default=None),
    ) -> Response[dict[str, Any]]:
        """Cancel this occurrence, this and the following ones, or all still to come."""
        outcome = series.cancel_series(
            db,
            caller,
            series.CancelSeries(
                series_id,
                which,  # type: ignore[arg-type]  # checked by the use case
                reason,
                occurrence=occurrence,
                override_reason=override_reason,
            ),
        )
        return _answer(db, caller, outcome, 200, "cancelled")
