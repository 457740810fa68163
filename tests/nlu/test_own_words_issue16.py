"""Walk-ins in staff's own words, refused picks and clinic words that are not names (issue 16).

Written by us in our own wording (never copied from the held-out sets)."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.parse import parse
from assistant.roster import Roster
from tests.nlu.roster_data import roster

NOW = datetime.fromisoformat("2026-12-02T10:15:00-05:00")


@pytest.fixture(scope="module")
def r() -> Roster:
    return roster()


@pytest.mark.parametrize(
    "text",
    [
        "guy just came in off the street, detoxing, can anyone see him",
        "pt showed up suicidal, need a clinician asap",
        "police brought someone in, needs an assessment",
        "lady in the waiting room in withdrawal, who can see her",
        "client in the lobby in crisis, needs someone now",
    ],
)
def test_someone_here_in_need_is_an_emergency_intake(r: Roster, text: str) -> None:
    frame = parse(text, roster=r, now=NOW, actor="s-lchen")
    assert frame["intent"] == "emergency_intake"
    assert frame["patient"] is None  # "lobby" is not a misspelled "Bobby"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("who actually showed up to group last week", "utilization_summary"),
        ("Bill's in detox, cancel everything for him this week", "cancel"),
        ("need a crisis slot for Jamie asap, she's spiraling", "find_slot"),
    ],
)
def test_arrivals_and_crises_of_known_patients_are_not_intakes(
    r: Roster, text: str, intent: str
) -> None:
    assert parse(text, roster=r, now=NOW, actor="s-lchen")["intent"] == intent


@pytest.mark.parametrize("text", ["no, don't book that", "nah not option 2", "don't book it"])
def test_a_refused_pick_is_a_decline(r: Roster, text: str) -> None:
    frame = parse(text, roster=r, now=NOW, actor="s-lchen")
    assert frame["intent"] == "decline"
    assert frame["option"] is None


def test_a_pick_with_a_correction_is_still_a_pick(r: Roster) -> None:
    frame = parse("book option 2, not option 3", roster=r, now=NOW, actor="s-lchen")
    assert frame["intent"] == "confirm"
    assert frame["option"] == 2


def test_a_decline_carries_no_new_request(r: Roster) -> None:
    # "no" answers what was offered; its reason is not a search of its own.
    frame = parse("nope, none of those work, she can only do evenings", roster=r, now=NOW)
    assert frame["intent"] == "decline"
    assert frame["window"] is None and frame["patient"] is None


def test_how_late_is_not_a_duration(r: Roster) -> None:
    frame = parse("running behind 10 min, traffic", roster=r, now=NOW, actor="s-lchen")
    assert frame["intent"] == "staff_unavailable"
    assert frame["duration_minutes"] is None
    assert frame["window"] == {
        "start": "2026-12-02T10:15:00-05:00",
        "end": "2026-12-02T10:25:00-05:00",
    }


def test_same_day_is_today(r: Roster) -> None:
    frame = parse("hospital wants her seen same day for an intake", roster=r, now=NOW)
    assert frame["intent"] == "emergency_intake"
    assert frame["window"] == {
        "start": "2026-12-02T00:00:00-05:00",
        "end": "2026-12-03T00:00:00-05:00",
    }
