"""find_slots(): distinct options in score order with the terms behind them; reasons and the
nearest options outside the window when there is nothing inside."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from assistant.dialogue.wording import why
from solver.model import PatientInfo, Placement, Problem, SlotOption, SlotRequest
from solver.slots import NEAREST_DAYS, SlotFinder, _distinct, _parties, find_slots
from tests.solver.synth import DAY, day_window, make_problem
from tests.solver.validator import validate

WEEK = (0, 5 * DAY)


@pytest.fixture(scope="module")
def problem() -> Problem:
    return make_problem(n_staff=6, n_rooms=6, n_patients=20, n_groups=1, seed=5)


def _as_appointment(problem: Problem, request: SlotRequest, opt: object, n: int) -> Placement:
    return Placement(
        id=f"opt{n}",
        session_type=request.session_type,
        start=opt.start,  # type: ignore[attr-defined]
        minutes=opt.end - opt.start,  # type: ignore[attr-defined]
        staff=opt.staff,  # type: ignore[attr-defined]
        patients=request.patients,
        room=opt.room,  # type: ignore[attr-defined]
    )


def test_options_are_distinct_valid_and_in_score_order(problem: Problem) -> None:
    finder = SlotFinder(problem)
    for pid in ("P1", "P2", "P4", "P5"):
        request = SlotRequest((pid,), "individual", WEEK)
        answer = finder.find(request, k=5)
        assert len(answer.options) == 5 and answer.reason is None
        scores = [o.score for o in answer.options]
        assert scores == sorted(scores, reverse=True)
        for n, opt in enumerate(answer.options):
            assert opt.score == pytest.approx(100 + sum(opt.why.values()), abs=0.05)
            assert {"spacing", "room_fit", "compact_day"} <= set(opt.why)
            # continuity and preference are terms only where the patient has a clinician or a
            # preference (a zero is otherwise no match, and must not read as one)
            patient = problem.patients_by_id()[pid]
            has_clinician = bool(patient.primary_staff or patient.seen_by)
            has_preference = bool(
                patient.preferred_staff or patient.preferred_windows or patient.avoid_days
            )
            assert ("continuity" in opt.why) == has_clinician
            assert ("preference" in opt.why) == has_preference
            appt = _as_appointment(problem, request, opt, n)
            schedule = [*problem.booked, appt]
            assert validate(problem, schedule, new=[appt]) == []
        for i, a in enumerate(answer.options):
            for b in answer.options[i + 1 :]:
                same_staff = set(a.staff) & set(b.staff)
                assert not (same_staff and a.start < b.end and b.start < a.end)


def test_continuity_and_preferences_raise_the_rank(problem: Problem) -> None:
    patient = problem.patients_by_id()["P1"]
    assert patient.primary_staff
    best = find_slots(problem, SlotRequest(("P1",), "individual", WEEK), k=1).options[0]
    assert best.staff == (patient.primary_staff,)
    assert best.why["continuity"] == 0
    other = next(
        s for s in problem.eligibility.staff_for[("P1", "individual")] if s != patient.primary_staff
    )
    forced = find_slots(problem, SlotRequest(("P1",), "individual", WEEK, staff=other), k=1)
    assert forced.options[0].why["continuity"] < 0
    assert forced.options[0].score < best.score


def test_a_patient_without_clinician_or_preferences_has_no_such_terms(problem: Problem) -> None:
    """No primary clinician and no preferences: the options say nothing about either (what
    "why" words as "their own clinician" or "fits their preferences" would be untrue)."""
    bare = replace(
        problem.patients_by_id()["P1"],
        primary_staff=None,
        seen_by=(),
        preferred_staff=None,
        preferred_windows=(),
        avoid_days=frozenset(),
    )
    patients = tuple(bare if p.id == "P1" else p for p in problem.patients)
    alone = replace(problem, patients=patients)
    options = find_slots(alone, SlotRequest(("P1",), "individual", WEEK), k=3).options
    assert options
    for opt in options:
        assert "continuity" not in opt.why and "preference" not in opt.why
        assert "their own clinician" not in why(opt.why)
        assert "fits their preferences" not in why(opt.why)


def test_a_requested_clinician_without_the_credentials_gets_a_reason(problem: Problem) -> None:
    psychiatrist = next(s.id for s in problem.staff if s.role == "psychiatrist")
    answer = find_slots(problem, SlotRequest(("P2",), "individual", WEEK, staff=psychiatrist))
    assert answer.options == []
    assert psychiatrist in (answer.reason or "") and "may not provide" in (answer.reason or "")


def test_needs_nobody_meets_give_the_rules_reason(problem: Problem) -> None:
    (patient, session_type), why = next(iter(problem.eligibility.blocked.items()))
    answer = find_slots(problem, SlotRequest((patient,), session_type, WEEK))
    assert answer.options == [] and answer.reason == why


def test_a_full_window_says_what_blocks_and_offers_the_nearest_options(problem: Problem) -> None:
    # P4's only clinician is busy all Tuesday: nothing on Tuesday, nearest on Monday/Wednesday.
    staff_id = problem.eligibility.staff_for[("P4", "individual")][0]
    elig = replace(
        problem.eligibility,
        staff_for={**problem.eligibility.staff_for, ("P4", "individual"): (staff_id,)},
    )
    opens, closes = day_window(1)
    wall = Placement("wall", "individual", opens, closes - opens, (staff_id,), ("P19",))
    blocked = replace(problem, eligibility=elig, booked=(*problem.booked, wall))
    answer = find_slots(blocked, SlotRequest(("P4",), "individual", day_window(1)), k=3)
    assert answer.options == []
    assert answer.reason and staff_id in answer.reason
    assert answer.nearest
    assert all(not (DAY <= o.start < 2 * DAY) for o in answer.nearest)
    assert min(min(abs(o.start - DAY), abs(o.start - 2 * DAY)) for o in answer.nearest) <= DAY


def _nearest_searching_every_day(
    finder: SlotFinder, request: SlotRequest, k: int, now: int | None = None
) -> list[SlotOption]:
    """The reference: every day within NEAREST_DAYS of the window searched at once."""
    parties = _parties(finder.problem, request)
    assert not isinstance(parties, str)
    window, horizon = request.window, finder.problem.horizon
    around = [
        (max(horizon[0], window[0] - NEAREST_DAYS * DAY, now or horizon[0]), window[0]),
        (window[1], min(horizon[1], window[1] + NEAREST_DAYS * DAY)),
    ]
    found = [
        o
        for span in around
        if span[0] < span[1]
        for o in finder._search(request, parties, span, Counter())
    ]
    found.sort(key=lambda o: (min(abs(o.start - window[0]), abs(o.start - window[1])), -o.score))
    return _distinct(found, k, keep_order=True)


def test_the_nearest_options_are_those_of_searching_every_day_at_once(problem: Problem) -> None:
    """The nearest options are looked for a day at a time; the answer is the same as looking at
    every day, for windows with edges at any hour."""
    walled = problem
    for n, (patient, _stype) in enumerate(sorted(problem.eligibility.staff_for)):
        if _stype != "individual" or n % 3:
            continue
        staff_id = problem.eligibility.staff_for[(patient, "individual")][0]
        opens, closes = day_window(2)
        wall = Placement(f"wall{n}", "individual", opens, closes - opens, (staff_id,), ())
        walled = replace(walled, booked=(*walled.booked, wall))
    finder = SlotFinder(walled)
    compared = 0
    for patient in [p.id for p in walled.patients]:
        for window in (
            day_window(2),
            day_window(2, 11 * 60 + 7, 15 * 60),
            (2 * DAY + 600, 2 * DAY + 601),
        ):
            for k in (1, 3, 6):
                request = SlotRequest((patient,), "individual", window)
                answer = finder.find(request, k)
                if answer.options or isinstance(_parties(walled, request), str):
                    continue
                assert answer.nearest == _nearest_searching_every_day(finder, request, k)
                compared += 1
    assert compared >= 10


def test_nearest_options_from_nearly_full_days_look_further(problem: Problem) -> None:
    """One clinician, busy all Wednesday and all but an hour on Tuesday and Thursday: the
    nearest three options are the two hours and one further day, as looking at every day finds."""
    staff_id = problem.eligibility.staff_for[("P4", "individual")][0]
    elig = replace(
        problem.eligibility,
        staff_for={**problem.eligibility.staff_for, ("P4", "individual"): (staff_id,)},
    )
    walls = []
    for day in (1, 2, 3):
        opens, closes = day_window(day)
        gap = {1: (opens + 360, opens + 420), 2: (opens, opens), 3: (opens + 60, opens + 120)}[day]
        for n, (a, b) in enumerate(((opens, gap[0]), (gap[1], closes))):
            if a < b:
                walls.append(Placement(f"w{day}{n}", "individual", a, b - a, (staff_id,), ()))
    staff = tuple(replace(s, max_minutes_per_week=None) for s in problem.staff)  # walls aside
    blocked = replace(problem, eligibility=elig, staff=staff, booked=(*problem.booked, *walls))
    finder = SlotFinder(blocked)
    request = SlotRequest(("P4",), "individual", day_window(2))
    answer = finder.find(request, 3)
    assert not answer.options and len(answer.nearest) == 3
    assert answer.nearest == _nearest_searching_every_day(finder, request, 3)
    assert {o.start // DAY for o in answer.nearest} >= {1, 3}


def test_patient_availability_and_family_windows_are_respected(problem: Problem) -> None:
    family = next(p for p in problem.patients if p.family_windows)
    answer = find_slots(problem, SlotRequest((family.id,), "family", WEEK), k=4)
    assert answer.options
    for opt in answer.options:
        assert any(a <= opt.start and opt.end <= b for a, b in family.family_windows or ())
    mornings = PatientInfo(
        "early", available=tuple(day_window(d, 8 * 60, 10 * 60) for d in range(5))
    )
    elig = replace(
        problem.eligibility,
        staff_for={**problem.eligibility.staff_for, ("early", "individual"): ("S1", "S2", "S3")},
    )
    p2 = replace(problem, patients=(*problem.patients, mornings), eligibility=elig)
    for opt in find_slots(p2, SlotRequest(("early",), "individual", WEEK), k=6).options:
        assert opt.start % DAY >= 8 * 60 and opt.end % DAY <= 10 * 60


def test_a_window_when_the_facility_is_closed(problem: Problem) -> None:
    answer = find_slots(problem, SlotRequest(("P1",), "individual", (5 * DAY, 6 * DAY)))
    assert answer.options == [] and "not open" in (answer.reason or "")


def test_an_exhausted_authorization_blocks_with_its_reason(problem: Problem) -> None:
    budget = next(b for b in problem.eligibility.budgets if b.remaining == 0)
    answer = find_slots(problem, SlotRequest((budget.patient,), "individual", WEEK))
    assert answer.options == [] and "authorization" in (answer.reason or "")
