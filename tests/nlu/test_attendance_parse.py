"""Attendance in words (assistant/parse/attendance.py): added frame fields, the contract's
intents unchanged, and no message of the labelled set taken for one."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from assistant.parse import parse
from assistant.roster import Roster
from tests.nlu.labelled import load
from tests.nlu.roster_data import roster

CONTRACT = Path(__file__).resolve().parents[2] / "clinic" / "schemas" / "request-frame.schema.json"
NOW = datetime.fromisoformat("2026-12-02T17:30:00-05:00")
ACTOR = "s-okafor"
JAMIE = {"text": "Jamie", "id": "p-rivera"}


@pytest.fixture(scope="module")
def names() -> Roster:
    return roster()


CASES: list[tuple[str, dict[str, Any]]] = [
    ("Jamie checked in", {"intent": "unknown", "action": "check_in", "patient": JAMIE}),
    ("Jamie is here", {"action": "check_in", "patient": JAMIE}),
    ("check in Jamie", {"action": "check_in", "patient": JAMIE}),
    ("Jamie attended", {"intent": "unknown", "action": "attended", "patient": JAMIE}),
    ("mark Jamie as attended", {"action": "attended", "patient": JAMIE}),
    (
        "mark my 2pm a no-show",
        {"intent": "unknown", "action": "no_show", "at": "14:00", "day": "2026-12-02",
         "metric": None, "staff": {"text": "my", "id": ACTOR}},
    ),
    ("Jamie was a no-show", {"intent": "unknown", "action": "no_show", "metric": None}),
    ("Jamie no-showed", {"action": "no_show", "patient": JAMIE}),
    ("Jamie didn't show yesterday", {"action": "no_show", "day": "2026-12-01"}),
    (
        "Jamie cancelled late for today's group",
        {"intent": "cancel", "action": "late_cancel", "patient": JAMIE, "session_type": "group"},
    ),
    (
        "Jamie is running 15 minutes late",
        {"intent": "unknown", "action": "running_late", "minutes": 15, "patient": JAMIE},
    ),
    ("Jamie is running late", {"action": "running_late", "minutes": None}),
    ("my 3:30 is running 20 minutes over", {"action": "running_over", "at": "15:30", "minutes": 20}),
    (
        "all my sessions today were attended except Jamie's",
        {"action": "attended", "bulk": True, "patient": None, "except_patients": [JAMIE],
         "staff": {"text": "my", "id": ACTOR}},
    ),
    (
        "all my sessions today were attended except Jamie who no-showed",
        {"action": "attended", "bulk": True, "except_action": "no_show"},
    ),
    ("what hasn't been marked today?", {"intent": "unknown", "action": "unmarked"}),
    ("anything unmarked?", {"action": "unmarked"}),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_attendance_messages_get_their_own_fields(
    names: Roster, text: str, expected: dict[str, Any]
) -> None:
    frame = parse(text, roster=names, now=NOW, actor=ACTOR)
    assert {k: frame.get(k) for k in expected} == expected
    schema = json.loads(CONTRACT.read_text())
    jsonschema.validate(frame, schema)  # still a contract frame: only fields were added


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I'm running 15 minutes late", "staff_unavailable"),
        ("okafor running 15 minutes late", "staff_unavailable"),
        ("what was our no-show rate last month", "utilization_summary"),
        ("no shows for group last month?", "utilization_summary"),
        ("cancel Jamie's appointment tomorrow", "cancel"),
        ("find a check-in slot for Jamie tomorrow", "find_slot"),
    ],
)
def test_other_messages_keep_their_meaning(names: Roster, text: str, intent: str) -> None:
    frame = parse(text, roster=names, now=NOW, actor=ACTOR)
    assert frame["intent"] == intent and frame.get("action") is None


def test_no_labelled_message_is_taken_for_attendance(names: Roster) -> None:
    flagged = [
        c.text
        for c in load()
        if parse(c.text, roster=names, now=c.now, actor=c.actor).get("action")
    ]
    assert flagged == []
