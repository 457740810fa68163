"""The fourth pass's rules (issue 16), in our own wording: a refusal with a reason is a "no";
someone taken off the schedule is a cancellation and "instead" a move; blocked time is an
absence; a walk-in is recognised by what is happening to them, who sent them or where they are,
never when a roster patient arrives, a count is asked or the word is negated; times that date the
past or are replaced are not the window; bare clinic-hour ranges; a report's period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from assistant.parse import parse
from tests.nlu.roster_data import roster

NOW = datetime.fromisoformat("2026-12-02T10:15:00-05:00")  # a Wednesday


def _frame(text: str, actor: str | None = "s-okafor") -> dict[str, Any]:
    return parse(text, roster=roster(), now=NOW, actor=actor)


def _window(text: str) -> tuple[str, str] | None:
    window = _frame(text)["window"]
    return None if window is None else (window["start"][:16], window["end"][:16])


@pytest.mark.parametrize(
    "text",
    [
        "nope, those times are all too late for her",
        "neither of them works, she has kids after school",
        "none of those, I'm out that week anyway",
        "not option 2 or 3, and 1 is too early",
        "she said no to both of the slots",
        "ugh no, the first one clashes with his job",
        "any later? he gets off at 5",
        "can't do either, anything the week after?",
        "don't book any of them, he left",
        "thanks, but neither slot works for the family",
        "I have to decline those, his insurance won't cover them",
    ],
)
def test_a_refusal_with_its_reason_is_a_decline(text: str) -> None:
    frame = _frame(text)
    assert frame["intent"] == "decline", text
    assert frame["window"] is None and frame["patient"] is None  # the reason is no request


@pytest.mark.parametrize(
    "text",
    [
        "no-show rate for october",
        "no need for the 3pm anymore, cancel it",
        "move Tyler Johnson to friday at 1, no wait, 2",
        "no wait, book Tyler Johnson thursday at 2 instead",
    ],
)
def test_no_is_not_a_decline_everywhere(text: str) -> None:
    assert _frame(text)["intent"] != "decline"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("take Tyler Johnson off my friday list, he moved away", "cancel"),
        ("Maria Lopez's 1:1 tomorrow is off, family thing", "cancel"),
        ("Jamie Rivera can't make it in today, wants monday at 11 instead", "reschedule"),
        ("block me 1-3 today, I have a training", "staff_unavailable"),
        ("nobody book me before noon on thursday", "staff_unavailable"),
        ("hospital rounds friday, please don't book anything before 11", "staff_unavailable"),
        ("I'll be 20 min late for my 10:30, traffic", "staff_unavailable"),
        ("Maria Lopez wants the 3:30 with Dr Raman on friday, please book it", "book"),
        ("is there a command to list today's no-shows", "help"),
        ("can this thing cancel a whole series", "help"),
    ],
)
def test_word_classes_give_the_intent(text: str, intent: str) -> None:
    assert _frame(text)["intent"] == intent, text


@pytest.mark.parametrize(
    "text",
    [
        "guy in the parking lot shaking, says he's been drinking for a week, can anyone see him",
        "grandma on the phone, her grandson relapsed last night, can we fit him in today",
        "hospital is discharging someone to us this afternoon, needs an intake",
        "woman at the front window, dope sick, asking for help",
    ],
)
def test_a_walk_in_in_other_words_is_an_emergency(text: str) -> None:
    assert _frame(text)["intent"] == "emergency_intake", text


@pytest.mark.parametrize(
    "text",
    [
        "Tyler Johnson just walked in for his 2pm",  # a roster patient arriving
        "how many walk-ins showed up last week",  # a count: a report
        "court referral for next month, not urgent, find an intake slot",
        "I'm at the hospital till 3, can someone cover my 1pm",  # the sender is away
        "cancel the intake for the walk-in, he left",
    ],
)
def test_what_is_not_an_emergency(text: str) -> None:
    assert _frame(text)["intent"] != "emergency_intake", text


def test_an_emergency_to_be_assessed_is_an_intake_assessment() -> None:
    frame = _frame("police brought a man in, he needs to be assessed right away")
    assert frame["intent"] == "emergency_intake"
    assert frame["session_type"] == "intake_assessment"


def test_a_minor_by_age_needs_an_adolescent_clinician() -> None:
    frame = _frame("mom on the line, her son is 16, been using pills, can someone see him today")
    assert "adolescent" in frame["needs"]
    assert "adolescent" not in _frame("he's 15 min late")["needs"]


@pytest.mark.parametrize(
    ("text", "window"),
    [
        # the past dates what happened; the window is what is asked for
        (
            "walk-in, been using since monday, can someone see him now",
            ("2026-12-02T10:15", "2026-12-02T14:15"),
        ),
        (
            "brother OD'd last night, family wants him seen today",
            ("2026-12-02T00:00", "2026-12-03T00:00"),
        ),
        # the time replaced is not the window
        (
            "can Jamie Rivera do friday instead of thursday",
            ("2026-12-04T00:00", "2026-12-05T00:00"),
        ),
        # bare clinic-hour ranges
        ("out 1-3 today for a meeting", ("2026-12-02T13:00", "2026-12-02T15:00")),
        ("training tomorrow 9-12", ("2026-12-03T09:00", "2026-12-03T12:00")),
        # a report's period wins over the day it is wanted
        (
            "no-show rate for last month, I need it for friday's meeting",
            ("2026-11-01T00:00", "2026-12-01T00:00"),
        ),
        # within the hour: from now
        (
            "walk-in in withdrawal, needs to be seen within the hour",
            ("2026-12-02T10:15", "2026-12-02T11:15"),
        ),
    ],
)
def test_window(text: str, window: tuple[str, str]) -> None:
    assert _window(text) == window, text


def test_a_bare_range_of_counts_is_no_time() -> None:
    assert _frame("find 2-3 sessions for Tyler Johnson next week")["window"] == {
        "start": "2026-12-07T00:00:00-05:00",
        "end": "2026-12-14T00:00:00-05:00",
    }
