"""Slots a real message carries (issue 16): options picked by words, a month named alone,
"later this afternoon", and first-person words that leave staff to the dialogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from assistant.parse import parse
from tests.nlu.roster_data import roster

NOW = datetime.fromisoformat("2026-12-02T14:30:00-05:00")  # a Wednesday afternoon


def _parse(text: str) -> dict[str, Any]:
    return parse(text, roster=roster(), now=NOW, actor="s-okafor")


@pytest.mark.parametrize(
    ("text", "option", "staff", "start"),
    [
        ("option two works", 2, None, None),
        ("option three for Luis", 3, None, None),
        ("the 4pm one", None, None, "2026-12-02T16:00:00-05:00"),
        ("ok book the 4:30 pls", None, None, "2026-12-02T16:30:00-05:00"),
        ("go w/ the one with Okafor", None, "s-okafor", None),
        ("the friday one", None, None, "2026-12-04T00:00:00-05:00"),
    ],
)
def test_an_option_picked_by_words_is_a_confirm(
    text: str, option: int | None, staff: str | None, start: str | None
) -> None:
    frame = _parse(text)
    assert frame["intent"] == "confirm"
    assert frame["option"] == option
    assert (frame["staff"] or {}).get("id") == staff
    assert (frame["window"] or {}).get("start") == start


@pytest.mark.parametrize("text", ["the schedule for tomorrow", "the 2pm with okafor is cancelled"])
def test_a_sentence_that_starts_with_the_is_not_a_pick(text: str) -> None:
    assert _parse(text)["intent"] != "confirm"


def test_a_month_named_alone_is_the_nearest_whole_month() -> None:
    assert _parse("court compliance report for november")["window"] == {
        "start": "2026-11-01T00:00:00-04:00",
        "end": "2026-12-01T00:00:00-05:00",
    }
    assert _parse("staff utilization for january")["window"]["start"] == (
        "2027-01-01T00:00:00-05:00"
    )


def test_later_this_afternoon_starts_now_when_the_afternoon_has_begun() -> None:
    frame = _parse("move Tyler to later this afternoon")
    assert frame["window"] == {
        "start": "2026-12-02T14:30:00-05:00",
        "end": "2026-12-02T17:00:00-05:00",
    }


def test_the_rest_of_the_week_runs_to_next_monday() -> None:
    frame = _parse("Okafor is out rest of the week")
    assert frame["window"]["end"] == "2026-12-07T00:00:00-05:00"


def test_first_person_words_leave_staff_null() -> None:
    for text in ("I'm out sick today", "what's on my schedule today", "cancel my 3 o'clock"):
        assert _parse(text)["staff"] is None, text
    assert _parse("Dr. Raman is out sick tomorrow")["staff"]["id"] == "s-raman"
