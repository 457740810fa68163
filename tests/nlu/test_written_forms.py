"""Forms staff write that the parser now reads (nlu5, our own wording): names as written
(titles, a surname's initial, possessives typed without an apostrophe), hours in words, a bare
hour after a day or "his", absences that end on a named day, one meeting of a group, MAT asked
for, a named room's utilization, newcomers named in passing, small talk without a window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from assistant.parse import parse
from tests.nlu.roster_data import roster

NOW = datetime.fromisoformat("2026-12-10T09:30:00-05:00")  # a Thursday morning


def _frame(text: str) -> dict[str, Any]:
    return parse(text, roster=roster(), now=NOW, actor="s-brooks")


def _window(frame: dict[str, Any]) -> tuple[str, str] | None:
    w = frame["window"]
    return (w["start"][:16], w["end"][:16]) if w else None


@pytest.mark.parametrize(
    ("text", "mention", "pid"),
    [
        ("please cancel Mrs. Kowalski's physical on friday", "Mrs. Kowalski", "p-kowalski"),
        ("can alex k come in monday at 10", "alex k", "p-kim"),
        ("move luis c to friday afternoon", "luis c", "p-castillo"),
        ("mike brennans wife says he is sick, cancel today", "mike brennan", "p-brennan"),
        ("a man named oscar pell is in the lobby, in withdrawal", "oscar pell", None),
    ],
)
def test_patient_as_written(text: str, mention: str, pid: str | None) -> None:
    patient = _frame(text)["patient"]
    assert patient is not None and patient["text"] == mention and patient["id"] == pid


def test_title_does_not_turn_a_patient_into_staff() -> None:
    frame = _frame("book Ms. Nguyen with Elena on the 16th at 1pm for meds")
    assert frame["patient"] == {"text": "Ms. Nguyen", "id": "p-enguyen"}


@pytest.mark.parametrize(
    ("text", "intent", "window"),
    [
        ("book Robert Chen monday at three o'clock", "book", ("2026-12-14T15:00",) * 2),
        ("cancel Tyler at two tomorrow", "cancel", ("2026-12-11T14:00",) * 2),
        ("book kim 1:1 fri 10", "book", ("2026-12-11T10:00",) * 2),
        ("cancel her 11 tomorrow, Sofia is sick", "cancel", ("2026-12-11T11:00",) * 2),
        ("dentist tuesday from ten to noon, I'm out", "staff_unavailable",
         ("2026-12-15T10:00", "2026-12-15T12:00")),
        ("okafor out thru wed", "staff_unavailable", ("2026-12-10T09:30", "2026-12-17T00:00")),
        ("Kevin won't be back until monday", "staff_unavailable",
         ("2026-12-10T09:30", "2026-12-14T00:00")),
        ("migraine, heading home now", "staff_unavailable", ("2026-12-10T09:30", "2026-12-11T00:00")),
        ("doctor at 3 so leaving at 2:30", "staff_unavailable", ("2026-12-10T14:30", "2026-12-11T00:00")),
        ("PTO fri the 18th", "staff_unavailable", ("2026-12-18T00:00", "2026-12-19T00:00")),
        ("out the 14th, 15th and 16th, conference", "staff_unavailable",
         ("2026-12-14T00:00", "2026-12-17T00:00")),
    ],
)  # fmt: skip
def test_windows(text: str, intent: str, window: tuple[str, str]) -> None:
    frame = _frame(text)
    assert frame["intent"] == intent
    assert _window(frame) == window


def test_one_meeting_of_a_group_is_a_booking_and_a_standing_group_an_enrolment() -> None:
    one = _frame("put Jamie in tomorrow's 6pm group")
    assert (one["intent"], one["session_type"], one.get("action")) == ("book", "group", None)
    off = _frame("take Jamie off tonight's group")
    assert (off["intent"], off["session_type"]) == ("cancel", "group")
    standing = _frame("add Jamie to the DBT skills group")
    assert standing["action"] == "enroll"


def test_sender_late_is_an_absence_not_a_session_running_late() -> None:
    frame = _frame("running 30 min late, someone tell my 10am")
    assert frame["intent"] == "staff_unavailable"
    assert _window(frame) == ("2026-12-10T09:30", "2026-12-10T10:00")


def test_mat_asked_for_is_a_need_but_mat_patients_are_not() -> None:
    assert "mat" in _frame("walk-in wants to start MAT today, needs an intake")["needs"]
    assert "mat" not in _frame("no-shows for MAT appts last week")["needs"]


def test_named_room_utilization_and_no_window_for_small_talk() -> None:
    assert _frame("oak room utilization last month")["metric"] == "room_utilization"
    assert _frame("merry christmas all")["window"] is None
    assert _frame("whos working saturday")["intent"] == "schedule_lookup"
