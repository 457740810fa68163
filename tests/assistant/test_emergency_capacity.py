"""Emergency capacity (OPS-EMERGENCY-HOLD): the Poisson estimate on hand-made counts, and a
held assessment slot that an ordinary request is not offered until its release, that the
emergency flow gets, and whose answer says why."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from assistant import callers
from assistant import emergency_capacity as ec
from assistant.dialogue import Dialogue
from assistant.optimize import SlotsQuery, offer_slots, optimize_period
from assistant.usecases import capacity
from clinic.booking import BookingRequest, BookingService
from clinic.db import Database
from clinic.errors import InvalidInput
from clinic.facility_file import load_facility
from clinic.tokens import Caller
from integrations.cli.main import run
from integrations.http.app import create_app
from rules import service as rules_service
from solver.settings import SolverSettings
from tests.http.test_api import token
from tests.http.test_chat import Person

NY = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 30, tzinfo=NY)
WEEK = {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
THERAPIST, INTAKE = "t1", "ic1"


# --- the estimate, on hand-made counts ----------------------------------------------------------


def test_the_poisson_quantile_is_the_smallest_count_reaching_the_service_level() -> None:
    assert ec.poisson_cdf(0, 2.0) == pytest.approx(0.135335, abs=1e-6)
    assert ec.poisson_cdf(3, 2.0) == pytest.approx(0.857123, abs=1e-6)
    assert ec.poisson_cdf(4, 2.0) == pytest.approx(0.947347, abs=1e-6)
    assert ec.slots_to_hold(2.0, 0.9) == 4  # P(N<=3) = 0.857 < 0.9 <= P(N<=4) = 0.947
    assert ec.slots_to_hold(2.0, 0.8) == 3
    assert ec.slots_to_hold(0.5, 0.9) == 1  # P(N<=0) = 0.607, P(N<=1) = 0.910
    assert ec.slots_to_hold(1.0, 0.9) == 2 and ec.slots_to_hold(1.0, 0.95) == 3


def test_no_history_holds_nothing_or_the_stated_minimum() -> None:
    assert ec.slots_to_hold(0.0, 0.9) == 0
    assert ec.slots_to_hold(0.0, 0.9, minimum=1) == 1
    empty = ec.Arrivals(weeks=8, counts={})
    plans = ec.estimate(empty, ec.HoldSettings(), {0: [8, 10, 12, 14, 16]})
    assert plans[0].hold == 0 and plans[0].blocks == ()
    plans = ec.estimate(empty, ec.HoldSettings(minimum=2), {0: [8, 10, 12, 14, 16]})
    assert plans[0].hold == 2 and plans[0].blocks == ((8, 1), (10, 1)), "from the morning on"


def test_the_slots_follow_the_hours_the_arrivals_came_in() -> None:
    # Eight weeks: Mondays 12 arrivals (9 at 08-10, 3 at 14-16), Tuesdays 2, Wednesdays none.
    counts = {(0, 8): 9, (0, 14): 3, (1, 10): 2}
    plans = ec.estimate(
        ec.Arrivals(weeks=8, counts=counts),
        ec.HoldSettings(),
        {d: [8, 10, 12, 14, 16] for d in (0, 1, 2)},
    )
    monday, tuesday, wednesday = plans[0], plans[1], plans[2]
    assert monday.mean == 1.5 and monday.hold == 3  # P(N<=2) = 0.809, P(N<=3) = 0.934
    assert monday.blocks == ((8, 2), (14, 1)), "3 slots: 9/12 and 3/12 of them"
    assert monday.arrivals == 12 and monday.arrivals_by_block == ((8, 9), (14, 3))
    assert tuesday.mean == 0.25 and tuesday.hold == 1 and tuesday.blocks == ((10, 1),)
    assert wednesday.hold == 0
    assert ec.spread(3, {8: 1, 14: 1}, [8, 14]) == {8: 2, 14: 1}, "a tie goes to the earlier block"


def test_settings_outside_their_range_are_refused() -> None:
    assert ec.HoldSettings(service_level=1.0).problems()
    assert ec.HoldSettings(block_hours=5).problems()
    assert not ec.HoldSettings().problems()


# --- a clinic with a history of Monday-morning emergencies ------------------------------------


def clinic_file(booked: list[tuple[str, str]]) -> dict[str, Any]:
    """Tara Quinn alone can assess; `booked` holds her other sessions on Monday 30 Nov."""
    return {
        "version": 1,
        "facility": {"name": "Small Clinic", "timezone": "America/New_York"},
        "rooms": [
            {"id": "ind-1", "name": "Office 1", "kind": "individual", "capacity": 2},
            {"id": "ind-2", "name": "Office 2", "kind": "individual", "capacity": 2},
        ],
        "staff": [
            {
                "id": THERAPIST,
                "name": "Tara Quinn",
                "role": "therapist",
                "credentials": ["LCSW"],
                "availability": WEEK,
            },
            {"id": INTAKE, "name": "Ines Cole", "role": "intake_coordinator"},
            {"id": "cd1", "name": "Dana Reyes", "role": "clinical_director"},
        ],
        "patients": [
            {"id": "p1", "name": "Ada Stone", "acuity": 3},
            {"id": "p9", "name": "Ben Hale", "acuity": 5},
            *({"id": f"p{i}", "name": f"Patient Number{i}", "acuity": 1} for i in range(2, 8)),
        ],
        "appointments": [
            {
                "id": f"a{i}",
                "session_type": "individual",
                "start": f"2026-11-30T{at}:00-05:00",
                "minutes": 45,
                "staff": [THERAPIST],
                "patients": [patient],
                "room": "ind-1",
                "status": "booked",
            }
            for i, (at, patient) in enumerate(booked)
        ],
    }


def emergencies_on_past_mondays(db: Database, set_now: Callable[[datetime], None]) -> None:
    """Four same-day assessments at 10:00 on the eight Mondays before 30 Nov (mean 0.5 a
    Monday: one slot held at 0.9), each booked at 07:00 that day."""
    for weeks_back, patient in zip((1, 3, 5, 7), ("p2", "p3", "p4", "p5"), strict=True):
        day = MONDAY - timedelta(weeks=weeks_back)
        set_now(day.replace(hour=7))
        BookingService(db).book(
            "ic1",
            BookingRequest(
                session_type="intake_assessment",
                start=day.replace(hour=10),
                staff=[THERAPIST],
                patients=[patient],
                room="ind-2",
            ),
            reason="emergency walk-in",
        )
    # One booked days ahead is no emergency: it is not counted.
    set_now(MONDAY - timedelta(days=10))
    BookingService(db).book(
        "ic1",
        BookingRequest(
            session_type="intake_assessment",
            start=(MONDAY - timedelta(weeks=1)).replace(hour=14),
            staff=[THERAPIST],
            patients=["p6"],
            room="ind-2",
        ),
        reason="routine intake",
    )


@pytest.fixture()
def clinic(db: Database, set_now: Callable[[datetime], None]) -> Database:
    # Tara is free on Monday 30 Nov at 10:00-11:00 and from 12:30 on.
    set_now(MONDAY - timedelta(weeks=9))
    load_facility(
        db, clinic_file([("08:30", "p6"), ("09:15", "p7"), ("11:00", "p2"), ("11:45", "p3")])
    )
    emergencies_on_past_mondays(db, set_now)
    return db


def ask(db: Database, now: datetime, *, emergency: bool = False, hours: tuple[int, int] = (10, 11)):
    query = SlotsQuery(
        patient="p1",
        session_type="intake_assessment",
        start=MONDAY.replace(hour=hours[0]),
        end=MONDAY.replace(hour=hours[1]),
        emergency=emergency,
    )
    answer, built = offer_slots(db, query, now=now)
    return answer, [
        built.clock.moment(o.start).astimezone(NY).strftime("%H:%M") for o in answer.options
    ]


def test_an_ordinary_request_is_not_offered_the_held_slot_until_its_release(
    clinic: Database,
) -> None:
    answer, starts = ask(clinic, MONDAY.replace(hour=5))
    assert starts == []
    assert answer.reason is not None
    assert "held for emergency admissions until 06:00 today (OPS-EMERGENCY-HOLD)" in answer.reason
    # The whole day: the afternoon, not the held hour.
    _, day = ask(clinic, MONDAY.replace(hour=5), hours=(8, 17))
    assert day and "10:00" not in day
    # Released four hours before it starts: from 06:00 anyone may have it.
    _, starts = ask(clinic, MONDAY.replace(hour=6, minute=30))
    assert starts == ["10:00"]


def test_the_emergency_flow_gets_the_held_slot(clinic: Database) -> None:
    _, starts = ask(clinic, MONDAY.replace(hour=5), emergency=True)
    assert starts == ["10:00"]


def test_a_day_before_the_hold_is_told_when_it_is_released(clinic: Database) -> None:
    answer, starts = ask(clinic, MONDAY - timedelta(days=1, hours=-9))  # Sunday 09:00
    assert starts == [] and "until 06:00 tomorrow" in (answer.reason or "")


def test_an_emergency_booked_in_the_held_block_uses_the_hold_up(
    clinic: Database, set_now: Callable[[datetime], None]
) -> None:
    set_now(MONDAY.replace(hour=5, minute=30))
    BookingService(clinic).book(
        "ic1",
        BookingRequest(
            session_type="intake_assessment",
            start=MONDAY.replace(hour=10),
            staff=[THERAPIST],
            patients=["p9"],
            room="ind-2",
        ),
        reason="emergency walk-in",
    )
    data = capacity.week(clinic, operator(clinic), capacity.Week(MONDAY.date(), MONDAY))
    monday = data["days"][0]
    assert monday["hold"] == 1 and monday["emergencies_booked"] == 1
    assert monday["held"] == [] and monday["not_placed"] == 0, "used, not moved elsewhere"


def operator(db: Database) -> Caller:
    return callers.for_actor(db, "operator")


def test_the_week_shows_the_held_slots_and_what_they_come_from(clinic: Database) -> None:
    data = capacity.week(
        clinic, operator(clinic), capacity.Week(MONDAY.date(), MONDAY.replace(hour=5))
    )
    assert data["history"]["from"] == "2026-10-05" and data["history"]["to"] == "2026-11-30"
    assert data["history"]["arrivals"] == 4, "the assessment booked ten days ahead is not one"
    monday, tuesday = data["days"][0], data["days"][1]
    assert monday["weekday"] == "mon" and monday["arrivals"] == 4
    assert monday["mean_per_day"] == 0.5 and monday["hold"] == 1 and monday["covers"] >= 0.9
    assert monday["arrivals_by_block"] == {"10:00": 4} and monday["blocks"] == {"10:00": 1}
    assert monday["held"] == [
        {
            "start": "2026-11-30T10:00-05:00",
            "end": "2026-11-30T11:00-05:00",
            "staff": THERAPIST,
            "released": "2026-11-30T06:00-05:00",
            "status": "held",
        }
    ]
    assert tuesday["hold"] == 0 and tuesday["held"] == []
    assert "Mon 2026-11-30: hold 1" in capacity.text(data)


@pytest.fixture()
def facility_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def write(text: str) -> None:
        directory = tmp_path / "facility-rules"
        directory.mkdir(exist_ok=True)
        (directory / "capacity.yaml").write_text(text, encoding="utf-8")
        monkeypatch.setenv("ROTA_RULES_DIR", str(directory))
        monkeypatch.setattr(rules_service, "_DEFAULT", None)

    return write


def test_the_facility_sets_its_service_level_and_release(
    clinic: Database, facility_rules: Callable[[str], None]
) -> None:
    facility_rules("data:\n  emergency_hold: {service_level: 0.95, release_hours: 2}\n")
    data = capacity.week(
        clinic, operator(clinic), capacity.Week(MONDAY.date(), MONDAY.replace(hour=5))
    )
    monday = data["days"][0]
    assert monday["hold"] == 2  # P(N<=1) = 0.910 < 0.95 <= P(N<=2) = 0.986
    assert monday["held"][0]["released"] == "2026-11-30T08:00-05:00"
    answer, starts = ask(clinic, MONDAY.replace(hour=7))
    assert starts == [] and "until 08:00 today" in (answer.reason or "")


def test_a_bad_setting_is_refused_with_its_name(
    clinic: Database, facility_rules: Callable[[str], None]
) -> None:
    facility_rules("data:\n  emergency_hold: {service_level: 1.5}\n")
    with pytest.raises(InvalidInput, match="service_level"):
        capacity.hold_settings()


# --- through the chat -------------------------------------------------------------------------


@pytest.fixture()
def late_release(facility_rules: Callable[[str], None]) -> None:
    """Released one hour ahead: at 08:30 the 10:00 hold still stands."""
    facility_rules("data:\n  emergency_hold: {release_hours: 1}\n")


@pytest.fixture()
def client(clinic: Database, late_release: None) -> Iterator[TestClient]:
    now = MONDAY.replace(hour=8, minute=30)
    app = create_app(clinic, dialogue=Dialogue(clinic, clock=lambda: now))
    with TestClient(app) as test_client:
        yield test_client


def test_in_chat_the_emergency_gets_the_held_slot_and_an_ordinary_request_hears_why(
    client: TestClient, clinic: Database
) -> None:
    ordinary = Person(client, clinic, INTAKE).says(
        "find an intake assessment for Ada Stone today 10am to 11am"
    )
    assert "held for emergency admissions until 09:00 today" in ordinary["reply"], ordinary
    nearest = [o["start"][11:16] for o in ordinary["options"]]
    assert "10:00" not in nearest, "the nearest options leave the held hour alone"
    urgent = Person(client, clinic, INTAKE).says("emergency intake for Ben Hale asap")
    starts = [o["start"][11:16] for o in urgent["options"]]
    assert starts and starts[0] == "10:00", urgent


# --- the doors ----------------------------------------------------------------------------------


def test_rota_capacity_prints_the_week(
    clinic: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTA_DATABASE_URL", clinic.url)
    assert run(["capacity", "--week", "2026-W49", "--now", "2026-11-30T05:00"]) == 0
    out = capsys.readouterr().out
    assert "4 emergency or same-day admissions in the 8 weeks 2026-10-05 to 2026-11-30" in out
    assert "Mon 2026-11-30: hold 1 (arrivals 4, 0.5 a day; by block 10:00 4)" in out
    assert "  10:00-11:00 Tara Quinn: held (released 2026-11-30 06:00)" in out
    assert run(["capacity", "--week", "2026-W49", "--now", "2026-11-30T05:00", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["days"][0]["held"][0]["staff"] == THERAPIST
    assert run(["capacity", "--week", "next week"]) != 0
    assert "week: 'next week' is not a week" in capsys.readouterr().err


def test_get_api_capacity_shows_the_week(
    clinic: Database, set_now: Callable[[datetime], None]
) -> None:
    set_now(MONDAY.replace(hour=7))
    with TestClient(create_app(clinic)) as http:
        answer = http.get("/api/capacity?week=2026-11-30", headers=token(clinic, INTAKE))
        assert answer.status_code == 200, answer.text
        monday = answer.json()["days"][0]
        assert monday["hold"] == 1 and monday["held"][0]["status"] == "released"
        bad = http.get("/api/capacity?week=soon", headers=token(clinic, INTAKE))
        assert bad.status_code in (400, 422)
        assert "week: expected a week such as 2026-W49" in bad.json()["detail"]


def test_the_morning_plan_leaves_the_held_slot_alone(
    db: Database, set_now: Callable[[datetime], None]
) -> None:
    """Ada needs an individual session a day (5 a week) and Tara's only free hour on Monday is the
    held one: planned at 05:00 (the hold stands) she is left unplaced, without the holds she
    gets 10:00."""
    set_now(MONDAY - timedelta(weeks=9))
    afternoon = [
        (f"{12 + (30 + 45 * i) // 60}:{(30 + 45 * i) % 60:02d}", f"p{10 + i}") for i in range(6)
    ]
    data = clinic_file(
        [("08:30", "p6"), ("09:15", "p7"), ("11:00", "p2"), ("11:45", "p3"), *afternoon]
    )
    data["patients"] += [
        {"id": f"p{10 + i}", "name": f"Other Person{i}", "acuity": 1} for i in range(6)
    ]
    data["patients"][0]["requirements"] = [{"session_type": "individual", "per_week": 5}]
    load_facility(db, data)
    emergencies_on_past_mondays(db, set_now)
    end = MONDAY + timedelta(days=1)
    early = MONDAY.replace(hour=5)
    free, built = optimize_period(db, early, end, SolverSettings(time_limit=2, workers=1))
    assert [a.patients for a in free.new] == [("p1",)], (free.unmet, free.required)
    assert built.clock.moment(free.new[0].start) == MONDAY.replace(hour=10)
    held, built = optimize_period(
        db, early, end, SolverSettings(time_limit=2, workers=1), holds_at=early
    )
    assert held.new == [] and built.problem.holds
    assert [u.patient for u in held.unmet] == ["p1"]
