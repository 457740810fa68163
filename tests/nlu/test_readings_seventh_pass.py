"""Readings most development writers share (nlu7, our own wording): a readmission is an
emergency intake; a crisis line or the family as who acts names no session; a minor's age set off
by commas; a metric only on a report; an absence carries who and when, a question about the
assistant only its intent; a reply that picks by place; "rebook" and an arrow move a session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from assistant.parse import parse
from tests.nlu.roster_data import roster

NOW = datetime.fromisoformat("2026-12-10T09:30:00-05:00")  # a Thursday morning


def _frame(text: str) -> dict[str, Any]:
    return parse(text, roster=roster(), now=NOW, actor="s-obrien")


@pytest.mark.parametrize(
    "text",
    [
        "readmit Luis Castillo, he's drinking again, can someone see him this afternoon",
        "Tyler Johnson relapsed and wants back in, any time tomorrow",
        "a former client called, wants to come back, can we do an intake monday",
    ],
)
def test_a_readmission_is_an_emergency_intake(text: str) -> None:
    assert _frame(text)["intent"] == "emergency_intake"


def test_cancelling_a_readmission_is_still_a_cancel() -> None:
    assert _frame("cancel Tyler Johnson's readmit intake tomorrow")["intent"] == "cancel"


@pytest.mark.parametrize(
    "text",
    [
        "the crisis line sent over a caller in withdrawal, can someone see him now",
        "family on the line, their son is using again, can we get him in today",
    ],
)
def test_who_called_names_no_session(text: str) -> None:
    frame = _frame(text)
    assert frame["intent"] == "emergency_intake"
    assert frame["session_type"] is None


def test_a_person_in_crisis_still_needs_a_crisis_session() -> None:
    assert _frame("walk-in in crisis, needs someone now")["session_type"] == "crisis"


@pytest.mark.parametrize(
    "text",
    [
        "walk-in, young guy, 16, using pills, can anyone see him today",
        "grandma on the phone, her grandson is 15 and using, wants an intake today",
    ],
)
def test_a_minors_age_is_adolescent(text: str) -> None:
    assert "adolescent" in _frame(text)["needs"]


def test_a_move_that_mentions_an_authorization_asks_no_report() -> None:
    frame = _frame("move Alex Kim's psych eval to the 21st, his auth renews on the 18th")
    assert frame["intent"] == "reschedule"
    assert frame["metric"] is None


def test_an_absence_carries_who_and_when_only() -> None:
    frame = _frame("Lisa is out sick today, can someone cover her 2pm group")
    assert frame["intent"] == "staff_unavailable"
    assert frame["staff"] == {"text": "Lisa", "id": "s-lchen"}
    assert frame["session_type"] is None and frame["window"] is not None


def test_a_question_about_the_assistant_carries_only_its_intent() -> None:
    frame = _frame("how do I book a group session for Jamie with this?")
    assert frame["intent"] == "help"
    assert (frame["session_type"], frame["patient"], frame["window"]) == (None, None, None)


@pytest.mark.parametrize(
    ("text", "option"),
    [("1st", 1), ("first", 1), ("ok the second one", 2), ("the last one", None), ("y", None)],
)
def test_a_pick_by_place_confirms(text: str, option: int | None) -> None:
    frame = _frame(text)
    assert (frame["intent"], frame["option"]) == ("confirm", option)


@pytest.mark.parametrize(
    "text", ["Jamie no-showed again, rebook her for tuesday", "Tyler 2pm -> 4pm tomorrow"]
)
def test_rebook_and_an_arrow_move_a_session(text: str) -> None:
    assert _frame(text)["intent"] == "reschedule"
