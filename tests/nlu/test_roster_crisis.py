"""A patient already in our care in acute crisis who must be seen now or today is an emergency
intake (development writers 5 and 7-11 label it so, two a find_slot); the same crisis on a later
day, or an ordinary session on the day, stays the request it reads as."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from assistant.parse import parse
from assistant.parse.intents import ASKED_CONFIDENCE
from tests.nlu.roster_data import roster

NOW = datetime.fromisoformat("2026-12-10T09:30:00-05:00")  # a Thursday morning


def _frame(text: str) -> dict[str, Any]:
    return parse(text, roster=roster(), now=NOW, actor="s-obrien")


@pytest.mark.parametrize(
    "text",
    [
        "Luis Castillo is in crisis in the hallway, can someone see him right away",
        "Sofia Martinez disclosed SI on the phone, need a clinician for her today",
        "Tyler Johnson used last night and is panicking, who is free now",
    ],
)
def test_a_roster_patient_in_crisis_now_is_an_emergency(text: str) -> None:
    frame = _frame(text)
    assert frame["intent"] == "emergency_intake"
    assert frame["patient"]["id"] is not None
    # read from words about someone already in our care: said back before a held slot is taken
    assert frame["confidence"] <= ASKED_CONFIDENCE


def test_a_crisis_session_on_a_later_day_is_not_an_emergency() -> None:
    assert _frame("Luis Castillo needs a crisis session next tuesday")["intent"] != (
        "emergency_intake"
    )


def test_an_ordinary_session_today_after_a_relapse_is_not_an_emergency() -> None:
    frame = _frame("Tyler Johnson relapsed, book his individual session today at 2")
    assert frame["intent"] == "book"
