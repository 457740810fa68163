"""Recurring series: "book Jamie with Dana every Tuesday at 2 pm for 8 weeks", all or nothing,
every failing week named with its reason; move or cancel this, following or all. A small
hand-made facility; the clock is fixed at Mon 30 Nov 2026 08:30 in New York."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from assistant.problem_builder import build_problem
from assistant.usecases import closures, series
from clinic.audit import verify_chain
from clinic.db import Database
from clinic.errors import InvalidInput, PermissionDenied
from clinic.facility_file import load_facility
from clinic.models import Appointment, AuditEvent
from clinic.outbox_models import OutboxMessage
from clinic.tokens import Caller

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=NY)
CASE_MANAGER = Caller("casey", "Casey Moore", "case_manager")
OTHER_THERAPIST = Caller("omar", "Omar Field", "counselor")
FRONT_DESK = Caller("casey", "Casey Moore", "front_desk")
TUESDAYS = [
    date(2026, 12, 1),
    date(2026, 12, 8),
    date(2026, 12, 15),
    date(2026, 12, 22),
    date(2026, 12, 29),
    date(2027, 1, 5),
    date(2027, 1, 12),
    date(2027, 1, 19),
]
WEEKDAYS = {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def facility(*, leave: str | None = None, units: int | None = None) -> dict[str, Any]:
    """Jamie Rivera (Dana Reyes's patient), Dana, a case manager and one office. `leave`: a day
    Dana is away; `units`: Jamie's payer authorization for individual sessions."""
    jamie: dict[str, Any] = {
        "id": "jamie",
        "name": "Jamie Rivera",
        "level_of_care": "1.0",
        "primary_clinician": "dana",
        "contact": {"channel": "sms", "phone": "+15550100", "consent_reminders": True},
    }
    if units is not None:
        jamie["authorizations"] = [
            {
                "id": "AUTH-J1",
                "payer": "Acme Health",
                "session_types": ["individual"],
                "units": units,
                "start": "2026-11-01",
                "end": "2027-03-31",
            }
        ]
    dana: dict[str, Any] = {
        "id": "dana",
        "name": "Dana Reyes",
        "role": "therapist",
        "credentials": ["LCSW"],
        "availability": WEEKDAYS,
    }
    if leave:
        dana["unavailable"] = [
            {"start": f"{leave}T00:00:00", "end": f"{leave}T23:59:00", "reason": "annual leave"}
        ]
    return {
        "version": 1,
        "facility": {"name": "Series Clinic", "timezone": "America/New_York"},
        "rooms": [{"id": "office-1", "name": "Office 1", "kind": "individual", "capacity": 2}],
        "staff": [
            dana,
            {"id": "casey", "name": "Casey Moore", "role": "case_manager"},
            {
                "id": "omar",
                "name": "Omar Field",
                "role": "counselor",
                "credentials": ["CADC"],
                "availability": WEEKDAYS,
            },
        ],
        "patients": [jamie],
    }


@pytest.fixture()
def clinic(db: Database, set_now: Callable[[datetime], None]) -> Iterator[Callable[..., Database]]:
    set_now(NOW)

    def load(**kwargs: Any) -> Database:
        load_facility(db, facility(**kwargs), actor="test")
        return db

    yield load


def weekly(**changes: Any) -> series.BookSeries:
    base: dict[str, Any] = {
        "patient": "jamie",
        "staff": "dana",
        "session_type": "individual",
        "weekday": "tue",
        "time": "14:00",
        "count": 8,
    }
    return series.BookSeries(**(base | changes))


def booked_days(db: Database) -> list[date]:
    with db.read() as session:
        rows = session.scalars(
            select(Appointment).where(Appointment.active).order_by(Appointment.start)
        ).all()
        return [r.start.astimezone(NY).date() for r in rows]


def test_the_whole_series_is_booked_in_one_go(clinic: Callable[..., Database]) -> None:
    db = clinic()
    outcome = series.book_series(db, CASE_MANAGER, weekly())
    assert outcome.written and not outcome.failed
    assert outcome.days == TUESDAYS
    assert booked_days(db) == TUESDAYS
    assert all(a.start.astimezone(NY).hour == 14 for a in outcome.done)
    shown = series.show_series(db, CASE_MANAGER, outcome.series["id"])  # type: ignore[index]
    assert [o["occurrence"] for o in shown["occurrences"]] == list(range(1, 9))
    with db.read() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("appointment.book") == 8 and actions.count("series.book") == 1


def test_a_week_on_leave_books_nothing_and_names_that_week(
    clinic: Callable[..., Database],
) -> None:
    db = clinic(leave="2026-12-15")
    outcome = series.book_series(db, CASE_MANAGER, weekly())
    assert outcome.refused and outcome.series is None
    assert booked_days(db) == []
    assert [f.day for f in outcome.failed] == [date(2026, 12, 15)]
    words = outcome.failed[0].words()
    assert words.startswith("Tue 15 Dec: ") and "annual leave" in words and "Dana Reyes" in words


def test_skip_failing_books_the_other_weeks_and_lists_the_skipped_one(
    clinic: Callable[..., Database],
) -> None:
    db = clinic(leave="2026-12-15")
    outcome = series.book_series(db, CASE_MANAGER, weekly(skip_failing=True))
    assert outcome.written and [f.day for f in outcome.failed] == [date(2026, 12, 15)]
    assert booked_days(db) == [d for d in TUESDAYS if d != date(2026, 12, 15)]
    positions = [o["occurrence"] for o in outcome.series["occurrences"]]  # type: ignore[index]
    assert positions == [1, 2, 4, 5, 6, 7, 8]
    with db.read() as session:  # the week rolled back left no gap in the audit chain
        assert verify_chain(session).ok


def test_a_series_across_a_holiday_reports_the_conflict(clinic: Callable[..., Database]) -> None:
    db = clinic()
    closures.close_facility(  # the facility closed all of Tue 15 Dec (week 3)
        db,
        FRONT_DESK,
        closures.CloseFacility(date(2026, 12, 15), date(2026, 12, 15), "staff holiday"),
    )
    outcome = series.book_series(db, CASE_MANAGER, weekly())
    assert outcome.refused and booked_days(db) == []
    assert len(outcome.failed) == 1
    assert outcome.failed[0].position == 3
    assert outcome.failed[0].words().startswith("Tue 15 Dec: the facility is closed")
    assert "staff holiday" in outcome.failed[0].words()


def test_units_over_the_whole_span_refuse_weeks_7_and_8(clinic: Callable[..., Database]) -> None:
    db = clinic(units=6)
    outcome = series.book_series(db, CASE_MANAGER, weekly())
    assert outcome.refused and booked_days(db) == []
    assert [f.position for f in outcome.failed] == [7, 8]
    assert [f.day for f in outcome.failed] == TUESDAYS[6:]
    assert all(f.rules == ("AUTH-UNITS",) for f in outcome.failed)
    words = outcome.failed[0].words()  # the six earlier weeks took the units
    assert words.startswith("Tue 12 Jan: ") and "AUTH-UNITS" in words and "6 booked" in words
    six = series.book_series(db, CASE_MANAGER, weekly(count=6))
    assert six.written and booked_days(db) == TUESDAYS[:6]


def _notices(db: Database) -> list[list[str]]:
    """The appointments of each change notice queued for a patient, oldest first."""
    with db.read() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "changed")
            .order_by(OutboxMessage.id)
        )
        return [list(r.appointment_ids) for r in rows]


def test_cancel_this_following_and_all(clinic: Callable[..., Database]) -> None:
    db = clinic()
    made = series.book_series(db, CASE_MANAGER, weekly())
    sid = made.series["id"]  # type: ignore[index]
    one = series.cancel_series(
        db, CASE_MANAGER, series.CancelSeries(sid, "this", "patient away", occurrence=2)
    )
    assert [a.start.astimezone(NY).date() for a in one.done] == [TUESDAYS[1]]
    assert booked_days(db) == [d for i, d in enumerate(TUESDAYS) if i != 1]
    rest = series.cancel_series(
        db, CASE_MANAGER, series.CancelSeries(sid, "following", "moving away", occurrence=6)
    )
    assert len(rest.done) == 3 and booked_days(db) == [TUESDAYS[0], *TUESDAYS[2:5]]
    assert rest.series["status"] == "active"  # type: ignore[index]
    notices = _notices(db)
    assert len(notices) == 2  # one per change, not one per occurrence
    assert len(notices[1]) == 3
    everything = series.cancel_series(
        db, CASE_MANAGER, series.CancelSeries(sid, "all", "discharged")
    )
    assert len(everything.done) == 4 and booked_days(db) == []
    told = {n.get("staff") or n.get("patient"): n["count"] for n in everything.notify}
    assert told == {"dana": 4, "jamie": 4}  # Dana once, Jamie once, for the whole change
    assert everything.series["status"] == "cancelled"  # type: ignore[index]
    assert len(_notices(db)) == 3


def test_move_following_to_another_time_and_clinician(clinic: Callable[..., Database]) -> None:
    db = clinic()
    sid = series.book_series(db, CASE_MANAGER, weekly(count=4)).series["id"]  # type: ignore[index]
    moved = series.change_series(
        db,
        CASE_MANAGER,
        series.ChangeSeries(sid, "following", "Dana's new hours", occurrence=3, time="15:30"),
    )
    assert moved.written and len(moved.done) == 2
    shown = series.show_series(db, CASE_MANAGER, sid)
    hours = [
        datetime.fromisoformat(o["start"]).astimezone(NY).strftime("%H:%M")
        for o in shown["occurrences"]
    ]
    assert hours == ["14:00", "14:00", "15:30", "15:30"]
    assert shown["time"] == "15:30"
    assert len(_notices(db)) == 1
    handed = series.change_series(
        db, CASE_MANAGER, series.ChangeSeries(sid, "all", "handover", staff="omar")
    )
    assert handed.written, [f.words() for f in handed.failed]
    assert {
        tuple(o["staff"]) for o in series.show_series(db, CASE_MANAGER, sid)["occurrences"]
    } == {("omar",)}


def test_a_move_that_fails_one_week_changes_nothing_and_names_it(
    clinic: Callable[..., Database],
) -> None:
    db = clinic(leave="2026-12-22")
    made = series.book_series(db, CASE_MANAGER, weekly(count=3))  # 1, 8 and 15 Dec
    sid = made.series["id"]  # type: ignore[index]
    moved = series.change_series(
        db, CASE_MANAGER, series.ChangeSeries(sid, "all", "later day", weekday="thu")
    )
    assert moved.written and booked_days(db) == [
        date(2026, 12, 3),
        date(2026, 12, 10),
        date(2026, 12, 17),
    ]
    refused = series.change_series(
        db, CASE_MANAGER, series.ChangeSeries(sid, "all", "evening", time="17:30")
    )
    assert refused.refused and len(refused.failed) == 3
    assert refused.failed[0].words().startswith("Thu 03 Dec: ")
    assert booked_days(db)[0] == date(2026, 12, 3)
    earlier = series.change_series(  # Monday of this week, 08:00: already past at 08:30
        db, CASE_MANAGER, series.ChangeSeries(sid, "all", "x", weekday="mon", time="08:00")
    )
    assert earlier.refused
    assert [f.words() for f in earlier.failed] == ["Mon 30 Nov: that time has already passed"]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"count": 0}, "1 to 52"),
        ({"count": 53}, "1 to 52"),
        ({"weekday": "tuseday"}, "did you mean tuesday"),
        ({"time": "2pm"}, "HH:MM"),
        ({"count": None}, "number of weeks"),
    ],
)
def test_bad_input_is_told_plainly(
    clinic: Callable[..., Database], changes: dict[str, Any], words: str
) -> None:
    db = clinic()
    with pytest.raises(InvalidInput, match=words):
        series.book_series(db, CASE_MANAGER, weekly(**changes))
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_booking_a_series_needs_the_same_permission_as_one_booking(
    clinic: Callable[..., Database],
) -> None:
    db = clinic()
    with pytest.raises(PermissionDenied):  # a counselor, not Jamie's clinician
        series.book_series(db, OTHER_THERAPIST, weekly())
    assert booked_days(db) == []


def test_until_a_date_counts_the_weeks(clinic: Callable[..., Database]) -> None:
    db = clinic()
    outcome = series.book_series(
        db,
        CASE_MANAGER,
        weekly(count=None, weekday="thursday", time="10:00", until=date(2027, 1, 31)),
    )
    assert outcome.written and len(outcome.days) == 9
    assert outcome.days[0] == date(2026, 12, 3) and outcome.days[-1] == date(2027, 1, 28)


def test_units_and_savepoints_on_both_databases(
    any_db: Database, set_now: Callable[[datetime], None]
) -> None:
    """The same weeks refused on PostgreSQL (exclusion constraints, real savepoints) as on
    SQLite, and the weeks that fit booked with --skip-failing."""
    set_now(NOW)
    load_facility(any_db, facility(units=6, leave="2026-12-15"), actor="test")
    refused = series.book_series(any_db, CASE_MANAGER, weekly())
    assert [f.position for f in refused.failed] == [3, 8]  # the leave frees a unit for week 7
    assert booked_days(any_db) == []
    kept = series.book_series(any_db, CASE_MANAGER, weekly(skip_failing=True))
    assert kept.written and booked_days(any_db) == [
        d for i, d in enumerate(TUESDAYS) if i not in (2, 7)
    ]
    gone = series.cancel_series(
        any_db,
        CASE_MANAGER,
        series.CancelSeries(kept.series["id"], "all", "discharged"),  # type: ignore[index]
    )
    assert len(gone.done) == 6 and booked_days(any_db) == []


def test_the_slot_finder_sees_no_open_hours_on_a_holiday(clinic: Callable[..., Database]) -> None:
    db = clinic()
    closures.close_facility(
        db, FRONT_DESK, closures.CloseFacility(date(2026, 12, 15), date(2026, 12, 15), "holiday")
    )
    with db.read() as session:
        built = build_problem(
            session, datetime(2026, 12, 14, tzinfo=NY), datetime(2026, 12, 17, tzinfo=NY)
        )
    assert [d.date for d in built.problem.days] == [date(2026, 12, 14), date(2026, 12, 16)]
