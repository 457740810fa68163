"""The series recogniser (assistant/parse/series.py): weekly bookings and changes to a series
are told by the added frame fields `repeat` and `scope`; every other message keeps its shape."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from assistant.parse import FIELDS, parse
from assistant.roster import Roster
from tests.nlu.roster_data import roster

NOW = datetime.fromisoformat("2026-11-30T08:30:00-05:00")  # a Monday
CONTRACT = Path(__file__).resolve().parents[2] / "clinic" / "schemas" / "request-frame.schema.json"


@pytest.fixture(scope="module")
def harbor() -> Roster:
    return roster()


def frame(harbor: Roster, text: str) -> dict[str, Any]:
    found = parse(text, roster=harbor, now=NOW, actor="s-okafor")
    validator = jsonschema.Draft202012Validator(json.loads(CONTRACT.read_text()))
    validator.validate(found)
    return found


def test_every_tuesday_for_8_weeks(harbor: Roster) -> None:
    f = frame(harbor, "book Jamie with Okafor every Tuesday at 2 pm for 8 weeks")
    assert f["intent"] == "book" and f["patient"]["id"] == "p-rivera"
    assert f["staff"]["id"] == "s-okafor"
    assert f["repeat"] == {
        "every": "week",
        "weekday": "tue",
        "time": "14:00",
        "count": 8,
        "until": None,
    }


def test_weekly_on_thursdays_until_a_day(harbor: Roster) -> None:
    f = frame(harbor, "weekly on thursdays at 10 until Jan 31")
    assert f["intent"] == "book"
    assert f["repeat"]["weekday"] == "thu" and f["repeat"]["time"] == "10:00"
    assert f["repeat"]["until"] == "2027-01-31" and f["repeat"]["count"] is None


@pytest.mark.parametrize(
    ("text", "scope", "weekday"),
    [
        ("cancel all of Jamie's Tuesday sessions with Okafor", "all", "tue"),
        ("cancel this and following", "following", None),
        ("cancel Jamie's Tuesday session on Jan 5 and all following", "following", "tue"),
        ("cancel just Jamie's Tuesday session on Dec 15", "this", "tue"),
    ],
)
def test_changes_to_a_series_say_their_scope(
    harbor: Roster, text: str, scope: str, weekday: str | None
) -> None:
    f = frame(harbor, text)
    assert f["intent"] == "cancel" and f["scope"] == scope
    assert (f["repeat"] or {}).get("weekday") == weekday


def test_the_date_beside_the_weekday_is_the_occurrence(harbor: Roster) -> None:
    f = frame(harbor, "cancel Jamie's Tuesday session on Jan 5 and all following")
    assert f["window"]["start"] == "2027-01-05T00:00:00-05:00"


@pytest.mark.parametrize(
    "text",
    [
        "book Jamie with Okafor tomorrow at 2",
        "any openings for a 1:1 w/ Okafor thurs morning?",
        "cancel all of Jamie's sessions today",
        "cancel Jamie's 2pm tomorrow",
    ],
)
def test_other_messages_keep_their_shape(harbor: Roster, text: str) -> None:
    assert list(frame(harbor, text)) == list(FIELDS)
