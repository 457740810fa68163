"""The cached solver problem, patched after appointment changes, is the problem a fresh build
gives: the same booked sessions, unit budgets and recent clinicians, the same slot answers."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import datetime as _datetime
from typing import Any
from zoneinfo import ZoneInfo as _ZoneInfo

import pytest
from sqlalchemy import select

from assistant import callers, problem_cache
from assistant.optimize import SlotsQuery, offer_slots
from assistant.problem_builder import BuiltProblem, build_problem
from assistant.problem_cache import cached_problem
from assistant.usecases import absences
from assistant.usecases.appointments import Book, Cancel, Move, SetStatus, book, cancel, move
from assistant.usecases.appointments import set_status as record_status
from clinic.db import Database, open_database
from clinic.models import Appointment, Authorization, Patient
from clinic.timeutil import day_bounds
from clinic.versions import one_read_per_request, read_versions
from solver.model import SlotRequest
from solver.slots import NEAREST_DAYS, SlotFinder
from tests.assistant.conftest import DIRECTOR, END_OF_DAY, NOW, THERAPIST
from tests.conftest import pin_clock

demo_clock = pin_clock(_datetime(2026, 11, 30, 8, 0, tzinfo=_ZoneInfo("America/New_York")))
"""The demo's Monday, whatever the wall clock says (the tests read "now" against it)."""

TOMORROW = (NOW + timedelta(days=1)).replace(hour=8, minute=0)
DAY = (TOMORROW, END_OF_DAY + timedelta(days=1))
SEARCH = (DAY[0] - timedelta(days=NEAREST_DAYS), DAY[1] + timedelta(days=NEAREST_DAYS))
"""The window a "find a slot tomorrow" search asks the cache for (see offer_slots)."""
LATER = (END_OF_DAY + timedelta(days=7), END_OF_DAY + timedelta(days=9))
"""A window a week on: this week's sessions are among its recent clinicians."""


@pytest.fixture()
def builds(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Every full build the cache makes (a patch is not one)."""
    made: list[datetime] = []

    def counted(session: Any, start: datetime, end: datetime, **kw: Any) -> BuiltProblem:
        made.append(start)
        return build_problem(session, start, end, **kw)

    monkeypatch.setattr(problem_cache, "build_problem", counted)
    return made


def _days(db: Database, window: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    """The whole local days the cache builds a window's problem for."""
    tz = db.facility_tz()
    lo = day_bounds(window[0].astimezone(tz).date(), tz)[0]
    hi = day_bounds((window[1] - timedelta(microseconds=1)).astimezone(tz).date(), tz)[1]
    return lo, hi


def _fresh(db: Database, window: tuple[datetime, datetime]) -> BuiltProblem:
    with db.read() as session:
        return build_problem(session, *_days(db, window))


def _built(db: Database, builds: list[datetime], *windows: tuple[datetime, datetime]) -> int:
    """How many times the cache built these windows' problems in full."""
    return sum(builds.count(_days(db, w)[0]) for w in windows)


def _assert_current(
    db: Database, patients: list[str], window: tuple[datetime, datetime] = SEARCH
) -> BuiltProblem:
    """The cache's problem equals a fresh build, and both answer slot searches alike."""
    cached, fresh = cached_problem(db, *window), _fresh(db, window)
    assert cached.problem.booked == fresh.problem.booked
    assert cached.problem.eligibility.budgets == fresh.problem.eligibility.budgets
    assert cached.problem.patients == fresh.problem.patients
    assert cached.problem == fresh.problem
    clock = cached.clock
    window = (clock.minutes(DAY[0]), clock.minutes(DAY[1]))
    for patient in patients:
        request = SlotRequest(patients=(patient,), session_type="individual", window=window)
        ours = SlotFinder(cached.problem, cached.index()).find(request, 3)
        theirs = SlotFinder(fresh.problem).find(request, 3)
        assert ours == theirs
    return cached


def _covered_patient(db: Database) -> str:
    """A patient whose authorization pays for individual sessions (so a booking moves units)
    and who may have one tomorrow."""
    with db.read() as session:
        rows = session.execute(
            select(Authorization.patient_id, Authorization.session_types)
            .join(Patient)
            .order_by(Patient.position, Authorization.pk)
        ).all()
    for patient, session_types in rows:
        if "individual" in (session_types or []):
            answer, _ = offer_slots(db, SlotsQuery(patient, "individual", *DAY))
            if answer.options:
                return str(patient)
    raise AssertionError("no covered patient may have an individual session tomorrow")


def _seen_by(built: BuiltProblem, patient: str) -> tuple[str, ...]:
    return next(p.seen_by for p in built.problem.patients if p.id == patient)


def _budget(built: BuiltProblem, patient: str) -> int:
    return sum(
        b.remaining
        for b in built.problem.eligibility.budgets
        if b.patient == patient and "individual" in b.session_types
    )


def _book_first_option(db: Database, patient: str) -> str:
    answer, built = offer_slots(db, SlotsQuery(patient, "individual", *DAY))
    assert answer.options, answer.reason
    option = answer.options[0]
    director = callers.for_staff(db, DIRECTOR)
    view = book(
        db,
        director,
        Book("individual", built.clock.moment(option.start), option.staff, (patient,), option.room),
    )
    return view.id


def test_appointment_changes_patch_the_problem_to_what_a_fresh_build_gives(
    demo_db: Database, builds: list[datetime]
) -> None:
    db = demo_db
    patient = _covered_patient(db)
    with db.read() as session:
        others = list(session.scalars(select(Patient.id).order_by(Patient.position)))[:4]
    patients = [patient, *others]
    before = _assert_current(db, patients)
    _assert_current(db, patients, LATER)
    assert _built(db, builds, SEARCH, LATER) == 2
    director = callers.for_staff(db, DIRECTOR)

    booked = _book_first_option(db, patient)
    after = _assert_current(db, patients)
    _assert_current(db, patients, LATER)
    assert booked in {a.id for a in after.problem.booked}
    assert _budget(after, patient) == _budget(before, patient) - 1

    seen = _seen_by(_assert_current(db, patients, LATER), patient)
    change = _to_someone_new(db, booked, not_with=seen[0])
    move(db, director, change)
    _assert_current(db, patients)
    moved = _assert_current(db, patients, LATER)
    assert _seen_by(moved, patient)[0] == change.staff[0], "whom the patient saw last moved"
    cancel(db, director, Cancel(booked, "patient ill", override_reason="make-up next week"))
    after_cancel = _assert_current(db, patients)
    assert booked not in {a.id for a in after_cancel.problem.booked}
    assert _budget(after_cancel, patient) == _budget(before, patient)

    # A late cancellation today frees its time.
    today = _booked_today(db)
    record_status(
        db, director, SetStatus(today, "late_cancelled", override_reason="make-up next week")
    )
    after_status = _assert_current(db, patients)
    assert today not in {a.id for a in after_status.problem.booked}
    _assert_current(db, patients, LATER)
    assert _built(db, builds, SEARCH, LATER) == 2, "appointment changes patch the problem"


def test_a_change_by_another_process_is_patched_in_too(
    demo_db: Database, builds: list[datetime]
) -> None:
    patient = _covered_patient(demo_db)
    _assert_current(demo_db, [patient])
    other = open_database(demo_db.url)  # another process's view of the same file
    try:
        booked = _book_first_option(other, patient)
    finally:
        other.dispose()
    after = _assert_current(demo_db, [patient])
    assert booked in {a.id for a in after.problem.booked}
    assert _built(demo_db, builds, SEARCH) == 1


def test_a_request_that_read_the_versions_earlier_is_served_the_newer_problem(
    demo_db: Database, builds: list[datetime]
) -> None:
    """Concurrent chat turns: one reads the versions, another books and brings the cached problem
    forward; the first then asks for the problem. It gets the newer one, not a rebuild at its
    older version (which threw the cache away under load: 20 clients, 24 requests/s)."""
    patient = _covered_patient(demo_db)
    _assert_current(demo_db, [patient])

    def another_worker() -> None:  # books, and its next turn brings the cache up to date
        booked.append(_book_first_option(demo_db, patient))
        with one_read_per_request():
            newer.append(cached_problem(demo_db, *SEARCH))

    booked: list[str] = []
    newer: list[BuiltProblem] = []
    with one_read_per_request():
        read_versions(demo_db)  # this turn's versions, read at its start
        worker = threading.Thread(target=another_worker)
        worker.start()
        worker.join()
        assert booked[0] in {a.id for a in newer[0].problem.booked}
        assert cached_problem(demo_db, *SEARCH) is newer[0]
    assert _built(demo_db, builds, SEARCH) == 1


def test_an_absence_rebuilds_the_problem(demo_db: Database, builds: list[datetime]) -> None:
    def free_today(built: BuiltProblem) -> bool:
        span = (built.clock.minutes(NOW), built.clock.minutes(END_OF_DAY))
        staff = next(s for s in built.problem.staff if s.id == THERAPIST)
        return any(a < span[1] and b > span[0] for a, b in staff.available)

    assert free_today(_assert_current(demo_db, []))
    therapist = callers.for_staff(demo_db, THERAPIST)
    absences.report_absence(
        demo_db, therapist, absences.ReportAbsence(THERAPIST, NOW, END_OF_DAY, NOW)
    )
    assert not free_today(_assert_current(demo_db, []))
    assert _built(demo_db, builds, SEARCH) == 2, "an absence changes more than appointments"


def _to_someone_new(db: Database, appointment_id: str, not_with: str) -> Move:
    """A move of the appointment in the next days to a free clinician other than `not_with`."""
    with db.read() as session:
        row = session.get(Appointment, appointment_id)
        assert row is not None
        patient, start = row.patient_ids[0], row.start
    query = SlotsQuery(patient, "individual", start + timedelta(days=1), start + timedelta(days=5))
    answer, built = offer_slots(db, replace(query, k=20))
    option = next(o for o in [*answer.options, *answer.nearest] if o.staff[0] != not_with)
    return Move(
        appointment_id,
        "patient asked",
        start=built.clock.moment(option.start),
        staff=option.staff,
        room=option.room,
    )


def _booked_today(db: Database) -> str:
    """A booked individual session later today."""
    with db.read() as session:
        found = session.scalar(
            select(Appointment.id)
            .where(Appointment.start >= NOW, Appointment.start < END_OF_DAY)
            .where(Appointment.status == "booked", Appointment.group_id.is_(None))
            .order_by(Appointment.start)
        )
    assert found is not None
    return found


def test_a_first_assessment_reaches_beyond_the_appointments(
    demo_db: Database, builds: list[datetime]
) -> None:
    """An intake patient's first assessment lets them into groups (LOC-INTAKE-FIRST): more
    than the booked sessions changes, so the problem is built anew."""
    db = demo_db
    before = _assert_current(db, [])
    waiting = _waiting_for_intake(before)
    assert waiting, "the demo has intake patients waiting for their assessment"
    patient = waiting[0]
    last_week = NOW - timedelta(days=7)
    answer, built = offer_slots(
        db,
        SlotsQuery(patient, "intake_assessment", last_week, last_week + timedelta(hours=10)),
        now=last_week,
    )
    assert answer.options, answer.reason
    option = answer.options[0]
    director = callers.for_staff(db, DIRECTOR)
    book(
        db,
        director,
        Book(
            "intake_assessment",
            built.clock.moment(option.start),
            option.staff,
            (patient,),
            option.room,
            override_reason="assessed on paper last week",
        ),
    )
    after = _assert_current(db, [])
    assert patient not in _waiting_for_intake(after)
    assert _built(db, builds, SEARCH) == 2


def _waiting_for_intake(built: BuiltProblem) -> list[str]:
    blocked = built.problem.eligibility.blocked
    return sorted({p for (p, t), why in blocked.items() if "LOC-INTAKE-FIRST" in why})


def test_windows_past_the_cap_are_built_again_and_those_within_it_are_not(
    demo_db: Database, builds: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server of a network asks about many facilities' days; each window it keeps is served
    # again without a build, and only the least recently used past ROTA_PROBLEM_CACHE is dropped.
    monkeypatch.setattr(problem_cache, "_PROBLEMS", type(problem_cache._PROBLEMS)())
    monkeypatch.setenv("ROTA_PROBLEM_CACHE", "2")
    first, second, third = (
        (TOMORROW + timedelta(days=d), TOMORROW + timedelta(days=d, hours=8)) for d in (0, 7, 14)
    )
    for window in (first, second, first, third, first, second):
        cached_problem(demo_db, *window)
    assert _built(demo_db, builds, first) == 1, "the most recently used window stays"
    assert _built(demo_db, builds, second) == 2, "the least recently used was dropped for third"
    assert _built(demo_db, builds, third) == 1


def test_a_bad_cache_size_is_refused_in_words(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(problem_cache, "_PROBLEMS", type(problem_cache._PROBLEMS)())
    monkeypatch.setenv("ROTA_PROBLEM_CACHE", "lots")
    with pytest.raises(Exception, match="ROTA_PROBLEM_CACHE must be a whole number"):
        cached_problem(demo_db, *DAY)
