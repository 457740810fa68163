"""The deterministic parser against the labelled set and the contract."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest

from assistant.parse import FIELDS, parse
from assistant.roster import Roster
from tests.nlu.labelled import load, score
from tests.nlu.roster_data import roster

# The contract as vendored in the repo (identical to ../shared/contracts), so this runs in CI.
CONTRACT = Path(__file__).resolve().parents[2] / "clinic" / "schemas" / "request-frame.schema.json"
NOW = datetime.fromisoformat("2026-12-02T10:15:00-05:00")


@pytest.fixture(scope="module")
def demo_roster() -> Roster:
    return roster()


def test_labelled_set_is_large_and_covers_every_intent() -> None:
    cases = load()
    assert len(cases) >= 200
    intents = {c.expected["intent"] for c in cases}
    schema_intents = {
        "find_slot", "book", "cancel", "reschedule", "schedule_lookup", "staff_unavailable",
        "emergency_intake", "utilization_summary", "compliance_report", "confirm", "decline",
        "help", "unknown",
    }  # fmt: skip
    assert intents == schema_intents


def test_labelled_accuracy_at_least_95_percent(demo_roster: Roster) -> None:
    result = score(load(), lambda c: parse(c.text, roster=demo_roster, now=c.now, actor=c.actor))
    print(json.dumps({k: v for k, v in result.items() if k != "misses"}, indent=1))
    assert result["exact_frames"] >= 0.95, result["misses"][:10]


def test_frames_validate_against_the_contract(demo_roster: Roster) -> None:
    schema = json.loads(CONTRACT.read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for case in load():
        frame = parse(case.text, roster=demo_roster, now=case.now, actor=case.actor)
        validator.validate(frame)
        assert list(frame) == list(FIELDS)


def test_windows_carry_the_facility_offset_across_dst(demo_roster: Roster) -> None:
    before = datetime.fromisoformat("2026-03-07T09:00:00-05:00")
    frame = parse("find a slot tomorrow", roster=demo_roster, now=before)
    # spring forward: the day is 23 hours long and ends in daylight time
    assert frame["window"] == {
        "start": "2026-03-08T00:00:00-05:00",
        "end": "2026-03-09T00:00:00-04:00",
    }


def test_now_in_utc_is_read_in_the_facility_timezone(demo_roster: Roster) -> None:
    frame = parse("find a slot tomorrow", roster=demo_roster, now=NOW)
    utc = parse(
        "find a slot tomorrow",
        roster=demo_roster,
        now=datetime.fromisoformat("2026-12-02T15:15:00+00:00"),
    )
    assert frame["window"] == utc["window"]
    assert utc["window"]["start"] == "2026-12-03T00:00:00-05:00"


def test_ambiguous_name_gives_candidates_and_lower_confidence(demo_roster: Roster) -> None:
    clear = parse("cancel Alex Kim's session tomorrow", roster=demo_roster, now=NOW)
    vague = parse("cancel Alex's session tomorrow", roster=demo_roster, now=NOW)
    assert clear["patient"] == {"text": "Alex Kim", "id": "p-kim"}
    assert vague["patient"] == {"text": "Alex", "id": None, "candidates": ["p-kim", "p-morgan"]}
    assert vague["confidence"] < clear["confidence"]


def test_misspelling_and_nickname_resolve(demo_roster: Roster) -> None:
    assert parse("slot for Jaime", roster=demo_roster, now=NOW)["patient"]["id"] == "p-rivera"
    assert parse("slot for Katie", roster=demo_roster, now=NOW)["patient"]["id"] == "p-oneil"
    typo = parse("book Elizabth Nguyenn friday", roster=demo_roster, now=NOW)
    assert typo["patient"]["id"] == "p-enguyen"


def test_confidence_reflects_understanding(demo_roster: Roster) -> None:
    good = parse("book Jamie with Dr. Raman friday at 10", roster=demo_roster, now=NOW)
    noise = parse("blorp the zanzibar quux for fizzbuzz", roster=demo_roster, now=NOW)
    assert good["confidence"] >= 0.9
    assert noise["intent"] == "unknown" and noise["confidence"] < 0.4


def test_empty_roster_still_parses_times_and_intents() -> None:
    frame = parse(
        "find a 1:1 slot for Jamie tomorrow afternoon",
        roster=Roster(timezone="America/New_York"),
        now=NOW,
    )
    assert frame["intent"] == "find_slot"
    assert frame["patient"] == {"text": "Jamie", "id": None}  # named, but not on any roster
    assert frame["window"]["start"] == "2026-12-03T12:00:00-05:00"


def test_unknown_person_after_for_is_kept_without_id() -> None:
    frame = parse(
        "intake for Jordan Blake tomorrow", roster=Roster(timezone="America/New_York"), now=NOW
    )
    assert frame["patient"] == {"text": "Jordan Blake", "id": None}


@pytest.mark.parametrize(
    ("text", "action", "group", "room"),
    [
        (
            "add Jamie to the Tuesday relapse-prevention group",
            "enroll",
            "Tuesday relapse-prevention group",
            None,
        ),
        ("please enrol Maria Lopez in DBT skills group", "enroll", "DBT skills group", None),
        ("remove Jamie from the relapse group", "unenroll", "relapse group", None),
        (
            "take Tyler Johnson out of the early recovery group",
            "unenroll",
            "early recovery group",
            None,
        ),
        ("Group room A is closed tomorrow", "room_closed", None, "r-grp-a"),
        ("Room 102 is out of service Dec 3", "room_closed", None, "r-102"),
    ],
)
def test_group_and_room_changes_keep_the_contract_intent_and_say_the_action(
    demo_roster: Roster, text: str, action: str, group: str | None, room: str | None
) -> None:
    frame = parse(text, roster=demo_roster, now=NOW, actor="s-wright")
    schema = json.loads(CONTRACT.read_text())
    jsonschema.Draft202012Validator(schema).validate(frame)
    assert frame["intent"] == "unknown" and frame["action"] == action
    assert (frame["group"] or {}).get("text") == group
    assert (frame["room"] or {}).get("id") == room
    if group:
        assert frame["patient"]["id"]
    assert frame["confidence"] >= 0.9  # no model is asked to guess


# The living record: requests the contract's intents do not cover carry an `action`.
RECORD_CASES = [
    (
        "admit Maria Lopez to IOP, Medicaid, 24 units through Jan 31, needs a Spanish-speaking "
        "clinician",
        "admit_patient",
        {
            "name": "Maria Lopez",
            "level_of_care": "2.1",
            "needs": ["spanish_speaking"],
            "authorization": {"payer": "Medicaid", "units": 24, "end": "2027-01-31"},
        },
    ),
    ("discharge Jamie", "discharge_patient", {}),
    ("discharge Jamie, moved out of state", "discharge_patient", {"reason": "moved out of state"}),
    ("Jamie's consent to share with probation", "record_consent", {"recipient": "probation"}),
    (
        "Jamie consents to share attendance with her probation officer until Jun 30",
        "record_consent",
        {"recipient": "probation", "information": "attendance", "until": "2027-06-30"},
    ),
    ("Jamie revoked consent for probation", "revoke_consent", {"recipient": "probation"}),
    ("step Jamie down to OP", "update_patient", {"level_of_care": "1.0"}),
    ("Jamie is now in maintenance phase", "update_patient", {"phase": "maintenance"}),
    (
        "Jamie got a new Aetna authorization, 12 units through Mar 31",
        "add_authorization",
        {"payer": "Aetna", "units": 12, "end": "2027-03-31"},
    ),
]


@pytest.mark.parametrize(("text", "action", "details"), RECORD_CASES)
def test_living_record_requests_name_their_action(
    demo_roster: Roster, text: str, action: str, details: dict[str, object]
) -> None:
    frame = parse(text, roster=demo_roster, now=NOW)
    assert (frame["intent"], frame["action"], frame["details"]) == ("unknown", action, details)
    if action != "admit_patient":
        assert frame["patient"] == {"text": "Jamie", "id": "p-rivera"}


@pytest.mark.parametrize(
    "text",
    ["book a group session for Jamie tomorrow", "I'm out sick today", "Daniel Okafor is out today"],
)
def test_other_requests_have_no_action(demo_roster: Roster, text: str) -> None:
    assert parse(text, roster=demo_roster, now=NOW, actor="s-patel")["action"] is None


def test_two_dates_joined_by_to_are_a_period(demo_roster: Roster) -> None:
    frame = parse("Sam Patel is on leave Dec 21 to Jan 1", roster=demo_roster, now=NOW)
    assert frame["intent"] == "staff_unavailable" and frame["staff"]["id"] == "s-patel"
    assert frame["window"] == {
        "start": "2026-12-21T00:00:00-05:00",
        "end": "2027-01-02T00:00:00-05:00",
    }


@pytest.mark.parametrize(
    "text",
    [
        "authorization status for Jamie Rivera",
        "does Jamie have consent to share with probation?",
        "move Jamie's session to Friday",
        "move Lopez's intake to Dec 3 at 2",
        "new admit just walked in, needs intake before 1",
    ],
)
def test_questions_and_appointment_requests_name_no_action(demo_roster: Roster, text: str) -> None:
    frame = parse(text, roster=demo_roster, now=NOW)
    assert frame["action"] is None and "details" not in frame
