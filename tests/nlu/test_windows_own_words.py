"""Windows, session types and walk-ins as staff write them (issue 16): "the 24th" alone, days
listed before "next week", holidays, a move's new day and time after "to", corrections,
"before xmas", late by "~15", a month named alone; "CM", plurals, "group rooms" (not a session),
a family emergency (not a family session), a walk-in asking for a medication."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from assistant.parse import parse
from tests.nlu.roster_data import roster

NOW = datetime.fromisoformat("2026-12-02T10:15:00-05:00")  # a Wednesday


def _frame(text: str, actor: str | None = "s-okafor") -> dict[str, Any]:
    return parse(text, roster=roster(), now=NOW, actor=actor)


def _window(text: str) -> tuple[str, str]:
    window = _frame(text)["window"]
    assert window is not None, text
    return window["start"][:16], window["end"][:16]


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        # a day of the month alone: this month's while ahead, else next month's
        ("I'm off the 9th", "2026-12-09T00:00", "2026-12-10T00:00"),
        ("off on the 14th thru the 16th", "2026-12-14T00:00", "2026-12-17T00:00"),
        ("away the 28th and 29th", "2026-12-28T00:00", "2026-12-30T00:00"),
        ("out the 21st-23rd", "2026-12-21T00:00", "2026-12-24T00:00"),
        ("book jamie rivera on the 8th at 3", "2026-12-08T15:00", "2026-12-08T15:00"),
        # weekdays listed before "next week" are all next week's
        ("out tues and wed next week", "2026-12-08T00:00", "2026-12-10T00:00"),
        ("at a training mon-thu next week", "2026-12-07T00:00", "2026-12-11T00:00"),
        ("I'm off fri + mon", "2026-12-04T00:00", "2026-12-08T00:00"),
        ("out today and prob tomorrow too", "2026-12-02T10:15", "2026-12-04T00:00"),
        # holidays
        ("off christmas eve", "2026-12-24T00:00", "2026-12-25T00:00"),
        ("out monday thru new year's day", "2026-12-07T00:00", "2027-01-02T00:00"),
        ("off dec 28-30", "2026-12-28T00:00", "2026-12-31T00:00"),
        # before a day or the end of a period: from now until then
        ("any prior auths expiring before xmas", "2026-12-02T10:15", "2026-12-25T00:00"),
        ("auths running out before the end of the month?", "2026-12-02T10:15", "2027-01-01T00:00"),
        ("unmet court requirements this week or next", "2026-12-02T10:15", "2026-12-14T00:00"),
        # a month named alone, the week of a date
        ("attendance for groups, november", "2026-11-01T00:00", "2026-12-01T00:00"),
        ("utilization for the week of dec 14", "2026-12-14T00:00", "2026-12-21T00:00"),
        # running late in Slack shorthand
        ("running late, ~15", "2026-12-02T10:15", "2026-12-02T10:30"),
        ("stuck on the bridge, be there in 20", "2026-12-02T10:15", "2026-12-02T10:35"),
        ("car won't start, about an hour late", "2026-12-02T10:15", "2026-12-02T11:15"),
    ],
)
def test_window(text: str, start: str, end: str) -> None:
    assert _window(text) == (start, end)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        # the second day or time of a move is the new one
        (
            "move jamie rivera's group from thursday to friday",
            "2026-12-04T00:00",
            "2026-12-05T00:00",
        ),
        ("move jamie rivera from 3 to 4:30 tomorrow", "2026-12-03T16:30", "2026-12-03T16:30"),
        ("can we push jamie rivera to 2 tomorrow", "2026-12-03T14:00", "2026-12-03T14:00"),
        ("switch jamie rivera from tues to wed next week", "2026-12-09T00:00", "2026-12-10T00:00"),
        ("move jamie rivera's 1:1 to the 11th", "2026-12-11T00:00", "2026-12-12T00:00"),
        ("move jamie rivera's session to next week", "2026-12-07T00:00", "2026-12-14T00:00"),
        # a correction wins
        ("move jamie rivera to thursday at 2, no wait, 3", "2026-12-03T15:00", "2026-12-03T15:00"),
        (
            "move jamie rivera to friday, no actually thursday",
            "2026-12-03T00:00",
            "2026-12-04T00:00",
        ),
    ],
)
def test_move(text: str, start: str, end: str) -> None:
    frame = _frame(text)
    assert frame["intent"] == "reschedule", frame
    assert (frame["window"]["start"][:16], frame["window"]["end"][:16]) == (start, end)


def test_an_ordinal_naming_a_thing_is_no_date() -> None:
    assert _frame("find a time for jamie rivera's 2nd group this week")["window"] == {
        "start": "2026-12-02T10:15:00-05:00",
        "end": "2026-12-07T00:00:00-05:00",
    }


@pytest.mark.parametrize(
    ("text", "session_type"),
    [
        ("move jamie rivera's CM to friday", "case_management"),
        ("no-show rate for intakes this month", "intake_assessment"),
        ("how many med checks do I have tomorrow", "medication_management"),
        ("attendance for IOP last month", "group"),
        ("how full were the group rooms last week", None),
        ("can't come in friday, family emergency", None),
    ],
)
def test_session_type(text: str, session_type: str | None) -> None:
    assert _frame(text)["session_type"] == session_type


def test_a_walk_in_asking_for_a_medication_is_an_emergency_intake() -> None:
    frame = _frame("walk in asking for methadone, no appointment", actor="s-lchen")
    assert (frame["intent"], frame["session_type"]) == ("emergency_intake", None)
    frame = _frame("walk-in wants to start suboxone today, needs an intake", actor="s-lchen")
    assert (frame["intent"], frame["session_type"]) == ("emergency_intake", "intake_assessment")


def test_a_small_ordinal_after_a_day_word_is_a_day_and_alone_an_option() -> None:
    frame = _frame("I'm off the 3rd")
    assert (frame["option"], frame["window"]["start"][:10]) == (None, "2026-12-03")
    assert _frame("the 2nd one works")["option"] == 2


def test_a_slot_picked_by_its_time_is_a_confirmation() -> None:
    frame = _frame("the 4pm slot")
    assert (frame["intent"], frame["window"]["start"][:16]) == ("confirm", "2026-12-02T16:00")
    assert _frame("find a 4pm slot for jamie rivera")["intent"] == "find_slot"


def test_a_new_patients_level_of_care_is_not_a_group_session() -> None:
    """'new patient Maria Lopez, IOP, …': IOP is where she is admitted; the assessment is the
    session (the emergency walk-in stays an emergency intake)."""
    frame = parse(
        "new patient Maria Lopez, IOP, needs an emergency assessment now",
        roster=roster(),
        now=NOW,
        actor="s-obrien",
    )
    assert (frame["intent"], frame["session_type"]) == ("emergency_intake", "intake_assessment")
    assert frame["details"]["level_of_care"] == "2.1"
